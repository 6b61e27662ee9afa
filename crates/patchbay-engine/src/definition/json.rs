//! Action inputs kept as JSON, with every string template parsed once at load.

use patchbay_expr::{EvalError, Scope, Template, parse_template};
use serde_json::{Map, Value};

use super::Diagnostic;

/// A JSON value whose strings are parsed templates.
#[derive(Debug, Clone)]
pub enum Json {
    /// A value with no template anywhere inside.
    Value(Value),
    /// A string template with at least one expression.
    Template(Template),
    /// An array with templates inside.
    Array(Vec<Json>),
    /// An object with templates inside (keys are not templates).
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Compiles `value`; template errors are pushed to `errors` for `action` at JSON pointer `pointer`.
    pub fn compile(value: &Value, action: &str, pointer: &str, errors: &mut Vec<Diagnostic>) -> Json {
        match value {
            Value::String(text) => match parse_template(text) {
                Ok(Template::Literal(s)) => Json::Value(Value::String(s)),
                Ok(t) => Json::Template(t),
                Err(e) => {
                    errors.push(Diagnostic::expression(action, pointer, text, &e));
                    Json::Value(Value::Null)
                }
            },
            Value::Array(items) => {
                let compiled: Vec<Json> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Json::compile(v, action, &format!("{pointer}/{i}"), errors))
                    .collect();
                if compiled.iter().all(|j| matches!(j, Json::Value(_))) {
                    Json::Value(Value::Array(compiled.into_iter().map(Json::into_value).collect()))
                } else {
                    Json::Array(compiled)
                }
            }
            Value::Object(map) => {
                let compiled: Vec<(String, Json)> = map
                    .iter()
                    .map(|(k, v)| {
                        let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                        (k.clone(), Json::compile(v, action, &p, errors))
                    })
                    .collect();
                if compiled.iter().all(|(_, j)| matches!(j, Json::Value(_))) {
                    let map = compiled.into_iter().map(|(k, j)| (k, j.into_value())).collect();
                    Json::Value(Value::Object(map))
                } else {
                    Json::Object(compiled)
                }
            }
            other => Json::Value(other.clone()),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Json::Value(v) => v,
            _ => Value::Null,
        }
    }

    /// The member `key` of an object, if this is one.
    pub fn get(&self, key: &str) -> Option<Json> {
        match self {
            Json::Value(Value::Object(map)) => map.get(key).map(|v| Json::Value(v.clone())),
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, j)| j.clone()),
            _ => None,
        }
    }

    /// Evaluates every template.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        match self {
            Json::Value(v) => Ok(v.clone()),
            Json::Template(t) => t.evaluate(scope),
            Json::Array(items) => {
                items.iter().map(|j| j.evaluate(scope)).collect::<Result<_, _>>().map(Value::Array)
            }
            Json::Object(members) => {
                let mut out = Map::new();
                for (k, j) in members {
                    out.insert(k.clone(), j.evaluate(scope)?);
                }
                Ok(Value::Object(out))
            }
        }
    }
}
