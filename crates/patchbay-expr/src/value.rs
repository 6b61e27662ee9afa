//! JSON value helpers shared by the evaluator and the functions: type names, numbers, and the
//! string form of a value (as Logic Apps prints it in `string()`, `concat()` and `@{…}`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Number, Value};

use crate::error::{EvalError, EvalErrorKind};

/// A JSON number split into the integer and floating-point cases Logic Apps distinguishes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Float(f64),
}

impl Num {
    /// The number of a JSON number.
    pub fn of(n: &Number) -> Num {
        match n.as_i64() {
            Some(i) => Num::Int(i),
            None => Num::Float(n.as_f64().unwrap_or(f64::NAN)),
        }
    }

    /// As a double.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// As a JSON value (error for NaN or infinity).
    pub fn into_value(self) -> Result<Value, EvalError> {
        match self {
            Num::Int(i) => Ok(Value::from(i)),
            Num::Float(f) => float_value(f),
        }
    }
}

/// A finite double as a JSON value.
pub(crate) fn float_value(f: f64) -> Result<Value, EvalError> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| EvalError::new(EvalErrorKind::Arithmetic, "the result is not a finite number"))
}

/// The Logic Apps name of a value's type, as used in error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.as_i64().is_some() => "Integer",
        Value::Number(_) => "Float",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// A double as .NET prints it (`double.ToString()`): shortest round-trip digits, scientific
/// notation with a signed two-digit exponent outside 1e-4 ≤ |x| < 1e15.
pub fn format_double(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "∞".into()
        } else {
            "-∞".into()
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..15).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}E{exp_sign}{:02}", exp.abs());
    }
    let point = exp + 1;
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = point as usize;
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

/// A number as text (integers plainly, doubles the .NET way).
pub(crate) fn number_text(n: &Number) -> String {
    match Num::of(n) {
        Num::Int(i) => i.to_string(),
        Num::Float(f) => format_double(f),
    }
}

/// The bytes of a binary content object `{"$content-type": …, "$content": base64}`, if it is one.
pub(crate) fn binary_content(v: &Value) -> Option<Vec<u8>> {
    let obj = v.as_object()?;
    let content = obj.get("$content")?.as_str()?;
    if !obj.contains_key("$content-type") {
        return None;
    }
    STANDARD.decode(content).ok()
}

/// A binary content object holding `bytes`.
pub(crate) fn binary_value(bytes: &[u8], content_type: &str) -> Value {
    let mut obj = Map::new();
    obj.insert("$content-type".into(), Value::from(content_type));
    obj.insert("$content".into(), Value::from(STANDARD.encode(bytes)));
    Value::Object(obj)
}

/// The string form of a value: strings as is, `null` as empty, booleans as `True`/`False` (the .NET
/// spelling Logic Apps uses), numbers as text, binary content decoded, arrays and objects as JSON.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => number_text(n),
        Value::String(s) => s.clone(),
        Value::Object(_) => match binary_content(v) {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => v.to_string(),
        },
        Value::Array(_) => v.to_string(),
    }
}

/// Deep equality with numbers compared by value (`1` equals `1.0`).
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (Num::of(x), Num::of(y)) {
            (Num::Int(i), Num::Int(j)) => i == j,
            (x, y) => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}
