//! Parse and evaluation errors, both pointing at a position in the template text.

use std::fmt;

/// A template or expression that does not parse.
///
/// `offset` is a byte offset into the text given to the parser; `line` and `column` are 1-based and
/// count characters, so they can be shown to a person as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line}, column {column})")]
pub struct ParseError {
    /// Byte offset of the problem in the parsed text.
    pub offset: usize,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column (in characters) of the problem within its line.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// Builds an error at `offset` of `text`, computing line and column.
    pub fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(text.len());
        let mut cut = offset;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let before = &text[..cut];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self { offset, line, column, message: message.into() }
    }
}

/// What kind of evaluation failure happened (Logic Apps reports all of them as `InvalidTemplate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// The template text itself does not parse.
    Parse,
    /// No scope function and no built-in function has this name.
    UnknownFunction,
    /// A dotted path (`Request.OriginalHTTPMethod`) the scope does not know.
    UnknownPath,
    /// Wrong number of arguments.
    ArgumentCount,
    /// An argument of the wrong type or with an invalid value.
    InvalidArgument,
    /// A non-null-safe access to a property that does not exist.
    MissingProperty,
    /// An array index outside the array.
    IndexOutOfRange,
    /// A property or index access on `null` (or on a value that has no members) without `?`.
    InvalidAccess,
    /// Integer overflow, division by zero or a non-finite result.
    Arithmetic,
    /// A catalogue function this engine does not implement yet.
    NotImplemented,
    /// An error raised by the caller's [`Scope`](crate::Scope).
    Scope,
}

/// An expression that parsed but could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct EvalError {
    /// The kind of failure.
    pub kind: EvalErrorKind,
    /// What went wrong, for a person.
    pub message: String,
    /// The function being evaluated, when the error came from a call.
    pub function: Option<String>,
    /// Byte offset in the template text of the failing call or access, when known.
    pub offset: Option<usize>,
    /// JSON pointer of the string being evaluated, set by [`evaluate_json`](crate::evaluate_json).
    pub pointer: Option<String>,
}

impl EvalError {
    /// A new error of `kind` with no position.
    pub fn new(kind: EvalErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), function: None, offset: None, pointer: None }
    }

    /// An invalid-argument error (the most common kind for function bodies).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(EvalErrorKind::InvalidArgument, message)
    }

    /// An error raised by a scope function.
    pub fn scope(message: impl Into<String>) -> Self {
        Self::new(EvalErrorKind::Scope, message)
    }

    /// Sets the function name unless one is already set.
    #[must_use]
    pub fn in_function(mut self, name: &str) -> Self {
        self.function.get_or_insert_with(|| name.to_string());
        self
    }

    /// The 1-based line and column of [`offset`](Self::offset) in `text`, the template that was
    /// evaluated.
    pub fn line_column(&self, text: &str) -> Option<(usize, usize)> {
        let at = ParseError::at(text, self.offset?, "");
        Some((at.line, at.column))
    }

    /// Sets the offset unless one is already set.
    #[must_use]
    pub fn at(mut self, offset: usize) -> Self {
        self.offset.get_or_insert(offset);
        self
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InvalidTemplate: ")?;
        if let Some(function) = &self.function {
            write!(f, "{function}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(offset) = self.offset {
            write!(f, " (at offset {offset})")?;
        }
        if let Some(pointer) = &self.pointer {
            write!(f, " (in {pointer})")?;
        }
        Ok(())
    }
}

impl From<ParseError> for EvalError {
    fn from(e: ParseError) -> Self {
        let offset = e.offset;
        EvalError::new(EvalErrorKind::Parse, e.to_string()).at(offset)
    }
}
