//! `convertarraytoobject` (spec §4.10): the array at `propertyParentPath`/`propertySubPath` becomes
//! an object keyed by each element's `keyWithinCollectionPath` value (without that key when
//! `retainKey` is `"false"`), written at `newPropertyPath`. Request and response sections.
//!
//! Choices: the key may be a property name or an `@item()…` path into the element; string keys are
//! used as they are, numbers and booleans as their JSON text; an element that is not an object or
//! has no usable key fails the policy (dropping it silently would lose data); when two elements
//! share a key the later one wins. A source that is not an array leaves the body unchanged. When
//! the parent is an array and the sub path names a property, each element's array is converted.

use super::reshape::{PropertyPaths, Reshape, Reshaping, flag_param, non_empty_param};
use super::{Behavior, BodyPath, Params, PathRoot, PolicyError};
use serde_json::{Map, Value};

struct ConvertArrayToObject {
    paths: PropertyPaths,
    key: BodyPath,
    key_text: String,
    retain_key: bool,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    let key_text = non_empty_param(params, "keyWithinCollectionPath")?;
    let key = key_path(&key_text).ok_or_else(|| PolicyError::BadParameter {
        name: "keyWithinCollectionPath".into(),
        reason: format!("`{key_text}` is neither a property name nor an @item() path"),
    })?;
    Ok(Box::new(Reshaping(ConvertArrayToObject {
        paths: PropertyPaths::from_params(params)?,
        key,
        key_text,
        retain_key: flag_param(params, "retainKey", true)?,
    })))
}

/// `userId` as a one-step path into an element, or `@item().a.b` as written.
fn key_path(text: &str) -> Option<BodyPath> {
    let text = text.trim();
    if text.starts_with('@') {
        return BodyPath::parse(text).filter(|p| p.root == PathRoot::Item && !p.steps.is_empty());
    }
    Some(BodyPath::parse("@item()")?.child(text))
}

impl ConvertArrayToObject {
    fn convert(&self, source: &Value) -> Result<Option<Value>, PolicyError> {
        let Value::Array(items) = source else { return Ok(None) };
        let mut out = Map::new();
        for (i, item) in items.iter().enumerate() {
            let key = match self.key.get(item) {
                Some(Value::String(s)) => s.clone(),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                _ => {
                    let reason = format!("element {i} of the array has no `{}` key", self.key_text);
                    return Err(self.paths.failed(reason));
                }
            };
            let mut element = item.clone();
            if !self.retain_key {
                self.key.take(&mut element);
            }
            out.insert(key, element);
        }
        Ok(Some(Value::Object(out)))
    }
}

impl Reshape for ConvertArrayToObject {
    fn reshape(&self, body: &mut Value) -> Result<(), PolicyError> {
        self.paths.apply(body, true, |source| self.convert(source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{params, request_json, response_json};
    use serde_json::json;

    fn policy(pairs: &[(&str, Value)]) -> Box<dyn Behavior> {
        build(&params("convertarraytoobject", pairs)).unwrap()
    }

    #[test]
    fn spec_example_without_the_key() {
        let p = policy(&[
            ("propertyParentPath", json!("@body()")),
            ("propertySubPath", json!("assignees")),
            ("keyWithinCollectionPath", json!("userId")),
            ("newPropertyPath", json!("@body().assignees")),
            ("retainKey", json!("false")),
        ]);
        let body =
            json!({"assignees": [{"userId": "u1", "role": "owner"}, {"userId": "u2", "role": "viewer"}]});
        let out = request_json(p.as_ref(), body).unwrap();
        assert_eq!(out, json!({"assignees": {"u1": {"role": "owner"}, "u2": {"role": "viewer"}}}));
    }

    #[test]
    fn keeps_the_key_by_default_and_writes_elsewhere_in_the_response() {
        let p = policy(&[
            ("propertyParentPath", json!("@body().data")),
            ("keyWithinCollectionPath", json!("id")),
            ("newPropertyPath", json!("@body().byId")),
            ("x-ms-apimTemplate-policySection", json!("Response")),
        ]);
        let body = json!({"data": [{"id": 7, "n": "a"}, {"id": 8, "n": "b"}]});
        let out = response_json(p.as_ref(), body).unwrap();
        assert_eq!(
            out,
            json!({"data": [{"id": 7, "n": "a"}, {"id": 8, "n": "b"}],
                   "byId": {"7": {"id": 7, "n": "a"}, "8": {"id": 8, "n": "b"}}})
        );
    }

    #[test]
    fn planner_checklist_and_nested_keys() {
        let p = policy(&[
            ("propertyParentPath", json!("@body()")),
            ("propertySubPath", json!("checklist")),
            ("keyWithinCollectionPath", json!("@item().ref.id")),
            ("newPropertyPath", json!("@body().checklist")),
            ("retainKey", json!("false")),
        ]);
        let body = json!({"checklist": [{"ref": {"id": "c1", "x": 1}, "title": "Buy"}], "keep": true});
        let out = request_json(p.as_ref(), body).unwrap();
        assert_eq!(out, json!({"checklist": {"c1": {"ref": {"x": 1}, "title": "Buy"}}, "keep": true}));
    }

    #[test]
    fn per_element_when_the_parent_is_an_array() {
        let p = policy(&[
            ("propertyParentPath", json!("@body().value")),
            ("propertySubPath", json!("tags")),
            ("keyWithinCollectionPath", json!("k")),
            ("newPropertyPath", json!("@item().tags")),
            ("retainKey", json!("false")),
        ]);
        let body = json!({"value": [{"tags": [{"k": "a", "v": 1}]}, {"tags": []}, {"other": 1}]});
        let out = request_json(p.as_ref(), body).unwrap();
        assert_eq!(out, json!({"value": [{"tags": {"a": {"v": 1}}}, {"tags": {}}, {"other": 1}]}));
    }

    #[test]
    fn missing_or_non_array_sources_change_nothing_and_bad_elements_fail() {
        let p = policy(&[
            ("propertyParentPath", json!("@body()")),
            ("propertySubPath", json!("assignees")),
            ("keyWithinCollectionPath", json!("userId")),
            ("newPropertyPath", json!("@body().assignees")),
        ]);
        for body in [json!({}), json!({"assignees": {"u1": {}}}), json!({"assignees": "u1"}), json!(null)] {
            assert_eq!(request_json(p.as_ref(), body.clone()).unwrap(), body);
        }
        let err =
            request_json(p.as_ref(), json!({"assignees": [{"userId": "u1"}, {"role": "x"}]})).unwrap_err();
        assert!(err.to_string().contains("element 1"), "{err}");
        assert!(request_json(p.as_ref(), json!({"assignees": [3]})).is_err());
    }

    #[test]
    fn bad_parameters() {
        let base = [
            ("propertyParentPath", json!("@body()")),
            ("newPropertyPath", json!("@body().x")),
            ("keyWithinCollectionPath", json!("@body().id")),
        ];
        assert!(build(&params("convertarraytoobject", &base)).is_err());
        let mut no_key = base.to_vec();
        no_key.pop();
        assert_eq!(
            build(&params("convertarraytoobject", &no_key)).err(),
            Some(PolicyError::MissingParameter("keyWithinCollectionPath".into()))
        );
        let mut bad_flag = no_key.clone();
        bad_flag.push(("keyWithinCollectionPath", json!("id")));
        bad_flag.push(("retainKey", json!("sometimes")));
        assert!(matches!(
            build(&params("convertarraytoobject", &bad_flag)).err(),
            Some(PolicyError::BadParameter { .. })
        ));
    }
}
