//! String tokens: the fast path for plain runs, escapes, surrogate pairs, raw control characters.

use super::{RawError, Scanner};
use crate::json::Leniency;
use crate::json::position::Positions;

impl Scanner<'_> {
    /// Reads a string token at the cursor (which is at `"`), unescaping it.
    pub fn string(&mut self) -> Result<String, RawError> {
        self.quoted(b'"')
    }

    /// Reads a string in single quotes at the cursor (which is at `'`), with a warning.
    pub fn single_quoted(&mut self) -> Result<String, RawError> {
        let at = self.pos;
        self.warn(Leniency::SingleQuotedString, at, || "a string in single quotes".to_string());
        self.quoted(b'\'')
    }

    /// Reads a string closed by `quote`, unescaping it.
    fn quoted(&mut self, quote: u8) -> Result<String, RawError> {
        let open = self.pos;
        let start = open + 1;
        let run = plain_run(&self.bytes[start..], quote);
        let end = start + run;
        if self.bytes.get(end) == Some(&quote) {
            self.pos = end + 1;
            return Ok(self.text[start..end].to_owned());
        }
        let mut out = String::with_capacity(run + 16);
        out.push_str(&self.text[start..end]);
        self.pos = end;
        self.string_slow(open, out, quote)
    }

    /// Continues a string that has escapes or control characters.
    fn string_slow(&mut self, open: usize, mut out: String, quote: u8) -> Result<String, RawError> {
        loop {
            let run = plain_run(&self.bytes[self.pos..], quote);
            out.push_str(&self.text[self.pos..self.pos + run]);
            self.pos += run;
            match self.peek() {
                Some(b) if b == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(b) if b < 0x20 => {
                    let at = self.pos;
                    self.warn(Leniency::ControlCharacter, at, || {
                        format!("raw control character U+{b:04X} in a string")
                    });
                    out.push(char::from(b));
                    self.pos += 1;
                }
                _ => return Err(self.unterminated(open)),
            }
        }
    }

    /// The error for a string that runs to the end of the input.
    fn unterminated(&self, open: usize) -> RawError {
        let at = Positions::new(self.text).at(open);
        RawError::new(
            self.pos,
            format!(
                "expected `\"` to close the string that starts at {}:{}, found end of input",
                at.line, at.column
            ),
        )
    }

    /// Reads one escape sequence at the cursor (which is at `\`) into `out`.
    fn escape(&mut self, out: &mut String) -> Result<(), RawError> {
        let at = self.pos;
        let c = match self.bytes.get(at + 1) {
            Some(b'"') => '"',
            Some(b'\'') => '\'',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(out),
            _ => {
                return Err(RawError::new(
                    at,
                    format!(
                        "expected one of `\"\\/bfnrtu` after `\\` in a string, found {}",
                        self.describe(at + 1)
                    ),
                ));
            }
        };
        out.push(c);
        self.pos += 2;
        Ok(())
    }

    /// Reads a `\uXXXX` escape (and its low surrogate, if it is a high one) into `out`.
    fn unicode_escape(&mut self, out: &mut String) -> Result<(), RawError> {
        let at = self.pos;
        let first = self.hex4(at + 2)?;
        self.pos = at + 6;
        let code = match first {
            0xD800..=0xDBFF => 0x10000 + ((first - 0xD800) << 10) + self.low_surrogate(at, first)?,
            0xDC00..=0xDFFF => {
                let message = format!("lone low surrogate `\\u{first:04X}` in a string");
                return Err(RawError::new(at, message));
            }
            _ => first,
        };
        // Every value left here is a valid scalar value, but stay panic-free regardless.
        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
        Ok(())
    }

    /// Reads the `\\uDC00`–`\\uDFFF` escape that must follow the high surrogate `high`
    /// (escaped at `at`); returns its offset from 0xDC00.
    fn low_surrogate(&mut self, at: usize, high: u32) -> Result<u32, RawError> {
        let low = match self.bytes.get(self.pos..self.pos + 2) {
            Some(b"\\u") => self.hex4(self.pos + 2)?,
            _ => 0,
        };
        if !(0xDC00..=0xDFFF).contains(&low) {
            let message =
                format!("expected a `\\uDC00`–`\\uDFFF` escape after the high surrogate `\\u{high:04X}`");
            return Err(RawError::new(at, message));
        }
        self.pos += 6;
        Ok(low - 0xDC00)
    }

    /// Reads four hex digits at `offset`.
    fn hex4(&self, offset: usize) -> Result<u32, RawError> {
        let mut value = 0;
        for i in offset..offset + 4 {
            let digit = self.bytes.get(i).and_then(|&b| char::from(b).to_digit(16));
            let Some(digit) = digit else {
                return Err(RawError::new(
                    i,
                    format!("expected a hex digit in a `\\u` escape, found {}", self.describe(i)),
                ));
            };
            value = value * 16 + digit;
        }
        Ok(value)
    }
}

/// The length of the leading run of bytes that need no attention inside a string closed by `quote`.
fn plain_run(bytes: &[u8], quote: u8) -> usize {
    bytes.iter().position(|&b| b == quote || b == b'\\' || b < 0x20).unwrap_or(bytes.len())
}

impl Scanner<'_> {
    /// Reads an unquoted key (an identifier: letters, digits, `_`, `$`, `-`) with a warning.
    pub fn unquoted_key(&mut self) -> Option<String> {
        let start = self.pos;
        let first = *self.bytes.get(start)?;
        if !(first.is_ascii_alphabetic() || first == b'_' || first == b'$') {
            return None;
        }
        let len = self.bytes[start..]
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'-'))
            .unwrap_or(self.bytes.len() - start);
        self.pos = start + len;
        let key = self.text[start..start + len].to_owned();
        self.warn(Leniency::UnquotedKey, start, || format!("key `{key}` without quotes"));
        Some(key)
    }
}
