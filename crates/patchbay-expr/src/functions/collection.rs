//! Collection functions over arrays, strings and objects.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::{int_arg, opt_string_arg, string_arg, type_error};
use crate::error::EvalError;
use crate::scope::Scope;
use crate::value::{Num, json_equal, to_text, type_name};

pub(super) fn chunk(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let size = int_arg(args, 1)?;
    if size <= 0 {
        return Err(EvalError::invalid("the chunk length must be a positive integer"));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    match &args[0] {
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            Ok(Value::Array(chars.chunks(size).map(|c| Value::String(c.iter().collect())).collect()))
        }
        Value::Array(items) => {
            Ok(Value::Array(items.chunks(size).map(|c| Value::Array(c.to_vec())).collect()))
        }
        _ => Err(type_error(args, 0, "string or array")),
    }
}

pub(super) fn contains(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let found = match (&args[0], &args[1]) {
        (Value::String(s), Value::String(v)) => s.contains(v.as_str()),
        (Value::String(s), v @ (Value::Number(_) | Value::Bool(_))) => s.contains(&to_text(v)),
        (Value::String(_), _) => return Err(type_error(args, 1, "string")),
        (Value::Array(items), v) => items.iter().any(|i| json_equal(i, v)),
        (Value::Object(map), Value::String(k)) => map.contains_key(k),
        (Value::Object(_), _) => return Err(type_error(args, 1, "string")),
        _ => return Err(type_error(args, 0, "string, array or object")),
    };
    Ok(Value::Bool(found))
}

pub(super) fn create_array(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::Array(args.to_vec()))
}

pub(super) fn empty(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let is_empty = match &args[0] {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => return Err(type_error(args, 0, "string, array or object")),
    };
    Ok(Value::Bool(is_empty))
}

pub(super) fn first(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    match &args[0] {
        Value::String(s) => Ok(Value::String(s.chars().next().map(String::from).unwrap_or_default())),
        Value::Array(items) => Ok(items.first().cloned().unwrap_or(Value::Null)),
        _ => Err(type_error(args, 0, "string or array")),
    }
}

pub(super) fn last(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    match &args[0] {
        Value::String(s) => Ok(Value::String(s.chars().last().map(String::from).unwrap_or_default())),
        Value::Array(items) => Ok(items.last().cloned().unwrap_or(Value::Null)),
        _ => Err(type_error(args, 0, "string or array")),
    }
}

/// Appends `v` unless an equal value is already there.
fn push_unique(out: &mut Vec<Value>, v: &Value) {
    if !out.iter().any(|o| json_equal(o, v)) {
        out.push(v.clone());
    }
}

/// All arguments as arrays, or all as objects.
enum Collections<'a> {
    Arrays(Vec<&'a Vec<Value>>),
    Objects(Vec<&'a Map<String, Value>>),
}

fn collections(args: &[Value]) -> Result<Collections<'_>, EvalError> {
    if args[0].is_array() {
        let arrays =
            args.iter().enumerate().map(|(i, a)| a.as_array().ok_or_else(|| type_error(args, i, "array")));
        arrays.collect::<Result<_, _>>().map(Collections::Arrays)
    } else {
        let objects =
            args.iter().enumerate().map(|(i, a)| a.as_object().ok_or_else(|| type_error(args, i, "object")));
        objects.collect::<Result<_, _>>().map(Collections::Objects)
    }
}

pub(super) fn intersection(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    match collections(args)? {
        Collections::Arrays(arrays) => {
            let mut out = Vec::new();
            for item in arrays[0] {
                if arrays[1..].iter().all(|a| a.iter().any(|x| json_equal(x, item))) {
                    push_unique(&mut out, item);
                }
            }
            Ok(Value::Array(out))
        }
        Collections::Objects(objects) => {
            let mut out = Map::new();
            for (k, v) in objects[0] {
                if objects[1..].iter().all(|o| o.get(k).is_some_and(|w| json_equal(v, w))) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Ok(Value::Object(out))
        }
    }
}

pub(super) fn union(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    match collections(args)? {
        Collections::Arrays(arrays) => {
            let mut out = Vec::new();
            for item in arrays.into_iter().flatten() {
                push_unique(&mut out, item);
            }
            Ok(Value::Array(out))
        }
        Collections::Objects(objects) => {
            let mut out = Map::new();
            for (k, v) in objects.into_iter().flatten() {
                out.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(out))
        }
    }
}

pub(super) fn join(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let items = args[0].as_array().ok_or_else(|| type_error(args, 0, "array"))?;
    let separator = string_arg(args, 1)?;
    Ok(Value::String(items.iter().map(to_text).collect::<Vec<_>>().join(separator)))
}

pub(super) fn reverse(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let items = args[0].as_array().ok_or_else(|| type_error(args, 0, "array"))?;
    Ok(Value::Array(items.iter().rev().cloned().collect()))
}

fn count_arg(args: &[Value]) -> Result<usize, EvalError> {
    let n = int_arg(args, 1)?;
    usize::try_from(n).map_err(|_| EvalError::invalid("the count must not be negative"))
}

pub(super) fn skip(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let n = count_arg(args)?;
    match &args[0] {
        Value::Array(items) => Ok(Value::Array(items.iter().skip(n).cloned().collect())),
        Value::String(s) => Ok(Value::String(s.chars().skip(n).collect())),
        _ => Err(type_error(args, 0, "array or string")),
    }
}

pub(super) fn take(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let n = count_arg(args)?;
    match &args[0] {
        Value::Array(items) => Ok(Value::Array(items.iter().take(n).cloned().collect())),
        Value::String(s) => Ok(Value::String(s.chars().take(n).collect())),
        _ => Err(type_error(args, 0, "array or string")),
    }
}

/// Orders two scalars of the same kind (numbers, strings, booleans; nulls first).
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (Num::of(x), Num::of(y)) {
            (Num::Int(i), Num::Int(j)) => Some(i.cmp(&j)),
            (x, y) => x.as_f64().partial_cmp(&y.as_f64()),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Null, _) => Some(Ordering::Less),
        (_, Value::Null) => Some(Ordering::Greater),
        _ => None,
    }
}

pub(super) fn sort(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let items = args[0].as_array().ok_or_else(|| type_error(args, 0, "array"))?;
    let key = opt_string_arg(args, 1)?;
    let sort_key = |v: &Value| -> Value {
        match key {
            Some(k) => v.get(k).cloned().unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    let mut keyed: Vec<(Value, &Value)> = items.iter().map(|v| (sort_key(v), v)).collect();
    let kind = |v: &Value| match v {
        Value::Number(_) => "Number",
        other => type_name(other),
    };
    let mut kinds = keyed.iter().map(|(k, _)| kind(k)).filter(|k| *k != "Null");
    if let Some(first) = kinds.next() {
        if let Some(other) = kinds.find(|k| *k != first) {
            return Err(EvalError::invalid(format!(
                "cannot compare values of types '{first}' and '{other}'"
            )));
        }
        if matches!(first, "Array" | "Object") {
            return Err(EvalError::invalid(format!("cannot sort values of type '{first}'")));
        }
    }
    keyed.sort_by(|a, b| compare(&a.0, &b.0).unwrap_or(Ordering::Equal));
    Ok(Value::Array(keyed.into_iter().map(|(_, v)| v.clone()).collect()))
}
