//! .NET date and time format strings (en-US): the standard one-letter formats and the custom
//! specifiers `d f F g h H K m M s t y z : /`, quoted literals, `\` escapes and `%`.

use chrono::{Datelike, Timelike};

use super::{Kind, Stamp};
use crate::error::EvalError;

/// Full and abbreviated English month names.
pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English day names, Sunday first.
pub(crate) const DAYS: [&str; 7] =
    ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// The custom pattern of a standard (one-character) format.
pub(crate) fn standard_pattern(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "M/d/yyyy",
        'D' => "dddd, MMMM d, yyyy",
        'f' => "dddd, MMMM d, yyyy h:mm tt",
        'F' | 'U' => "dddd, MMMM d, yyyy h:mm:ss tt",
        'g' => "M/d/yyyy h:mm tt",
        'G' => "M/d/yyyy h:mm:ss tt",
        'M' | 'm' => "MMMM d",
        'O' | 'o' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        'R' | 'r' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "h:mm tt",
        'T' => "h:mm:ss tt",
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        'Y' | 'y' => "MMMM yyyy",
        _ => return None,
    })
}

/// A piece of a custom pattern: a specifier letter repeated `count` times, or literal text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// A specifier letter and how many times it repeats.
    Spec(char, usize),
    /// Text copied as is.
    Literal(String),
}

/// The custom pattern for `format` (a standard format is expanded first).
pub(crate) fn tokens(format: &str) -> Result<Vec<Token>, EvalError> {
    let mut chars = format.chars();
    let pattern = match (chars.next(), chars.next()) {
        (Some(c), None) => standard_pattern(c).ok_or_else(|| {
            EvalError::invalid(format!("'{format}' is not a valid standard date and time format"))
        })?,
        _ => format,
    };
    let mut out = Vec::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            'd' | 'f' | 'F' | 'g' | 'h' | 'H' | 'K' | 'm' | 'M' | 's' | 't' | 'y' | 'z' => {
                let count = chars[i..].iter().take_while(|&&x| x == c).count();
                out.push(Token::Spec(c, count));
                i += count;
            }
            '\'' | '"' => {
                let close = chars[i + 1..].iter().position(|&x| x == c).ok_or_else(|| {
                    EvalError::invalid(format!("the format '{format}' has an unterminated quoted string"))
                })?;
                out.push(Token::Literal(chars[i + 1..i + 1 + close].iter().collect()));
                i += close + 2;
            }
            '\\' => {
                let next = chars.get(i + 1).ok_or_else(|| {
                    EvalError::invalid(format!("the format '{format}' ends with an escape character"))
                })?;
                out.push(Token::Literal(next.to_string()));
                i += 2;
            }
            '%' => {
                match chars.get(i + 1) {
                    Some(&n) if n != '%' => out.push(Token::Spec(n, 1)),
                    _ => return Err(EvalError::invalid(format!("the format '{format}' has a stray '%'"))),
                }
                i += 2;
            }
            other => {
                out.push(Token::Literal(other.to_string()));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Formats `stamp` with a .NET date and time format string.
pub(crate) fn format(stamp: &Stamp, format: &str) -> Result<String, EvalError> {
    let mut out = String::new();
    for token in tokens(format)? {
        match token {
            Token::Literal(text) => out.push_str(&text),
            Token::Spec(c, n) => spec(&mut out, stamp, c, n, format)?,
        }
    }
    Ok(out)
}

fn spec(out: &mut String, stamp: &Stamp, c: char, n: usize, format: &str) -> Result<(), EvalError> {
    let t = &stamp.local;
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let pm = t.hour() >= 12;
    let text = match (c, n) {
        ('d', 1) => t.day().to_string(),
        ('d', 2) => format!("{:02}", t.day()),
        ('d', 3) => DAYS[t.weekday().num_days_from_sunday() as usize][..3].to_string(),
        ('d', _) => DAYS[t.weekday().num_days_from_sunday() as usize].to_string(),
        ('f' | 'F', 1..=7) => {
            let digits = format!("{:07}", t.nanosecond() % 1_000_000_000 / 100);
            let digits = &digits[..n];
            if c == 'F' {
                let trimmed = digits.trim_end_matches('0');
                if trimmed.is_empty() && out.ends_with('.') {
                    out.pop();
                }
                trimmed.to_string()
            } else {
                digits.to_string()
            }
        }
        ('g', _) => "A.D.".to_string(),
        ('h', 1) => hour12.to_string(),
        ('h', _) => format!("{hour12:02}"),
        ('H', 1) => t.hour().to_string(),
        ('H', _) => format!("{:02}", t.hour()),
        ('K', _) => if stamp.kind == Kind::Utc { "Z" } else { "" }.to_string(),
        ('m', 1) => t.minute().to_string(),
        ('m', _) => format!("{:02}", t.minute()),
        ('M', 1) => t.month().to_string(),
        ('M', 2) => format!("{:02}", t.month()),
        ('M', 3) => MONTHS[t.month0() as usize][..3].to_string(),
        ('M', _) => MONTHS[t.month0() as usize].to_string(),
        ('s', 1) => t.second().to_string(),
        ('s', _) => format!("{:02}", t.second()),
        ('t', 1) => if pm { "P" } else { "A" }.to_string(),
        ('t', _) => if pm { "PM" } else { "AM" }.to_string(),
        ('y', 1) => (t.year() % 100).to_string(),
        ('y', 2) => format!("{:02}", t.year() % 100),
        ('y', n) => format!("{:0n$}", t.year()),
        ('z', 1) => "+0".to_string(),
        ('z', 2) => "+00".to_string(),
        ('z', _) => "+00:00".to_string(),
        _ => return Err(EvalError::invalid(format!("'{format}' is not a valid date and time format"))),
    };
    out.push_str(&text);
    Ok(())
}
