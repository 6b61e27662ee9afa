//! Tests of the tolerant reader: unit tests per leniency and error, hostile input,
//! property tests and the real connector corpus.

mod corpus;
mod errors;
mod hostile;
mod leniency;
mod locate;
mod props;

use super::{Document, Leniency, Limits, Position, ReadError, read};

/// A position, for brevity.
fn at(line: u32, column: u32) -> Position {
    Position { line, column }
}

/// Reads `text` with default limits, expecting success.
fn ok(text: &str) -> Document {
    read_ok(text.as_bytes())
}

/// Reads `bytes` with default limits, expecting success.
fn read_ok(bytes: &[u8]) -> Document {
    match read(bytes, &Limits::default()) {
        Ok(document) => document,
        Err(error) => panic!("expected success, got: {error}"),
    }
}

/// Reads `text` with default limits, expecting an error.
fn err(text: &str) -> ReadError {
    match read(text.as_bytes(), &Limits::default()) {
        Ok(document) => panic!("expected an error, got {:?}", document.value),
        Err(error) => error,
    }
}

/// The kinds and positions of a document's warnings.
fn kinds(document: &Document) -> Vec<(Leniency, Position)> {
    document.warnings.iter().map(|w| (w.kind, w.position)).collect()
}
