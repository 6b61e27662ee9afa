//! Tolerant JSON reader: real connector files are not always strict JSON.
//!
//! [`read`] decodes the bytes (`decode`), then runs the iterative grammar (`grammar`, with
//! tokens from `scan`) into a value builder (`build`). [`locate`] re-runs the same grammar
//! with a path tracker (`locate`). Byte offsets become line:column only when a warning or
//! error is reported (`position`).

mod build;
mod decode;
mod grammar;
mod locate;
mod position;
mod scan;
#[cfg(test)]
mod tests;

use serde_json::Value;

use position::Positions;
use scan::{RawError, RawWarning, Scanner};

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, in characters.
    pub column: u32,
}

/// What the tolerant reader accepted that strict JSON would not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leniency {
    /// A UTF-8 byte-order mark at the start.
    ByteOrderMark,
    /// The file was UTF-16 (LE or BE) and was decoded.
    Utf16,
    /// The file was not valid UTF-8 and was read as Windows-1252.
    NotUtf8,
    /// A raw control character (tab, newline, …) inside a string.
    ControlCharacter,
    /// A comma before `}` or `]`.
    TrailingComma,
    /// A `//` or `/* */` comment.
    Comment,
    /// A key that appears twice in one object; the last value wins.
    DuplicateKey,
    /// Unicode whitespace that JSON does not allow between tokens (e.g. U+00A0, U+2003).
    UnicodeWhitespace,
    /// A string in single quotes (Json.NET, which Power Platform uses, accepts them).
    SingleQuotedString,
    /// An object key without quotes (Json.NET accepts identifiers as keys).
    UnquotedKey,
}

/// One leniency, where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadWarning {
    /// What was accepted.
    pub kind: Leniency,
    /// Where (for whole-file leniencies, 1:1).
    pub position: Position,
    /// A one-line description, e.g. "duplicate key \"type\"; the last value is used".
    pub message: String,
}

/// A defect the reader cannot accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {}:{}", position.line, position.column)]
pub struct ReadError {
    /// Where the defect is.
    pub position: Position,
    /// What is wrong, e.g. "expected `,` or `}` after an object member".
    pub message: String,
}

/// Bounds that keep hostile input from exhausting memory or the stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of arrays and objects.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_bytes: 32 * 1024 * 1024, max_depth: 256 }
    }
}

/// A parsed document with its decoded text (kept for locating pointers later).
#[derive(Debug, Clone)]
pub struct Document {
    /// The value.
    pub value: Value,
    /// The decoded text (BOM removed), for [`locate`].
    pub text: String,
    /// Everything accepted that strict JSON would not, in file order.
    pub warnings: Vec<ReadWarning>,
}

/// Decodes and parses `bytes` tolerantly.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Document, ReadError> {
    if bytes.len() > limits.max_bytes {
        return Err(ReadError {
            position: Position { line: 1, column: 1 },
            message: format!(
                "the input is {} bytes, more than the limit of {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        });
    }
    let decoded = decode::decode(bytes);
    let text = decoded.text;
    let mut scanner = Scanner::new(&text, true);
    let mut builder = build::Builder::default();
    if let Err(error) = grammar::run(&mut scanner, &mut builder, limits.max_depth) {
        return Err(to_read_error(&text, error));
    }
    let mut raw = decoded.warnings;
    raw.append(&mut scanner.warnings);
    raw.append(&mut builder.warnings);
    let warnings = to_warnings(&text, raw);
    Ok(Document { value: builder.finish(), text, warnings })
}

/// Finds the position of the value at JSON `pointer` (RFC 6901) in `text`, re-scanning it.
pub fn locate(text: &str, pointer: &str) -> Option<Position> {
    let offset = locate::offset(text, pointer)?;
    Some(Positions::new(text).at(offset))
}

/// Gives an error its line and column.
fn to_read_error(text: &str, error: RawError) -> ReadError {
    ReadError { position: Positions::new(text).at(error.offset), message: error.message }
}

/// Puts warnings in file order and gives them lines and columns, in one pass over the text.
fn to_warnings(text: &str, mut raw: Vec<RawWarning>) -> Vec<ReadWarning> {
    raw.sort_by_key(|w| w.offset);
    let mut positions = Positions::new(text);
    raw.into_iter()
        .map(|w| ReadWarning { kind: w.kind, position: positions.at(w.offset), message: w.message })
        .collect()
}
