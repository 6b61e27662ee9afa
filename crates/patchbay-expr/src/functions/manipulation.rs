//! JSON object manipulation and `coalesce`.

use serde_json::Value;

use super::{object_arg, string_arg};
use crate::error::EvalError;
use crate::scope::Scope;

pub(super) fn add_property(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let mut object = object_arg(args, 0)?.clone();
    let name = string_arg(args, 1)?;
    if object.contains_key(name) {
        return Err(EvalError::invalid(format!("the property '{name}' already exists")));
    }
    object.insert(name.to_string(), args[2].clone());
    Ok(Value::Object(object))
}

pub(super) fn set_property(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let mut object = object_arg(args, 0)?.clone();
    object.insert(string_arg(args, 1)?.to_string(), args[2].clone());
    Ok(Value::Object(object))
}

pub(super) fn remove_property(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let mut object = object_arg(args, 0)?.clone();
    object.shift_remove(string_arg(args, 1)?);
    Ok(Value::Object(object))
}

pub(super) fn coalesce(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(args.iter().find(|v| !v.is_null()).cloned().unwrap_or(Value::Null))
}
