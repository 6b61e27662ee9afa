//! Typed access to a JSON object's fields, keeping every field the model does not type.
//!
//! Loaders take the fields they understand out of an object; what is left (unknown keys,
//! `x-ms-*` extensions the model does not type, and values of an unexpected type) stays in an
//! `extra` map that the exporter writes back verbatim, so nothing is lost on the way out.

use crate::diag::{Diagnostic, escape_segment};
use serde_json::{Map, Value};

/// Where a loader is reading and where its findings go.
pub struct Ctx<'a> {
    /// The file being read, as named in the package.
    pub file: &'a str,
    /// Findings so far.
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// Records a diagnostic.
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Records a diagnostic for this file with the code's default hint.
    pub fn emit(&mut self, code: &'static str, pointer: impl Into<String>, message: impl Into<String>) {
        let d = Diagnostic::new(code, self.file, pointer, message);
        self.diagnostics.push(d);
    }
}

/// Takes typed fields out of one JSON object.
pub struct Fields<'c, 'a> {
    map: Map<String, Value>,
    pointer: String,
    ctx: &'c mut Ctx<'a>,
}

impl<'c, 'a> Fields<'c, 'a> {
    /// Starts reading `value` (anything but an object reads as empty and is reported).
    pub fn new(value: Value, pointer: String, ctx: &'c mut Ctx<'a>) -> Self {
        let map = match value {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                ctx.emit("PB0105", pointer.clone(), format!("expected an object, found {}", kind(&other)));
                Map::new()
            }
        };
        Fields { map, pointer, ctx }
    }

    /// The pointer of this object.
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// The pointer of one of this object's fields.
    pub fn child(&self, key: &str) -> String {
        format!("{}/{}", self.pointer, escape_segment(key))
    }

    /// The context, to read nested objects with.
    pub fn ctx(&mut self) -> &mut Ctx<'a> {
        self.ctx
    }

    /// Whether a field is present (exact key).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Takes a field by exact key, or else by a case-insensitive match.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.take_entry(key).map(|(_, v)| v)
    }

    /// Takes a field with the key as spelled in the file.
    fn take_entry(&mut self, key: &str) -> Option<(String, Value)> {
        if let Some(v) = self.map.shift_remove(key) {
            return Some((key.to_string(), v));
        }
        let found = self.map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()?;
        self.map.shift_remove_entry(&found)
    }

    /// Takes a field if `accept` says it has the right type; otherwise leaves it and reports.
    fn take_typed<T>(
        &mut self,
        key: &str,
        expected: &str,
        accept: impl FnOnce(&Value) -> Option<T>,
    ) -> Option<T> {
        let (spelled, value) = self.take_entry(key)?;
        if value.is_null() {
            self.map.insert(spelled, value);
            return None;
        }
        match accept(&value) {
            Some(t) => Some(t),
            None => {
                let msg = format!("`{spelled}` should be {expected}, found {}; kept as it is", kind(&value));
                self.ctx.emit("PB0105", self.child(&spelled), msg);
                self.map.insert(spelled, value);
                None
            }
        }
    }

    /// A string field.
    pub fn string(&mut self, key: &str) -> Option<String> {
        self.take_typed(key, "a string", |v| v.as_str().map(str::to_string))
    }

    /// A boolean field; the strings `"true"` and `"false"` are accepted, as Power Platform does.
    pub fn bool(&mut self, key: &str) -> Option<bool> {
        self.take_typed(key, "a boolean", |v| match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        })
    }

    /// An array-of-strings field.
    pub fn strings(&mut self, key: &str) -> Vec<String> {
        self.take_typed(key, "an array of strings", |v| {
            v.as_array()?.iter().map(|s| s.as_str().map(str::to_string)).collect()
        })
        .unwrap_or_default()
    }

    /// An object field, as a map.
    pub fn object(&mut self, key: &str) -> Option<Map<String, Value>> {
        self.take_typed(key, "an object", |v| v.as_object().cloned())
    }

    /// An array field.
    pub fn array(&mut self, key: &str) -> Option<Vec<Value>> {
        self.take_typed(key, "an array", |v| v.as_array().cloned())
    }

    /// Any field, untyped.
    pub fn value(&mut self, key: &str) -> Option<Value> {
        self.take(key)
    }

    /// Returns a field that was taken but not understood, so it is kept verbatim.
    pub fn put_back(&mut self, key: &str, value: Value) {
        self.map.insert(key.to_string(), value);
    }

    /// Everything not taken, for the model's `extra`.
    pub fn finish(self) -> Map<String, Value> {
        self.map
    }
}

/// Builds a JSON object from typed fields, skipping what is absent.
#[derive(Default)]
pub struct Out(Map<String, Value>);

impl Out {
    /// An empty object.
    pub fn new() -> Self {
        Out(Map::new())
    }

    /// A string, if present.
    pub fn string(mut self, key: &str, value: &Option<String>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_string(), Value::String(v.clone()));
        }
        self
    }

    /// A boolean, if present.
    pub fn bool(mut self, key: &str, value: Option<bool>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_string(), Value::Bool(v));
        }
        self
    }

    /// A boolean written only when true.
    pub fn flag(self, key: &str, value: bool) -> Self {
        self.bool(key, value.then_some(true))
    }

    /// An array of strings, if not empty.
    pub fn strings(mut self, key: &str, value: &[String]) -> Self {
        if !value.is_empty() {
            self.0.insert(key.to_string(), value.iter().cloned().map(Value::String).collect());
        }
        self
    }

    /// Any value, if present.
    pub fn value(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_string(), v);
        }
        self
    }

    /// A map as an object, if not empty.
    pub fn map(self, key: &str, value: &Map<String, Value>) -> Self {
        let v = (!value.is_empty()).then(|| Value::Object(value.clone()));
        self.value(key, v)
    }

    /// The fields kept verbatim, written after the typed ones (typed ones win on a clash).
    pub fn extra(mut self, extra: &Map<String, Value>) -> Self {
        for (k, v) in extra {
            if !self.0.contains_key(k) {
                self.0.insert(k.clone(), v.clone());
            }
        }
        self
    }

    /// The finished object.
    pub fn build(self) -> Value {
        Value::Object(self.0)
    }

    /// The finished map.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

/// A JSON value's kind, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
