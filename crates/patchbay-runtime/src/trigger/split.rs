//! Debatching (spec §5.2.3): `splitOn` turns one poll's outputs into events, one per array element;
//! a key picked from each event lets the caller drop events it has already seen.

use super::Fired;
use crate::plan::CompiledConnector;
use crate::policy::{BodyPath, Step, polling_trigger_config};
use patchbay_expr::{MapScope, parse_expression, parse_template};
use patchbay_spec::model::{Cardinality, Operation};
use patchbay_spec::refs::resolve_schema;
use serde_json::{Value, json};

/// Why `splitOn` could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitError {
    /// The expression does not parse.
    #[error("splitOn `{expression}` is not a valid expression: {reason}")]
    Parse {
        /// The expression.
        expression: String,
        /// The parser's message.
        reason: String,
    },
    /// The expression failed on these outputs.
    #[error("splitOn `{expression}` failed on the trigger outputs: {reason}")]
    Evaluate {
        /// The expression.
        expression: String,
        /// The evaluator's message.
        reason: String,
    },
}

/// The events of one firing: with `splitOn` (e.g. `@triggerBody()?['value']`,
/// `@triggerOutputs()?['body/value']`), one per element of the array it yields (a non-array
/// value is one event, null none); without it, one event holding the whole body.
pub fn split_items(outputs: &Fired, split_on: Option<&str>) -> Result<Vec<Value>, SplitError> {
    let Some(text) = split_on.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(vec![outputs.body.clone()]);
    };
    let parse_error =
        |e: &dyn std::fmt::Display| SplitError::Parse { expression: text.to_string(), reason: e.to_string() };
    let scope = MapScope::new()
        .value("triggerBody", outputs.body.clone())
        .value("triggerOutputs", json!({"headers": outputs.headers, "body": outputs.body}));
    let evaluated = if text.starts_with('@') {
        parse_template(text).map_err(|e| parse_error(&e))?.evaluate(&scope)
    } else {
        parse_expression(text).map_err(|e| parse_error(&e))?.evaluate(&scope)
    };
    let value = evaluated
        .map_err(|e| SplitError::Evaluate { expression: text.to_string(), reason: e.to_string() })?;
    Ok(match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        one => vec![one],
    })
}

/// The key of an event at `path` (`id`, `task.id` or the pointer `/task/id`): strings as they
/// are, numbers and booleans as text, objects and arrays as compact JSON; `None` when missing or null.
pub fn dedup_key(item: &Value, path: &str) -> Option<String> {
    let path = path.trim();
    if path.is_empty() {
        return None;
    }
    let found = if path.starts_with('/') {
        item.pointer(path)?
    } else {
        path.split('.').try_fold(item, |value, key| match value {
            Value::Array(items) => items.get(key.parse::<usize>().ok()?),
            _ => value.get(key),
        })?
    };
    match found {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The `splitOn` a designer would choose for a trigger: the `triggerDataPath` of its
/// `pollingtrigger` policy; else, for `x-ms-trigger: batch`, the array of its 200 response
/// (a root array → `@triggerBody()`, else the `value` array property, else the first array
/// property → `@triggerBody()?['name']`). `None` for single triggers and unknown shapes.
pub fn default_split_on(connector: &CompiledConnector, operation_id: &str) -> Option<String> {
    if let Some(Ok(config)) = polling_trigger_config(&connector.connector, operation_id) {
        return Some(match config.data_path() {
            Some(path) => split_on_text(path),
            None => "@triggerBody()".to_string(),
        });
    }
    let (_, operation) = connector.connector.operation(operation_id)?;
    if operation.trigger != Some(Cardinality::Batch) {
        return None;
    }
    let schema = response_schema(operation)?;
    let schema = resolve_schema(&connector.connector, schema).ok()?;
    let is_array = |s: &Value| {
        let s = resolve_schema(&connector.connector, s).unwrap_or(s);
        s.get("type").and_then(Value::as_str) == Some("array")
    };
    if is_array(schema) {
        return Some("@triggerBody()".to_string());
    }
    let properties = schema.get("properties")?.as_object()?;
    let name = properties
        .get("value")
        .filter(|s| is_array(s))
        .map(|_| "value")
        .or_else(|| properties.iter().find(|(_, s)| is_array(s)).map(|(name, _)| name.as_str()))?;
    Some(format!("@triggerBody()?['{}']", quote(name)))
}

/// The schema of the 200 response, or else of the success response.
fn response_schema(operation: &Operation) -> Option<&Value> {
    let ok = operation.responses.iter().find(|r| r.status == "200");
    ok.or_else(|| operation.success_response())?.schema.as_ref()
}

/// A body path as a null-safe `splitOn` expression: `@triggerBody()?['a']?[0]`.
fn split_on_text(path: &BodyPath) -> String {
    let mut out = "@triggerBody()".to_string();
    for step in &path.steps {
        match step {
            Step::Key(key) => out.push_str(&format!("?['{}']", quote(key))),
            Step::Index(i) => out.push_str(&format!("?[{i}]")),
        }
    }
    out
}

/// A property name inside a single-quoted string literal.
fn quote(name: &str) -> String {
    name.replace('\'', "''")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(body: Value) -> Fired {
        Fired { headers: json!({"x-total": "2"}), body }
    }

    #[test]
    fn every_split_on_form_yields_the_array_elements() {
        let outputs = fired(json!({"value": [{"id": "a"}, {"id": "b"}], "count": 2}));
        for expression in [
            "@triggerBody()?['value']",
            "@triggerBody().value",
            "@triggerOutputs()?['body/value']",
            "@triggerOutputs()?['body']?['value']",
            "triggerBody()?['value']",
        ] {
            let items = split_items(&outputs, Some(expression)).unwrap();
            assert_eq!(items, vec![json!({"id": "a"}), json!({"id": "b"})], "{expression}");
        }
        let root = fired(json!([1, 2, 3]));
        assert_eq!(split_items(&root, Some("@triggerBody()")).unwrap().len(), 3);
    }

    #[test]
    fn no_split_on_is_one_event_and_odd_results_are_one_or_none() {
        let outputs = fired(json!({"value": [1, 2], "one": {"id": 1}}));
        assert_eq!(split_items(&outputs, None).unwrap(), vec![outputs.body.clone()]);
        assert_eq!(split_items(&outputs, Some("  ")).unwrap(), vec![outputs.body.clone()]);
        assert_eq!(split_items(&outputs, Some("@triggerBody()?['one']")).unwrap(), vec![json!({"id": 1})]);
        assert!(split_items(&outputs, Some("@triggerBody()?['missing']")).unwrap().is_empty());
        assert_eq!(
            split_items(&outputs, Some("@triggerOutputs()['headers']['x-total']")).unwrap(),
            vec![json!("2")]
        );
    }

    #[test]
    fn bad_expressions_say_so() {
        let outputs = fired(json!({}));
        assert!(matches!(split_items(&outputs, Some("@triggerBody(")), Err(SplitError::Parse { .. })));
        let err = split_items(&outputs, Some("@triggerBody().value.x")).unwrap_err();
        assert!(matches!(err, SplitError::Evaluate { .. }), "{err:?}");
        assert!(err.to_string().contains("triggerBody().value.x"), "{err}");
    }

    #[test]
    fn dedup_keys_by_name_dotted_path_or_pointer() {
        let item = json!({"id": 42, "task": {"id": "t-1", "tags": ["a", "b"], "done": false}, "gone": null});
        assert_eq!(dedup_key(&item, "id").as_deref(), Some("42"));
        assert_eq!(dedup_key(&item, "task.id").as_deref(), Some("t-1"));
        assert_eq!(dedup_key(&item, "/task/id").as_deref(), Some("t-1"));
        assert_eq!(dedup_key(&item, "task.tags.1").as_deref(), Some("b"));
        assert_eq!(dedup_key(&item, "task.done").as_deref(), Some("false"));
        assert_eq!(dedup_key(&item, "task.tags").as_deref(), Some("[\"a\",\"b\"]"));
        assert_eq!(dedup_key(&item, "gone"), None);
        assert_eq!(dedup_key(&item, "missing.id"), None);
        assert_eq!(dedup_key(&item, ""), None);
        assert_eq!(dedup_key(&json!("text"), "id"), None);
    }

    #[test]
    fn body_paths_become_null_safe_expressions() {
        let path = BodyPath::parse("@triggerBody().data['it''s'][0]").unwrap();
        assert_eq!(split_on_text(&path), "@triggerBody()?['data']?['it''s']?[0]");
    }
}
