//! Conversion functions. Binary values are represented as Logic Apps does in JSON:
//! `{"$content-type": "application/octet-stream", "$content": "<base64>"}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{opt_string_arg, string_arg, type_error};
use crate::error::EvalError;
use crate::numfmt;
use crate::scope::Scope;
use crate::value::{Num, binary_content, binary_value, float_value, to_text};

const OCTET_STREAM: &str = "application/octet-stream";

/// The bytes of a value: binary content as is, anything else as its UTF-8 text.
fn bytes_of(v: &Value) -> Vec<u8> {
    binary_content(v).unwrap_or_else(|| to_text(v).into_bytes())
}

fn decode_base64(text: &str) -> Result<Vec<u8>, EvalError> {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|_| EvalError::invalid(format!("'{text}' is not valid base64")))
}

pub(super) fn array(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::Array(vec![args[0].clone()]))
}

pub(super) fn base64(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(STANDARD.encode(bytes_of(&args[0]))))
}

pub(super) fn base64_to_binary(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(binary_value(&decode_base64(string_arg(args, 0)?)?, OCTET_STREAM))
}

pub(super) fn base64_to_string(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let bytes = decode_base64(string_arg(args, 0)?)?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

pub(super) fn binary(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(binary_value(&bytes_of(&args[0]), OCTET_STREAM))
}

pub(super) fn bool_(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let b = match &args[0] {
        Value::Bool(b) => *b,
        Value::Number(n) => Num::of(n).as_f64() != 0.0,
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => true,
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => false,
        Value::String(s) => return Err(EvalError::invalid(format!("cannot convert '{s}' to a boolean"))),
        _ => return Err(type_error(args, 0, "boolean, number or string")),
    };
    Ok(Value::Bool(b))
}

pub(super) fn data_uri(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (content_type, bytes) = match (binary_content(&args[0]), &args[0]) {
        (Some(bytes), v) => (v["$content-type"].as_str().unwrap_or(OCTET_STREAM).to_string(), bytes),
        (None, v) => ("text/plain;charset=utf-8".to_string(), to_text(v).into_bytes()),
    };
    Ok(Value::String(format!("data:{content_type};base64,{}", STANDARD.encode(bytes))))
}

/// The media type and bytes of a `data:` URI.
fn parse_data_uri(uri: &str) -> Result<(String, Vec<u8>), EvalError> {
    let invalid = || EvalError::invalid(format!("'{uri}' is not a valid data URI"));
    let rest =
        uri.get(..5).filter(|p| p.eq_ignore_ascii_case("data:")).map(|_| &uri[5..]).ok_or_else(invalid)?;
    let (meta, data) = rest.split_once(',').ok_or_else(invalid)?;
    let (media, is_base64) = match meta.strip_suffix(";base64") {
        Some(media) => (media, true),
        None => (meta, false),
    };
    let media = if media.is_empty() { "text/plain;charset=US-ASCII" } else { media };
    let bytes = if is_base64 { decode_base64(data)? } else { percent_decode(data) };
    Ok((media.to_string(), bytes))
}

pub(super) fn data_uri_to_binary(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (media, bytes) = parse_data_uri(string_arg(args, 0)?)?;
    Ok(binary_value(&bytes, &media))
}

pub(super) fn data_uri_to_string(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (_, bytes) = parse_data_uri(string_arg(args, 0)?)?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

pub(super) fn decimal(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    match &args[0] {
        Value::Number(n) => float_value(Num::of(n).as_f64()),
        Value::String(s) => match numfmt::parse_float(s, numfmt::culture(None)?) {
            Some(f) => float_value(f),
            None => Err(EvalError::invalid(format!("cannot convert '{s}' to a decimal number"))),
        },
        _ => Err(type_error(args, 0, "string or number")),
    }
}

/// Decodes `%XX` escapes; malformed escapes stay as they are.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

pub(super) fn decode_uri_component(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(String::from_utf8_lossy(&percent_decode(string_arg(args, 0)?)).into_owned()))
}

/// Percent-encodes everything except the RFC 3986 unreserved characters (like .NET
/// `Uri.EscapeDataString`).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) fn encode_uri_component(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(percent_encode(&to_text(&args[0]))))
}

pub(super) fn uri_component_to_binary(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(binary_value(&percent_decode(string_arg(args, 0)?), OCTET_STREAM))
}

pub(super) fn float(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let culture = numfmt::culture(opt_string_arg(args, 1)?)?;
    match &args[0] {
        Value::Number(n) => float_value(Num::of(n).as_f64()),
        Value::String(s) => match numfmt::parse_float(s, culture) {
            Some(f) => float_value(f),
            None => Err(EvalError::invalid(format!("cannot convert '{s}' to a floating-point number"))),
        },
        _ => Err(type_error(args, 0, "string or number")),
    }
}

pub(super) fn int(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let n = match &args[0] {
        Value::Number(n) => match Num::of(n) {
            Num::Int(i) => i,
            Num::Float(f) if f.is_finite() && f.abs() < 9.2e18 => f.round_ties_even() as i64,
            Num::Float(_) => return Err(EvalError::invalid("the number is too large for an integer")),
        },
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| EvalError::invalid(format!("cannot convert '{s}' to an integer")))?,
        _ => return Err(type_error(args, 0, "string or number")),
    };
    Ok(Value::from(n))
}

pub(super) fn json(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let text = match &args[0] {
        Value::String(s) => s.clone(),
        v if binary_content(v).is_some() => to_text(v),
        v => return Ok(v.clone()),
    };
    serde_json::from_str(&text).map_err(|e| EvalError::invalid(format!("the value is not valid JSON: {e}")))
}

pub(super) fn string(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(to_text(&args[0])))
}
