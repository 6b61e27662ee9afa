//! The JSON grammar as an iterative state machine that reports events to a [`Sink`].
//!
//! Nesting lives in a heap stack, so deep input cannot overflow the call stack; `max_depth`
//! bounds it. Trailing commas are accepted here (with a warning); everything else that is
//! lenient lives in the [`Scanner`].

use serde_json::Value;

use super::Leniency;
use super::scan::{RawError, Scanner};

/// Receives the structure of a document as it is read.
pub(crate) trait Sink {
    /// An object starts at `offset`.
    fn begin_object(&mut self, offset: usize);
    /// An array starts at `offset`.
    fn begin_array(&mut self, offset: usize);
    /// The key of the next member of the innermost object, found at `offset`.
    fn key(&mut self, key: String, offset: usize);
    /// A string, number, boolean or null starts at `offset`.
    fn scalar(&mut self, value: Value, offset: usize);
    /// The innermost object ends.
    fn end_object(&mut self);
    /// The innermost array ends.
    fn end_array(&mut self);
}

/// What kind of container the grammar is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    Array,
    Object,
}

/// What the grammar expects next.
enum Next {
    /// A value (whitespace already skipped).
    Value,
    /// A separator or closing bracket after a complete value.
    AfterValue,
}

/// Reads one JSON document from `scanner` into `sink`; trailing text is an error.
pub(crate) fn run<S: Sink>(
    scanner: &mut Scanner<'_>,
    sink: &mut S,
    max_depth: usize,
) -> Result<(), RawError> {
    let mut grammar = Grammar { scanner, sink, stack: Vec::new(), max_depth };
    grammar.scanner.skip_ws()?;
    let mut next = Next::Value;
    loop {
        next = match next {
            Next::Value => grammar.value()?,
            Next::AfterValue => match grammar.stack.last() {
                None => return grammar.end_of_input(),
                Some(Container::Array) => grammar.after_element()?,
                Some(Container::Object) => grammar.after_member()?,
            },
        };
    }
}

/// The state of one run: the scanner, the sink and the open containers.
struct Grammar<'s, 'a, S> {
    scanner: &'s mut Scanner<'a>,
    sink: &'s mut S,
    stack: Vec<Container>,
    max_depth: usize,
}

impl<S: Sink> Grammar<'_, '_, S> {
    /// Reads a value at the cursor; containers are opened, not read to the end.
    fn value(&mut self) -> Result<Next, RawError> {
        let offset = self.scanner.pos();
        let scalar = match self.scanner.peek() {
            Some(b'{') => return self.open(Container::Object),
            Some(b'[') => return self.open(Container::Array),
            Some(b'"') => Value::String(self.scanner.string()?),
            Some(b'\'') => Value::String(self.scanner.single_quoted()?),
            Some(b'-' | b'0'..=b'9') => Value::Number(self.scanner.number()?),
            Some(b't' | b'f' | b'n') => self.scanner.literal()?,
            _ => return Err(self.scanner.expected("a value")),
        };
        self.sink.scalar(scalar, offset);
        Ok(Next::AfterValue)
    }

    /// Opens a container at the cursor, checking the depth, and reads up to its first value.
    fn open(&mut self, kind: Container) -> Result<Next, RawError> {
        let offset = self.scanner.pos();
        if self.stack.len() >= self.max_depth {
            return Err(RawError::new(
                offset,
                format!("nesting is deeper than the limit of {} levels", self.max_depth),
            ));
        }
        self.stack.push(kind);
        self.scanner.bump();
        match kind {
            Container::Array => self.sink.begin_array(offset),
            Container::Object => self.sink.begin_object(offset),
        }
        self.scanner.skip_ws()?;
        match kind {
            Container::Array => {
                if self.scanner.peek() == Some(b']') {
                    return Ok(self.close());
                }
                Ok(Next::Value)
            }
            Container::Object => {
                if self.scanner.peek() == Some(b'}') {
                    return Ok(self.close());
                }
                self.member_key("a string key or `}` after `{`")
            }
        }
    }

    /// Consumes the closing bracket at the cursor and closes the innermost container.
    fn close(&mut self) -> Next {
        self.scanner.bump();
        match self.stack.pop() {
            Some(Container::Array) => self.sink.end_array(),
            Some(Container::Object) => self.sink.end_object(),
            None => {}
        }
        Next::AfterValue
    }

    /// After an array element: `,` (maybe trailing) or `]`.
    fn after_element(&mut self) -> Result<Next, RawError> {
        self.scanner.skip_ws()?;
        match self.scanner.peek() {
            Some(b',') => {
                if self.comma(b']')? {
                    return Ok(self.close());
                }
                Ok(Next::Value)
            }
            Some(b']') => Ok(self.close()),
            _ => Err(self.scanner.expected("`,` or `]` after an array element")),
        }
    }

    /// After an object member: `,` (maybe trailing) then a key, or `}`.
    fn after_member(&mut self) -> Result<Next, RawError> {
        self.scanner.skip_ws()?;
        match self.scanner.peek() {
            Some(b',') => {
                if self.comma(b'}')? {
                    return Ok(self.close());
                }
                self.member_key("a string key or `}` after `,` in an object")
            }
            Some(b'}') => Ok(self.close()),
            _ => Err(self.scanner.expected("`,` or `}` after an object member")),
        }
    }

    /// Consumes a `,` and the whitespace after it; true (with a warning) if `close` follows.
    fn comma(&mut self, close: u8) -> Result<bool, RawError> {
        let at = self.scanner.pos();
        self.scanner.bump();
        self.scanner.skip_ws()?;
        let trailing = self.scanner.peek() == Some(close);
        if trailing {
            self.scanner.warn(Leniency::TrailingComma, at, || {
                format!("trailing comma before `{}`", char::from(close))
            });
        }
        Ok(trailing)
    }

    /// Reads `"key"` and `:` and the whitespace after it; `what` names what is expected.
    fn member_key(&mut self, what: &str) -> Result<Next, RawError> {
        let offset = self.scanner.pos();
        let key = match self.scanner.peek() {
            Some(b'"') => self.scanner.string()?,
            Some(b'\'') => self.scanner.single_quoted()?,
            _ => match self.scanner.unquoted_key() {
                Some(key) => key,
                None => return Err(self.scanner.expected(what)),
            },
        };
        self.scanner.skip_ws()?;
        if self.scanner.peek() != Some(b':') {
            return Err(self.scanner.expected("`:` after an object key"));
        }
        self.scanner.bump();
        self.scanner.skip_ws()?;
        self.sink.key(key, offset);
        Ok(Next::Value)
    }

    /// After the top-level value: only whitespace and comments may follow.
    fn end_of_input(&mut self) -> Result<(), RawError> {
        self.scanner.skip_ws()?;
        if self.scanner.peek().is_some() {
            return Err(self.scanner.expected("end of input after the top-level value"));
        }
        Ok(())
    }
}
