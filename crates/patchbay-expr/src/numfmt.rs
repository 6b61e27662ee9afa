//! .NET numeric format strings (standard `C`, `D`, `E`, `F`, `G`, `N`, `P`, `R`, `X` and custom
//! `0`/`#` patterns) and the few cultures `formatNumber`, `isFloat` and `float` accept.

use crate::error::{EvalError, EvalErrorKind};
use crate::value::{Num, format_double};

/// Number formatting data of one culture.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Culture {
    /// Lower-case culture name.
    pub name: &'static str,
    /// Decimal separator.
    pub decimal: &'static str,
    /// Group separator.
    pub group: &'static str,
    /// Currency pattern, `n` standing for the number.
    pub currency: &'static str,
    /// Percent pattern, `n` standing for the number.
    pub percent: &'static str,
}

const fn culture_of(
    name: &'static str,
    decimal: &'static str,
    group: &'static str,
    currency: &'static str,
    percent: &'static str,
) -> Culture {
    Culture { name, decimal, group, currency, percent }
}

/// The supported cultures; the first is the default (`en-US`).
const CULTURES: &[Culture] = &[
    culture_of("en-us", ".", ",", "$n", "n%"),
    culture_of("", ".", ",", "¤n", "n %"),
    culture_of("en-gb", ".", ",", "£n", "n%"),
    culture_of("en-ca", ".", ",", "$n", "n%"),
    culture_of("en-au", ".", ",", "$n", "n%"),
    culture_of("en-in", ".", ",", "₹n", "n%"),
    culture_of("de-de", ",", ".", "n €", "n %"),
    culture_of("de-at", ",", "\u{a0}", "€\u{a0}n", "n\u{a0}%"),
    culture_of("de-ch", ".", "’", "CHF n", "n%"),
    culture_of("fr-fr", ",", "\u{202f}", "n\u{a0}€", "n\u{a0}%"),
    culture_of("es-es", ",", ".", "n\u{a0}€", "n\u{a0}%"),
    culture_of("it-it", ",", ".", "n\u{a0}€", "n%"),
    culture_of("nl-nl", ",", ".", "€\u{a0}n", "n%"),
    culture_of("pt-br", ",", ".", "R$\u{a0}n", "n%"),
    culture_of("is-is", ",", ".", "n kr.", "n%"),
    culture_of("sv-se", ",", "\u{a0}", "n\u{a0}kr", "n\u{a0}%"),
    culture_of("ja-jp", ".", ",", "￥n", "n%"),
];

/// The culture named `name` (case-insensitive; `None` means en-US).
pub(crate) fn culture(name: Option<&str>) -> Result<Culture, EvalError> {
    let Some(name) = name else { return Ok(CULTURES[0]) };
    let lower = name.to_ascii_lowercase();
    CULTURES.iter().find(|c| c.name == lower).copied().ok_or_else(|| {
        EvalError::new(EvalErrorKind::NotImplemented, format!("the locale '{name}' is not supported yet"))
    })
}

/// Parses a culture-formatted floating-point number (group separators allowed).
pub(crate) fn parse_float(text: &str, culture: Culture) -> Option<f64> {
    let text = text.trim();
    let cleaned = text.replace(culture.group, "").replace(culture.decimal, ".");
    let ok = !cleaned.is_empty()
        && cleaned.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && cleaned.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    cleaned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// An exact decimal: sign, integer digits (no leading zeros) and fraction digits.
#[derive(Debug, Clone)]
struct Dec {
    neg: bool,
    int: Vec<u8>,
    frac: Vec<u8>,
}

impl Dec {
    /// The decimal of a number (doubles by their shortest round-trip digits).
    fn of(n: Num) -> Dec {
        let text = match n {
            Num::Int(i) => i.to_string(),
            Num::Float(f) => format!("{f}"),
        };
        let (neg, text) = text.strip_prefix('-').map_or((false, text.as_str()), |t| (true, t));
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let int: Vec<u8> = int.bytes().map(|b| b - b'0').skip_while(|&d| d == 0).collect();
        Dec { neg, int, frac: frac.bytes().map(|b| b - b'0').collect() }
    }

    fn is_zero(&self) -> bool {
        self.int.iter().chain(&self.frac).all(|&d| d == 0)
    }

    /// Multiplies by 10^k (k may be negative).
    fn shift(&mut self, k: i32) {
        let mut digits: Vec<u8> = self.int.iter().chain(&self.frac).copied().collect();
        let mut point = self.int.len() as i64 + i64::from(k);
        if point < 0 {
            let pad = point.unsigned_abs() as usize;
            digits.splice(0..0, std::iter::repeat_n(0, pad));
            point = 0;
        }
        let point = point as usize;
        if digits.len() < point {
            digits.resize(point, 0);
        }
        self.frac = digits.split_off(point);
        self.int = digits.into_iter().skip_while(|&d| d == 0).collect();
    }

    /// Rounds to `places` fraction digits, half away from zero.
    fn round(&mut self, places: usize) {
        if self.frac.len() <= places {
            self.frac.resize(places, 0);
            return;
        }
        let up = self.frac[places] >= 5;
        self.frac.truncate(places);
        if up {
            let mut digits: Vec<u8> = self.int.iter().chain(&self.frac).copied().collect();
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
            let int_len = digits.len() - places;
            self.frac = digits.split_off(int_len);
            self.int = digits.into_iter().skip_while(|&d| d == 0).collect();
        }
    }

    /// The significant digits and the decimal exponent of the first one.
    fn scientific(&self) -> (Vec<u8>, i64) {
        let all: Vec<u8> = self.int.iter().chain(&self.frac).copied().collect();
        let lead = all.iter().position(|&d| d != 0).unwrap_or(all.len());
        let exp = self.int.len() as i64 - lead as i64 - 1;
        (all[lead..].to_vec(), exp)
    }
}

fn digits_text(d: &[u8]) -> String {
    d.iter().map(|&x| char::from(b'0' + x)).collect()
}

/// Integer digits with a separator every three digits.
fn grouped(int: &[u8], group: &str) -> String {
    if int.is_empty() {
        return "0".into();
    }
    let mut out = String::new();
    for (i, d) in int.iter().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push_str(group);
        }
        out.push(char::from(b'0' + d));
    }
    out
}

fn fixed(dec: &Dec, group: Option<&str>, culture: Culture) -> String {
    let int = match group {
        Some(g) => grouped(&dec.int, g),
        None if dec.int.is_empty() => "0".into(),
        None => digits_text(&dec.int),
    };
    if dec.frac.is_empty() { int } else { format!("{int}{}{}", culture.decimal, digits_text(&dec.frac)) }
}

fn format_error(format: &str) -> EvalError {
    EvalError::invalid(format!("the format '{format}' is not a valid number format"))
}

/// Formats `n` with a .NET numeric format string.
pub(crate) fn format_number(n: Num, format: &str, culture: Culture) -> Result<String, EvalError> {
    let mut chars = format.chars();
    let standard = match (chars.next(), chars.as_str()) {
        (Some(c), rest)
            if c.is_ascii_alphabetic() && rest.len() <= 2 && rest.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some((c, rest.parse::<usize>().ok()))
        }
        _ => None,
    };
    match standard {
        Some((c, precision)) => standard_format(n, c, precision, format, culture),
        None => Ok(custom_format(n, format, culture)),
    }
}

fn signed(neg: bool, body: String) -> String {
    if neg { format!("-{body}") } else { body }
}

fn standard_format(
    n: Num,
    c: char,
    precision: Option<usize>,
    format: &str,
    culture: Culture,
) -> Result<String, EvalError> {
    let mut dec = Dec::of(n);
    let text = match c.to_ascii_uppercase() {
        'C' => {
            dec.round(precision.unwrap_or(2));
            let body = culture.currency.replace('n', &fixed(&dec, Some(culture.group), culture));
            signed(dec.neg && !dec.is_zero(), body)
        }
        'N' | 'F' => {
            dec.round(precision.unwrap_or(2));
            let group = (c.eq_ignore_ascii_case(&'N')).then_some(culture.group);
            signed(dec.neg && !dec.is_zero(), fixed(&dec, group, culture))
        }
        'P' => {
            dec.shift(2);
            dec.round(precision.unwrap_or(2));
            let body = culture.percent.replace('n', &fixed(&dec, Some(culture.group), culture));
            signed(dec.neg && !dec.is_zero(), body)
        }
        'D' => {
            let Num::Int(i) = n else { return Err(format_error(format)) };
            let digits = i.unsigned_abs().to_string();
            signed(i < 0, format!("{digits:0>width$}", width = precision.unwrap_or(0)))
        }
        'X' => {
            let Num::Int(i) = n else { return Err(format_error(format)) };
            let hex = if c == 'X' { format!("{i:X}") } else { format!("{i:x}") };
            format!("{hex:0>width$}", width = precision.unwrap_or(0))
        }
        'E' => exponential(&dec, precision.unwrap_or(6), c, culture),
        'G' | 'R' => match precision.filter(|&p| p > 0 && c.eq_ignore_ascii_case(&'G')) {
            None => general(n.as_f64(), culture),
            Some(p) => {
                let (digits, exp) = dec.scientific();
                let mut sig = Dec { neg: dec.neg, int: Vec::new(), frac: digits };
                sig.round(p);
                let value: f64 =
                    format!("{}0.{}e{}", if sig.neg { "-" } else { "" }, digits_text(&sig.frac), exp + 1)
                        .parse()
                        .unwrap_or(0.0);
                general(value, culture)
            }
        },
        _ => return Err(format_error(format)),
    };
    Ok(text)
}

fn general(f: f64, culture: Culture) -> String {
    format_double(f).replace('.', culture.decimal)
}

fn exponential(dec: &Dec, precision: usize, c: char, culture: Culture) -> String {
    let (digits, mut exp) = dec.scientific();
    if digits.is_empty() {
        exp = 0;
    }
    let mut mantissa = Dec {
        neg: dec.neg,
        int: digits.first().map(|&d| vec![d]).unwrap_or_default(),
        frac: digits.get(1..).unwrap_or_default().to_vec(),
    };
    mantissa.round(precision);
    if mantissa.int.len() > 1 {
        mantissa.shift(-1);
        mantissa.round(precision);
        exp += 1;
    }
    let e = if c.is_ascii_uppercase() { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    let body = format!("{}{e}{sign}{:03}", fixed(&mantissa, None, culture), exp.abs());
    signed(dec.neg && !digits.is_empty(), body)
}

/// One piece of a custom format section.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Zero,
    Hash,
    Point,
    Comma,
    Percent,
    PerMille,
    Literal(String),
}

fn pieces(section: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut chars = section.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '0' => Piece::Zero,
            '#' => Piece::Hash,
            '.' => Piece::Point,
            ',' => Piece::Comma,
            '%' => Piece::Percent,
            '‰' => Piece::PerMille,
            '\\' => Piece::Literal(chars.next().map(String::from).unwrap_or_default()),
            '\'' | '"' => Piece::Literal(chars.by_ref().take_while(|&q| q != c).collect()),
            other => Piece::Literal(other.to_string()),
        });
    }
    out
}

/// Splits a custom format into its `;` sections (ignoring quoted and escaped semicolons).
fn sections(format: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in format.chars() {
        let current = out.last_mut().expect("sections always has one entry");
        match (quote, c) {
            _ if escaped => {
                escaped = false;
                current.push(c);
            }
            (_, '\\') => {
                escaped = true;
                current.push(c);
            }
            (None, ';') => out.push(String::new()),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), _) if q == c => {
                quote = None;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    out
}

fn custom_format(n: Num, format: &str, culture: Culture) -> String {
    let sections = sections(format);
    let dec = Dec::of(n);
    let (section, show_sign) = match (sections.len(), dec.neg, dec.is_zero()) {
        (3.., _, true) => (&sections[2], false),
        (2.., true, false) if !sections[1].is_empty() => (&sections[1], false),
        _ => (&sections[0], dec.neg),
    };
    let body = render_custom(dec, &pieces(section), culture);
    if show_sign && body.chars().any(|c| c.is_ascii_digit() && c != '0') { format!("-{body}") } else { body }
}

/// Renders one custom section: digits are spread right-aligned over the integer placeholders.
fn render_custom(mut dec: Dec, pieces: &[Piece], culture: Culture) -> String {
    let point = pieces.iter().position(|p| *p == Piece::Point);
    let (int_part, frac_part) = pieces.split_at(point.unwrap_or(pieces.len()));
    let is_digit = |p: &&Piece| matches!(p, Piece::Zero | Piece::Hash);
    let int_places = int_part.iter().filter(is_digit).count();
    let frac_places = frac_part.iter().filter(is_digit).count();
    let frac_digits: Vec<&Piece> = frac_part.iter().filter(is_digit).collect();
    let min_frac = frac_digits.iter().rposition(|p| **p == Piece::Zero).map_or(0, |i| i + 1);
    // Commas right after the last integer placeholder scale by 1000; commas between them group.
    let last_int = int_part.iter().rposition(|p| is_digit(&p));
    let first_int = int_part.iter().position(|p| is_digit(&p));
    let trailing_commas =
        last_int.map_or(0, |l| int_part[l + 1..].iter().take_while(|p| **p == Piece::Comma).count());
    let grouping = match (first_int, last_int) {
        (Some(f), Some(l)) => int_part[f..l].contains(&Piece::Comma),
        _ => false,
    };
    let mut scale = -3 * trailing_commas as i32;
    scale += 2 * pieces.iter().filter(|p| **p == Piece::Percent).count() as i32;
    scale += 3 * pieces.iter().filter(|p| **p == Piece::PerMille).count() as i32;
    dec.shift(scale);
    dec.round(frac_places);
    let mut frac = dec.frac.clone();
    while frac.len() > min_frac && frac.last() == Some(&0) {
        frac.pop();
    }
    let digits = dec.int.clone();
    let zero_from = int_part.iter().filter(is_digit).position(|p| *p == Piece::Zero).unwrap_or(int_places);
    let width = digits.len().max(int_places - zero_from);
    let padded: Vec<u8> = std::iter::repeat_n(0, width - digits.len()).chain(digits).collect();
    let mut out = String::new();
    let mut k = 0usize;
    let mut emitted = 0usize;
    let emit = |out: &mut String, d: u8, emitted: &mut usize| {
        out.push(char::from(b'0' + d));
        *emitted += 1;
        let left = padded.len() - *emitted;
        if grouping && left > 0 && left.is_multiple_of(3) {
            out.push_str(culture.group);
        }
    };
    let mut frac_index = 0usize;
    let mut in_frac = false;
    for piece in pieces {
        match piece {
            Piece::Zero | Piece::Hash if !in_frac => {
                let slot = padded.len() as i64 - int_places as i64 + k as i64;
                if k == 0 && slot > 0 {
                    for &d in &padded[..=slot as usize] {
                        emit(&mut out, d, &mut emitted);
                    }
                } else if slot >= 0 {
                    emit(&mut out, padded[slot as usize], &mut emitted);
                }
                k += 1;
            }
            Piece::Zero | Piece::Hash => {
                if let Some(d) = frac.get(frac_index) {
                    out.push(char::from(b'0' + d));
                }
                frac_index += 1;
            }
            Piece::Point if !in_frac => {
                if int_places == 0 {
                    for &d in &padded {
                        emit(&mut out, d, &mut emitted);
                    }
                }
                in_frac = true;
                if !frac.is_empty() {
                    out.push_str(culture.decimal);
                }
            }
            Piece::Comma | Piece::Point => {}
            Piece::Percent => out.push('%'),
            Piece::PerMille => out.push('‰'),
            Piece::Literal(text) => out.push_str(text),
        }
    }
    out
}
