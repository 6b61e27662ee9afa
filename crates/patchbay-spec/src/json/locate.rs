//! JSON pointer (RFC 6901) → byte offset of the value it names, by re-scanning the text once.
//!
//! The whole text is run through the same grammar as [`super::read`] with a [`Sink`] that
//! tracks the path of the value being read. When a member matching a prefix of the pointer
//! appears again (a duplicate key), it supersedes the earlier one, exactly as the last value
//! wins when parsing, so the answer always agrees with the parsed value.

use serde_json::Value;

use super::grammar::{self, Sink};
use super::scan::Scanner;

/// The byte offset of the value at `pointer` in `text`, if it exists and the text reads that far.
pub(crate) fn offset(text: &str, pointer: &str) -> Option<usize> {
    let tokens = parse_pointer(pointer)?;
    let mut finder = Finder { tokens, frames: Vec::new(), matched: 0, found: None };
    let mut scanner = Scanner::new(text, false);
    // On a syntax error, what was found before it stands: the text read that far.
    let _ = grammar::run(&mut scanner, &mut finder, usize::MAX);
    finder.found
}

/// Splits a pointer into unescaped reference tokens; `None` if it is malformed.
fn parse_pointer(pointer: &str) -> Option<Vec<Token>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').map(Token::parse).collect()
}

/// One reference token: a member name, and the array index it also denotes, if any.
struct Token {
    name: String,
    index: Option<usize>,
}

impl Token {
    /// Unescapes `~1` and `~0`; `None` if `~` is followed by anything else.
    fn parse(raw: &str) -> Option<Self> {
        let mut name = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match c {
                '~' => match chars.next() {
                    Some('0') => name.push('~'),
                    Some('1') => name.push('/'),
                    _ => return None,
                },
                c => name.push(c),
            }
        }
        let canonical = name == "0" || !name.starts_with('0');
        let index =
            if canonical && name.bytes().all(|b| b.is_ascii_digit()) { name.parse().ok() } else { None };
        Some(Self { name, index })
    }
}

/// The step the path takes inside one open container.
enum Frame {
    /// An array and the index of its current element (`None` before the first).
    Array(Option<usize>),
    /// An object (its current key does not need to be kept: only whether it matched).
    Object,
}

/// Tracks the path being read and remembers where the pointer's value starts.
struct Finder {
    tokens: Vec<Token>,
    frames: Vec<Frame>,
    /// How many leading frames are on the pointer's path right now.
    matched: usize,
    found: Option<usize>,
}

impl Finder {
    /// Sets whether the innermost frame's current step matches the pointer's token there.
    fn step(&mut self, matches: impl FnOnce(&Token) -> bool) {
        let Some(level) = self.frames.len().checked_sub(1) else {
            return;
        };
        let on_path = self.matched >= level && self.tokens.get(level).is_some_and(matches);
        self.matched = if on_path { level + 1 } else { self.matched.min(level) };
    }

    /// A value starts at `offset`: note it if it is the target; a later duplicate of a
    /// container on the path supersedes whatever was found inside an earlier one.
    fn value_at(&mut self, offset: usize) {
        if let Some(Frame::Array(index)) = self.frames.last_mut() {
            let next = index.map_or(0, |i| i.saturating_add(1));
            *index = Some(next);
            self.step(|token| token.index == Some(next));
        }
        let depth = self.frames.len();
        if self.matched == depth {
            if depth == self.tokens.len() {
                self.found = Some(offset);
            } else if depth < self.tokens.len() {
                self.found = None;
            }
        }
    }

    /// The innermost container closes.
    fn pop(&mut self) {
        self.frames.pop();
        self.matched = self.matched.min(self.frames.len());
    }
}

impl Sink for Finder {
    fn begin_object(&mut self, offset: usize) {
        self.value_at(offset);
        self.frames.push(Frame::Object);
    }

    fn begin_array(&mut self, offset: usize) {
        self.value_at(offset);
        self.frames.push(Frame::Array(None));
    }

    fn key(&mut self, key: String, _offset: usize) {
        self.step(|token| token.name == key);
    }

    fn scalar(&mut self, _value: Value, offset: usize) {
        self.value_at(offset);
    }

    fn end_object(&mut self) {
        self.pop();
    }

    fn end_array(&mut self) {
        self.pop();
    }
}
