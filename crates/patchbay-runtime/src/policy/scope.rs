//! What policy expressions can read: `connectionParameters`, `headers`, `queryParameters`,
//! `body()`, `item()`, `triggerBody()` and `Request.OriginalHTTPMethod` (spec §3.6).

use patchbay_expr::{EvalError, Scope};
use serde_json::{Map, Value};

/// A snapshot of the values a policy's expressions see.
#[derive(Debug, Clone, Default)]
pub struct PolicyScope {
    /// Connection parameter values, by name.
    pub connection: Map<String, Value>,
    /// Request headers, by name.
    pub headers: Vec<(String, String)>,
    /// Request query parameters.
    pub query: Vec<(String, String)>,
    /// The body: the request's in the request section, the response's in the response section.
    pub body: Value,
    /// The current element when a policy works on each element of an array.
    pub item: Option<Value>,
    /// The last polling response's body (the `pollingtrigger` template).
    pub trigger_body: Option<Value>,
    /// The operation's HTTP method before any policy changed it.
    pub original_method: String,
}

impl PolicyScope {
    /// The same scope with `item()` set.
    pub fn with_item(&self, item: Value) -> PolicyScope {
        PolicyScope { item: Some(item), ..self.clone() }
    }

    /// A connection parameter, exact name first, then ignoring case.
    fn connection_value(&self, name: &str) -> Option<&Value> {
        self.connection
            .get(name)
            .or_else(|| self.connection.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
    }
}

/// A name's value from `pairs`, ignoring case.
fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The value, or the call's default argument, or the empty string (a missing value is empty).
fn or_default(found: Option<Value>, args: &[Value]) -> Value {
    match found {
        Some(v) if !v.is_null() && v != Value::String(String::new()) => v,
        _ => args.get(1).cloned().unwrap_or_else(|| Value::String(String::new())),
    }
}

impl Scope for PolicyScope {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        let first = || args.first().and_then(Value::as_str).unwrap_or_default();
        let value = match name.to_ascii_lowercase().as_str() {
            "connectionparameters" => or_default(self.connection_value(first()).cloned(), args),
            "headers" | "header" => {
                or_default(lookup(&self.headers, first()).map(|s| Value::String(s.into())), args)
            }
            "queryparameters" | "queryparameter" => {
                or_default(lookup(&self.query, first()).map(|s| Value::String(s.into())), args)
            }
            "body" => self.body.clone(),
            "item" => self.item.clone().unwrap_or(Value::Null),
            "triggerbody" => self.trigger_body.clone().unwrap_or(Value::Null),
            _ => return None,
        };
        Some(Ok(value))
    }

    fn path(&self, segments: &[&str]) -> Option<Value> {
        match segments {
            [r, m] if r.eq_ignore_ascii_case("Request") && m.eq_ignore_ascii_case("OriginalHTTPMethod") => {
                Some(Value::String(self.original_method.clone()))
            }
            _ => None,
        }
    }
}
