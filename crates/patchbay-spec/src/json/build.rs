//! A [`Sink`] that builds a `serde_json::Value`, last duplicate key winning.

use serde_json::map::Entry;
use serde_json::{Map, Value};

use super::Leniency;
use super::grammar::Sink;
use super::scan::RawWarning;

/// A container being filled.
enum Frame {
    Array(Vec<Value>),
    /// An object and the key (with its offset) of the member whose value comes next.
    Object(Map<String, Value>, Option<(String, usize)>),
}

/// Builds the value of a document from grammar events.
#[derive(Default)]
pub(crate) struct Builder {
    stack: Vec<Frame>,
    root: Option<Value>,
    /// Duplicate-key warnings, in the order the duplicates were completed.
    pub warnings: Vec<RawWarning>,
}

impl Builder {
    /// The finished value (`Null` if the grammar reported nothing, which it never does on success).
    pub fn finish(self) -> Value {
        self.root.unwrap_or(Value::Null)
    }

    /// Puts a complete value into the innermost container, or makes it the root.
    fn attach(&mut self, value: Value) {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Object(map, key)) => {
                let Some((key, offset)) = key.take() else {
                    return;
                };
                match map.entry(key) {
                    Entry::Vacant(slot) => {
                        slot.insert(value);
                    }
                    Entry::Occupied(mut slot) => {
                        self.warnings.push(RawWarning {
                            kind: Leniency::DuplicateKey,
                            offset,
                            message: format!(
                                "duplicate key {}; the last value is used",
                                Value::String(slot.key().clone())
                            ),
                        });
                        slot.insert(value);
                    }
                }
            }
        }
    }

    /// Closes the innermost container and attaches it to its parent.
    fn close(&mut self) {
        let value = match self.stack.pop() {
            Some(Frame::Array(items)) => Value::Array(items),
            Some(Frame::Object(map, _)) => Value::Object(map),
            None => return,
        };
        self.attach(value);
    }
}

impl Sink for Builder {
    fn begin_object(&mut self, _offset: usize) {
        self.stack.push(Frame::Object(Map::new(), None));
    }

    fn begin_array(&mut self, _offset: usize) {
        self.stack.push(Frame::Array(Vec::new()));
    }

    fn key(&mut self, key: String, offset: usize) {
        if let Some(Frame::Object(_, slot)) = self.stack.last_mut() {
            *slot = Some((key, offset));
        }
    }

    fn scalar(&mut self, value: Value, _offset: usize) {
        self.attach(value);
    }

    fn end_object(&mut self) {
        self.close();
    }

    fn end_array(&mut self) {
        self.close();
    }
}
