//! Reading timestamps: ISO 8601 (what Logic Apps expects), a few en-US and RFC 1123 forms, and
//! exact parsing against a .NET custom format.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use super::format::{DAYS, MONTHS, Token, tokens};
use super::{Kind, Stamp};

/// Formats tried after ISO 8601, in order.
const FALLBACK_FORMATS: &[&str] = &[
    "M/d/yyyy h:mm:ss tt",
    "M/d/yyyy h:mm tt",
    "M/d/yyyy H:mm:ss",
    "M/d/yyyy H:mm",
    "M/d/yyyy",
    "ddd, d MMM yyyy H:mm:ss 'GMT'",
    "ddd, d MMM yyyy H:mm:ss K",
    "d MMM yyyy H:mm:ss",
    "d MMM yyyy",
    "MMMM d, yyyy",
    "MMMM d, yyyy h:mm:ss tt",
    "yyyy/M/d H:mm:ss",
    "yyyy/M/d",
];

/// Parses a timestamp the way Logic Apps accepts it.
pub(crate) fn parse_timestamp(text: &str) -> Option<Stamp> {
    let text = text.trim();
    parse_iso(text).or_else(|| {
        FALLBACK_FORMATS.iter().find_map(|f| {
            let stamp = parse_exact(text, f)?;
            Some(if f.contains("GMT") { Stamp { kind: Kind::Utc, ..stamp } } else { stamp })
        })
    })
}

/// A cursor over ASCII input.
struct Cursor<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self { bytes: text.as_bytes(), text, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    /// Between `min` and `max` digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let start = self.pos;
        while self.pos - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let len = self.pos - start;
        if len < min {
            return None;
        }
        self.text[start..self.pos].parse().ok().map(|n| (n, len))
    }

    /// A case-insensitive literal.
    fn literal(&mut self, lit: &str) -> bool {
        let end = self.pos + lit.len();
        let hit = self.text.get(self.pos..end).is_some_and(|s| s.eq_ignore_ascii_case(lit));
        if hit {
            self.pos = end;
        }
        hit
    }

    /// One of `names` (full, or its first three letters when `short`); returns the index.
    fn name(&mut self, names: &[&str], short: bool) -> Option<usize> {
        let found = names.iter().position(|n| {
            let candidate = if short { &n[..3] } else { n };
            self.text
                .get(self.pos..self.pos + candidate.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(candidate))
        })?;
        self.pos += if short { 3 } else { names[found].len() };
        Some(found)
    }

    /// `Z`, or `±HH[:]MM` / `±HH`, as seconds east of UTC.
    fn offset(&mut self) -> Option<i32> {
        if self.eat(b'Z') || self.eat(b'z') {
            return Some(0);
        }
        let sign = match self.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.pos += 1;
        let (hours, _) = self.digits(1, 2)?;
        let minutes = if self.eat(b':') || self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.digits(2, 2)?.0
        } else {
            0
        };
        (hours <= 14 && minutes < 60).then(|| sign * (hours * 3600 + minutes * 60) as i32)
    }
}

/// The parsed fields of a timestamp.
#[derive(Default)]
struct Fields {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    pm: Option<bool>,
    offset: Option<i32>,
}

impl Fields {
    fn build(self) -> Option<Stamp> {
        let hour = match self.pm {
            Some(pm) if (1..=12).contains(&self.hour) => self.hour % 12 + if pm { 12 } else { 0 },
            Some(_) => return None,
            None => self.hour,
        };
        let date =
            NaiveDate::from_ymd_opt(self.year.unwrap_or(1), self.month.unwrap_or(1), self.day.unwrap_or(1))?;
        let local: NaiveDateTime = date.and_hms_nano_opt(hour, self.minute, self.second, self.nanos)?;
        Some(match self.offset {
            Some(offset) => {
                Stamp::new(local.checked_sub_signed(TimeDelta::seconds(i64::from(offset)))?, Kind::Utc)
            }
            None => Stamp::new(local, Kind::Unspecified),
        })
    }
}

/// Fraction digits as nanoseconds (beyond 9 digits ignored).
fn fraction_nanos(digits: &str) -> u32 {
    let mut padded: String = digits.chars().take(9).collect();
    while padded.len() < 9 {
        padded.push('0');
    }
    padded.parse().unwrap_or(0)
}

/// `yyyy-MM-dd[(T| )HH:mm[:ss[.f+]]][Z|±HH:mm]`.
fn parse_iso(text: &str) -> Option<Stamp> {
    let mut c = Cursor::new(text);
    let mut f = Fields { year: Some(c.digits(4, 4)?.0 as i32), ..Fields::default() };
    if !c.eat(b'-') {
        return None;
    }
    f.month = Some(c.digits(1, 2)?.0);
    if !c.eat(b'-') {
        return None;
    }
    f.day = Some(c.digits(1, 2)?.0);
    if c.eat(b'T') || c.eat(b't') || c.eat(b' ') {
        f.hour = c.digits(1, 2)?.0;
        if !c.eat(b':') {
            return None;
        }
        f.minute = c.digits(2, 2)?.0;
        if c.eat(b':') {
            f.second = c.digits(2, 2)?.0;
            if c.eat(b'.') || c.eat(b',') {
                let start = c.pos;
                while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                    c.pos += 1;
                }
                if c.pos == start {
                    return None;
                }
                f.nanos = fraction_nanos(&text[start..c.pos]);
            }
        }
    }
    if !c.done() {
        f.offset = Some(c.offset()?);
    }
    if !c.done() {
        return None;
    }
    f.build()
}

/// Parses `text` against a .NET custom (or standard) date and time format, case-insensitively.
pub(crate) fn parse_exact(text: &str, format: &str) -> Option<Stamp> {
    let tokens = tokens(format).ok()?;
    let mut c = Cursor::new(text.trim());
    let mut f = Fields::default();
    for token in tokens {
        match token {
            Token::Literal(lit) if lit.trim().is_empty() && !lit.is_empty() => {
                if !c.peek().is_some_and(|b| b.is_ascii_whitespace()) {
                    return None;
                }
                while c.peek().is_some_and(|b| b.is_ascii_whitespace()) {
                    c.pos += 1;
                }
            }
            Token::Literal(lit) => {
                if !c.literal(&lit) {
                    return None;
                }
            }
            Token::Spec(ch, n) => spec(&mut c, &mut f, ch, n)?,
        }
    }
    if !c.done() {
        return None;
    }
    f.build()
}

fn spec(c: &mut Cursor<'_>, f: &mut Fields, ch: char, n: usize) -> Option<()> {
    let width = if n == 1 { (1, 2) } else { (2, 2) };
    match (ch, n) {
        ('d', 1 | 2) => f.day = Some(c.digits(width.0, width.1)?.0),
        ('d', 3) => {
            c.name(&DAYS, true)?;
        }
        ('d', _) => {
            c.name(&DAYS, false)?;
        }
        ('M', 1 | 2) => f.month = Some(c.digits(width.0, width.1)?.0),
        ('M', 3) => f.month = Some(c.name(&MONTHS, true)? as u32 + 1),
        ('M', _) => f.month = Some(c.name(&MONTHS, false)? as u32 + 1),
        ('y', 1 | 2) => {
            let (y, _) = c.digits(n, 2)?;
            f.year = Some(if y < 50 { 2000 + y as i32 } else { 1900 + y as i32 });
        }
        ('y', _) => f.year = Some(c.digits(n.min(4), n.max(4))?.0 as i32),
        ('h' | 'H', _) => f.hour = c.digits(width.0, width.1)?.0,
        ('m', _) => f.minute = c.digits(width.0, width.1)?.0,
        ('s', _) => f.second = c.digits(width.0, width.1)?.0,
        ('f' | 'F', 1..=7) => {
            let start = c.pos;
            while c.pos - start < n && c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.pos += 1;
            }
            if ch == 'f' && c.pos - start < n {
                return None;
            }
            f.nanos = fraction_nanos(&c.text[start..c.pos]);
        }
        ('t', _) => {
            f.pm = Some(if c.literal("PM") || c.literal("P") {
                true
            } else if c.literal("AM") || c.literal("A") {
                false
            } else {
                return None;
            });
        }
        ('K' | 'z', _) => f.offset = Some(c.offset()?),
        ('g', _) => {
            c.literal("A.D.");
        }
        _ => return None,
    }
    Some(())
}
