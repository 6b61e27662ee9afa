//! The tokenizer: whitespace and comments, strings, numbers and literals, over decoded text.
//!
//! Everything here works with byte offsets into the text; [`super::position`] turns them
//! into line:column only when a warning or error is reported.

use serde_json::Value;

use super::Leniency;

mod number;
mod space;
mod string;

/// A leniency at a byte offset of the decoded text.
#[derive(Debug)]
pub(crate) struct RawWarning {
    /// What was accepted.
    pub kind: Leniency,
    /// Byte offset into the decoded text.
    pub offset: usize,
    /// One-line description.
    pub message: String,
}

/// A defect at a byte offset of the decoded text.
#[derive(Debug)]
pub(crate) struct RawError {
    /// Byte offset into the decoded text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl RawError {
    /// An error at `offset`.
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        Self { offset, message: message.into() }
    }
}

/// A cursor over decoded text that reads one token at a time and records leniencies.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Leniencies seen so far, in file order.
    pub warnings: Vec<RawWarning>,
    record: bool,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`; `record` says whether to keep warnings.
    pub fn new(text: &'a str, record: bool) -> Self {
        Self { text, bytes: text.as_bytes(), pos: 0, warnings: Vec::new(), record }
    }

    /// The current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The byte at the cursor, if any.
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Moves past one ASCII byte.
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    /// Records a leniency at `offset` (the message is built only when recording).
    pub fn warn(&mut self, kind: Leniency, offset: usize, message: impl FnOnce() -> String) {
        if self.record {
            self.warnings.push(RawWarning { kind, offset, message: message() });
        }
    }

    /// An error at the cursor: "expected {what}, found {whatever is there}".
    pub fn expected(&self, what: &str) -> RawError {
        RawError::new(self.pos, format!("expected {what}, found {}", self.describe(self.pos)))
    }

    /// Describes the character at `offset` for an error message.
    pub fn describe(&self, offset: usize) -> String {
        match self.text.get(offset..).and_then(|rest| rest.chars().next()) {
            None => "end of input".to_owned(),
            Some(c) if c.is_control() || c.is_whitespace() || c == '\u{FEFF}' => {
                format!("U+{:04X}", u32::from(c))
            }
            Some(c) => format!("`{c}`"),
        }
    }

    /// Reads `true`, `false` or `null` at the cursor.
    pub fn literal(&mut self) -> Result<Value, RawError> {
        let rest = &self.bytes[self.pos..];
        let (word, value): (&[u8], Value) = match rest.first() {
            Some(b't') => (b"true", Value::Bool(true)),
            Some(b'f') => (b"false", Value::Bool(false)),
            _ => (b"null", Value::Null),
        };
        if !rest.starts_with(word) {
            let word = std::str::from_utf8(word).unwrap_or("null");
            let wrong = rest.iter().zip(word.as_bytes()).take_while(|(a, b)| a == b).count();
            let at = self.pos + wrong;
            return Err(RawError::new(at, format!("expected `{word}`, found {}", self.describe(at))));
        }
        self.pos += word.len();
        Ok(value)
    }
}
