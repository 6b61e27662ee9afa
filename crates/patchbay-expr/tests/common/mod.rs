//! Helpers shared by the integration tests.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use patchbay_expr::{EvalError, MapScope, parse_expression};
use serde_json::Value;

/// A scope with a fixed clock (2018-03-15T13:00:00Z) and seeded randomness.
pub fn fixed_scope() -> MapScope {
    let now = Utc.with_ymd_and_hms(2018, 3, 15, 13, 0, 0).single().expect("valid date");
    MapScope::new().now(now).seed(7)
}

/// Evaluates a bare expression against [`fixed_scope`].
pub fn eval(expr: &str) -> Result<Value, EvalError> {
    let parsed = parse_expression(expr).map_err(EvalError::from)?;
    parsed.evaluate(&fixed_scope())
}

/// Checks every `(expression, expected JSON text)` row and reports all mismatches at once.
pub fn check_table(rows: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (expr, expected) in rows {
        let expected: Value = match serde_json::from_str(expected) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{expr}: bad expected JSON {expected}: {e}"));
                continue;
            }
        };
        match eval(expr) {
            Ok(actual) if actual == expected => {}
            Ok(actual) => failures.push(format!("{expr}\n    expected {expected}\n    got      {actual}")),
            Err(e) => failures.push(format!("{expr}\n    expected {expected}\n    error    {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
