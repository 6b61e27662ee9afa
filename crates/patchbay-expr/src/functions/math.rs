//! Math functions: integer arithmetic when both operands are integers (with `div` truncating, as
//! Logic Apps does), floating-point as soon as one operand is a float.

use std::cmp::Ordering;

use serde_json::Value;

use super::{int_arg, number_arg, type_error};
use crate::error::{EvalError, EvalErrorKind};
use crate::scope::Scope;
use crate::value::Num;

/// Most items `range` may produce (the Logic Apps limit).
const RANGE_LIMIT: i64 = 100_000;

fn overflow() -> EvalError {
    EvalError::new(EvalErrorKind::Arithmetic, "the result is outside the range of a 64-bit integer")
}

fn divide_by_zero() -> EvalError {
    EvalError::new(EvalErrorKind::Arithmetic, "attempted to divide by zero")
}

/// Applies an integer or a floating-point operation, by the operands' types.
fn arith(
    args: &[Value],
    int: fn(i64, i64) -> Result<i64, EvalError>,
    float: fn(f64, f64) -> Result<f64, EvalError>,
) -> Result<Value, EvalError> {
    let (a, b) = (number_arg(args, 0)?, number_arg(args, 1)?);
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => int(x, y).map(|n| Num::Int(n).into_value())?,
        (x, y) => Num::Float(float(x.as_f64(), y.as_f64())?).into_value(),
    }
}

pub(super) fn add(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    arith(args, |a, b| a.checked_add(b).ok_or_else(overflow), |a, b| Ok(a + b))
}

pub(super) fn sub(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    arith(args, |a, b| a.checked_sub(b).ok_or_else(overflow), |a, b| Ok(a - b))
}

pub(super) fn mul(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    arith(args, |a, b| a.checked_mul(b).ok_or_else(overflow), |a, b| Ok(a * b))
}

pub(super) fn div(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    arith(
        args,
        |a, b| if b == 0 { Err(divide_by_zero()) } else { a.checked_div(b).ok_or_else(overflow) },
        |a, b| if b == 0.0 { Err(divide_by_zero()) } else { Ok(a / b) },
    )
}

pub(super) fn modulo(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    arith(
        args,
        |a, b| if b == 0 { Err(divide_by_zero()) } else { a.checked_rem(b).ok_or_else(overflow) },
        |a, b| if b == 0.0 { Err(divide_by_zero()) } else { Ok(a % b) },
    )
}

/// The numbers of `max`/`min`: one array argument, or the arguments themselves.
fn numbers(args: &[Value]) -> Result<Vec<(Num, &Value)>, EvalError> {
    let (items, from_array) = match args {
        [Value::Array(items)] => (items.as_slice(), true),
        _ => (args, false),
    };
    if items.is_empty() {
        return Err(EvalError::invalid("expects at least one number"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Number(n) => Ok((Num::of(n), v)),
            _ if from_array => Err(EvalError::invalid("expects an array of numbers")),
            _ => Err(type_error(args, i, "number")),
        })
        .collect()
}

/// The argument that compares `wanted` against all others (ties keep the first).
fn pick(args: &[Value], wanted: Ordering) -> Result<Value, EvalError> {
    let numbers = numbers(args)?;
    let mut best = &numbers[0];
    for candidate in &numbers[1..] {
        let ordering = match (candidate.0, best.0) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        };
        if ordering == Some(wanted) {
            best = candidate;
        }
    }
    Ok(best.1.clone())
}

pub(super) fn max(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    pick(args, Ordering::Greater)
}

pub(super) fn min(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    pick(args, Ordering::Less)
}

pub(super) fn rand(scope: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (low, high) = (int_arg(args, 0)?, int_arg(args, 1)?);
    if low >= high {
        return Err(EvalError::invalid("the minimum value must be less than the maximum value"));
    }
    let span = high.abs_diff(low);
    let offset = scope.random_u64() % span;
    Ok(Value::from(low.wrapping_add_unsigned(offset)))
}

pub(super) fn range(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (start, count) = (int_arg(args, 0)?, int_arg(args, 1)?);
    if !(0..=RANGE_LIMIT).contains(&count) {
        return Err(EvalError::invalid(format!("the count must be between 0 and {RANGE_LIMIT}")));
    }
    start.checked_add(count).ok_or_else(overflow)?;
    Ok(Value::Array((start..start + count).map(Value::from).collect()))
}
