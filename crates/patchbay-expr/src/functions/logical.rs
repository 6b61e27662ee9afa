//! Logical and comparison functions. All arguments are evaluated before the function runs (Logic
//! Apps does not short-circuit `if`, `and` or `or`). `null` compares as the empty string.

use std::cmp::Ordering;

use serde_json::Value;

use super::{bool_arg, type_error};
use crate::error::EvalError;
use crate::scope::Scope;
use crate::value::{Num, json_equal, type_name};

pub(super) fn and(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let mut all = true;
    for i in 0..args.len() {
        all &= bool_arg(args, i)?;
    }
    Ok(Value::Bool(all))
}

pub(super) fn or(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let mut any = false;
    for i in 0..args.len() {
        any |= bool_arg(args, i)?;
    }
    Ok(Value::Bool(any))
}

pub(super) fn not(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::Bool(!bool_arg(args, 0)?))
}

pub(super) fn if_(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(if bool_arg(args, 0)? { args[1].clone() } else { args[2].clone() })
}

/// `null` as the empty string, for comparisons.
fn null_as_empty(v: &Value) -> Value {
    if v.is_null() { Value::String(String::new()) } else { v.clone() }
}

pub(super) fn equals(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::Bool(json_equal(&null_as_empty(&args[0]), &null_as_empty(&args[1]))))
}

/// Orders two arguments: numbers by value, strings ordinally, booleans false < true.
fn order(args: &[Value]) -> Result<Ordering, EvalError> {
    let (a, b) = (null_as_empty(&args[0]), null_as_empty(&args[1]));
    let ordering = match (&a, &b) {
        (Value::Number(x), Value::Number(y)) => match (Num::of(x), Num::of(y)) {
            (Num::Int(i), Num::Int(j)) => Some(i.cmp(&j)),
            (x, y) => x.as_f64().partial_cmp(&y.as_f64()),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    };
    ordering.ok_or_else(|| {
        if matches!(a, Value::Number(_) | Value::String(_) | Value::Bool(_)) {
            type_error(args, 1, type_name(&a))
        } else {
            type_error(args, 0, "number, string or boolean")
        }
    })
}

pub(super) fn greater(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::Bool(order(args)? == Ordering::Greater))
}

pub(super) fn greater_or_equals(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::Bool(order(args)? != Ordering::Less))
}

pub(super) fn less(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::Bool(order(args)? == Ordering::Less))
}

pub(super) fn less_or_equals(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::Bool(order(args)? != Ordering::Greater))
}
