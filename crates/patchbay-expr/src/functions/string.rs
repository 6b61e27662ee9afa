//! String functions. Indexes and lengths count Unicode characters (.NET counts UTF-16 units; the two
//! agree outside the astral planes).

use serde_json::Value;

use super::{int_arg, number_arg, opt_string_arg, string_arg, type_error};
use crate::error::EvalError;
use crate::numfmt;
use crate::scope::Scope;
use crate::value::to_text;

/// Character index of byte offset `byte` in `s`.
fn char_index(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64
}

/// The substring of `s` between character indexes `from..to`.
fn char_slice(s: &str, from: usize, to: usize) -> String {
    s.chars().skip(from).take(to.saturating_sub(from)).collect()
}

pub(super) fn concat(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(args.iter().map(to_text).collect()))
}

pub(super) fn ends_with(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (text, search) = (string_arg(args, 0)?.to_lowercase(), string_arg(args, 1)?.to_lowercase());
    Ok(Value::Bool(text.ends_with(&search)))
}

pub(super) fn starts_with(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (text, search) = (string_arg(args, 0)?.to_lowercase(), string_arg(args, 1)?.to_lowercase());
    Ok(Value::Bool(text.starts_with(&search)))
}

pub(super) fn format_number(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let number = number_arg(args, 0)?;
    let format = string_arg(args, 1)?;
    let culture = numfmt::culture(opt_string_arg(args, 2)?)?;
    numfmt::format_number(number, format, culture).map(Value::String)
}

pub(super) fn guid(scope: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let format = opt_string_arg(args, 0)?.unwrap_or("D");
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&scope.random_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&scope.random_u64().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dashed = format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
    let text = match format {
        "N" | "n" => hex,
        "D" | "d" | "" => dashed,
        "B" | "b" => format!("{{{dashed}}}"),
        "P" | "p" => format!("({dashed})"),
        "X" | "x" => {
            let tail: Vec<String> = (8..16).map(|i| format!("0x{}", &hex[i * 2..i * 2 + 2])).collect();
            format!("{{0x{},0x{},0x{},{{{}}}}}", &hex[..8], &hex[8..12], &hex[12..16], tail.join(","))
        }
        other => return Err(EvalError::invalid(format!("'{other}' is not a GUID format (N, D, B, P or X)"))),
    };
    Ok(Value::String(text))
}

pub(super) fn index_of(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (text, search) = (string_arg(args, 0)?.to_lowercase(), string_arg(args, 1)?.to_lowercase());
    Ok(Value::from(text.find(&search).map_or(-1, |b| char_index(&text, b))))
}

pub(super) fn last_index_of(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (text, search) = (string_arg(args, 0)?.to_lowercase(), string_arg(args, 1)?.to_lowercase());
    if search.is_empty() {
        return Ok(Value::from((text.chars().count() as i64 - 1).max(0)));
    }
    Ok(Value::from(text.rfind(&search).map_or(-1, |b| char_index(&text, b))))
}

pub(super) fn nth_index_of(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (text, search, n) = (string_arg(args, 0)?, string_arg(args, 1)?, int_arg(args, 2)?);
    if n == 0 {
        return Err(EvalError::invalid("the occurrence must not be 0"));
    }
    if search.is_empty() {
        return Ok(Value::from(if n > 0 { 0 } else { text.chars().count() as i64 }));
    }
    let starts: Vec<usize> =
        text.char_indices().map(|(b, _)| b).filter(|&b| text[b..].starts_with(search)).collect();
    let found = if n > 0 {
        starts.get(n as usize - 1)
    } else {
        starts.iter().rev().nth(n.unsigned_abs() as usize - 1)
    };
    Ok(Value::from(found.map_or(-1, |&b| char_index(text, b))))
}

pub(super) fn length(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    match &args[0] {
        Value::String(s) => Ok(Value::from(s.chars().count())),
        Value::Array(items) => Ok(Value::from(items.len())),
        _ => Err(type_error(args, 0, "string or array")),
    }
}

pub(super) fn replace(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (text, old, new) = (string_arg(args, 0)?, string_arg(args, 1)?, string_arg(args, 2)?);
    if old.is_empty() {
        return Err(EvalError::invalid("the string to replace must not be empty"));
    }
    Ok(Value::String(text.replace(old, new)))
}

pub(super) fn slice(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let text = string_arg(args, 0)?;
    let len = text.chars().count() as i64;
    let clamp = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
    let start = clamp(int_arg(args, 1)?);
    let end = match args.get(2) {
        Some(Value::Null) | None => len,
        Some(_) => clamp(int_arg(args, 2)?),
    };
    Ok(Value::String(if start >= end {
        String::new()
    } else {
        char_slice(text, start as usize, end as usize)
    }))
}

pub(super) fn split(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (text, separator) = (string_arg(args, 0)?, string_arg(args, 1)?);
    if separator.is_empty() {
        return Ok(Value::Array(vec![Value::from(text)]));
    }
    Ok(Value::Array(text.split(separator).map(Value::from).collect()))
}

pub(super) fn substring(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let text = string_arg(args, 0)?;
    let len = text.chars().count() as i64;
    let start = int_arg(args, 1)?;
    let count = match args.get(2) {
        Some(Value::Null) | None => len - start,
        Some(_) => int_arg(args, 2)?,
    };
    if start < 0 || count < 0 || start > len || start.saturating_add(count) > len {
        return Err(EvalError::invalid(
            "parameters are out of range: 'start index' and 'length' must be non-negative integers and their \
             sum must be no larger than the length of the string",
        ));
    }
    Ok(Value::String(char_slice(text, start as usize, (start + count) as usize)))
}

pub(super) fn to_lower(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(string_arg(args, 0)?.to_lowercase()))
}

pub(super) fn to_upper(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(string_arg(args, 0)?.to_uppercase()))
}

pub(super) fn trim(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(string_arg(args, 0)?.trim().to_string()))
}

pub(super) fn is_float(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let text = string_arg(args, 0)?;
    let culture = numfmt::culture(opt_string_arg(args, 1)?)?;
    Ok(Value::Bool(numfmt::parse_float(text, culture).is_some()))
}

pub(super) fn is_int(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let text = string_arg(args, 0)?.trim();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    Ok(Value::Bool(
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && text.parse::<i64>().is_ok(),
    ))
}
