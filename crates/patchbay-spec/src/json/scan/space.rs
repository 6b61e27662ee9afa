//! Whitespace and comments between tokens, with their leniencies.

use super::{RawError, Scanner};
use crate::json::Leniency;

impl Scanner<'_> {
    /// Skips whitespace and comments, noting comments and non-JSON whitespace as leniencies.
    pub fn skip_ws(&mut self) -> Result<(), RawError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => self.comment()?,
                Some(b) if b >= 0x80 || b == 0x0B || b == 0x0C => {
                    if !self.unicode_ws() {
                        return Ok(());
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// Skips a run of whitespace that starts with a non-JSON whitespace character.
    fn unicode_ws(&mut self) -> bool {
        let start = self.pos;
        let mut first = None;
        for c in self.text[start..].chars() {
            if !is_extra_whitespace(c) {
                break;
            }
            first.get_or_insert(c);
            self.pos += c.len_utf8();
        }
        let Some(first) = first else { return false };
        // Trailing ASCII whitespace in the run is fine; only the first odd one is named.
        self.warn(Leniency::UnicodeWhitespace, start, || {
            format!("whitespace U+{:04X} between tokens is not JSON whitespace", u32::from(first))
        });
        true
    }

    /// Skips a `//` or `/* */` comment at the cursor (which is at `/`).
    fn comment(&mut self) -> Result<(), RawError> {
        let start = self.pos;
        let rest = &self.bytes[start..];
        match rest.get(1) {
            Some(b'/') => {
                let len = rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(rest.len());
                self.pos += len;
                self.warn(Leniency::Comment, start, || "`//` comment".to_owned());
            }
            Some(b'*') => {
                let Some(end) = rest[2..].windows(2).position(|w| w == b"*/") else {
                    return Err(RawError::new(start, "unterminated `/*` comment: expected `*/`"));
                };
                self.pos += end + 4;
                self.warn(Leniency::Comment, start, || "`/* */` comment".to_owned());
            }
            _ => {
                return Err(RawError::new(
                    start,
                    format!(
                        "expected `//` or `/*` to start a comment, found `/` then {}",
                        self.describe(start + 1)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Whether `c` is whitespace to .NET's `char.IsWhiteSpace` (or U+FEFF) but not to JSON.
fn is_extra_whitespace(c: char) -> bool {
    c.is_whitespace() || c == '\u{FEFF}'
}
