//! Number tokens, checked against the JSON grammar and converted exactly as serde_json does.

use serde_json::Number;

use super::{RawError, Scanner};

impl Scanner<'_> {
    /// Reads a number token at the cursor (which is at `-` or a digit).
    pub fn number(&mut self) -> Result<Number, RawError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        self.int_part()?;
        let int_end = self.pos;
        let simple = !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits("after `.` in a number")?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits("in the exponent of a number")?;
        }
        let digits = &self.bytes[int_start..int_end];
        if simple && digits.len() <= 18 {
            let magnitude = digits.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
            match (negative, magnitude) {
                (false, m) => return Ok(Number::from(m.unsigned_abs())),
                (true, m) if m != 0 => return Ok(Number::from(-m)),
                _ => {}
            }
        }
        let token = &self.text[start..self.pos];
        serde_json::from_str::<Number>(token)
            .map_err(|e| RawError::new(start, format!("invalid number `{token}`: {e}")))
    }

    /// Reads the integer part of a number: `0` or a non-zero digit and more digits.
    fn int_part(&mut self) -> Result<(), RawError> {
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(self.expected("`.`, `e` or the end of the number after a leading `0`"));
                }
                Ok(())
            }
            _ => self.digits("in a number"),
        }
    }

    /// Reads one or more digits.
    fn digits(&mut self, context: &str) -> Result<(), RawError> {
        let count = self.bytes[self.pos..].iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return Err(self.expected(&format!("a digit {context}")));
        }
        self.pos += count;
        Ok(())
    }
}
