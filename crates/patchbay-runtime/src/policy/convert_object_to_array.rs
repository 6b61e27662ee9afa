//! `convertobjecttoarray` (spec §4.11): the object at `propertyParentPath`/`propertySubPath`,
//! `{k1: v1, …}`, becomes `[{<keyName>: k1, <valueName>: v1}, …]` (in the object's order), written
//! at `newPropertyPath`. `keyName` defaults to `key`, `valueName` to `value`. When the parent is an
//! array (Planner's `@body().value`), each element is converted, with `@item()` in the new path
//! meaning that element. A source that is not an object leaves the body unchanged.

use super::reshape::{PropertyPaths, Reshape, Reshaping};
use super::{Behavior, Params, PolicyError};
use serde_json::{Map, Value};

struct ConvertObjectToArray {
    paths: PropertyPaths,
    key_name: String,
    value_name: String,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    let name_or = |name: &str, default: &str| {
        params.text(name).filter(|t| !t.trim().is_empty()).unwrap_or_else(|| default.to_string())
    };
    Ok(Box::new(Reshaping(ConvertObjectToArray {
        paths: PropertyPaths::from_params(params)?,
        key_name: name_or("keyName", "key"),
        value_name: name_or("valueName", "value"),
    })))
}

impl ConvertObjectToArray {
    fn convert(&self, source: &Value) -> Option<Value> {
        let Value::Object(map) = source else { return None };
        let entries = map.iter().map(|(k, v)| {
            let mut entry = Map::new();
            entry.insert(self.key_name.clone(), Value::String(k.clone()));
            entry.insert(self.value_name.clone(), v.clone());
            Value::Object(entry)
        });
        Some(Value::Array(entries.collect()))
    }
}

impl Reshape for ConvertObjectToArray {
    fn reshape(&self, body: &mut Value) -> Result<(), PolicyError> {
        self.paths.apply(body, false, |source| Ok(self.convert(source)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{params, request_json, response_json};
    use serde_json::json;

    fn policy(pairs: &[(&str, Value)]) -> Box<dyn Behavior> {
        build(&params("convertobjecttoarray", pairs)).unwrap()
    }

    #[test]
    fn spec_example() {
        let p = policy(&[
            ("propertyParentPath", json!("@body()")),
            ("propertySubPath", json!("sounds")),
            ("newPropertyPath", json!("@body().soundList")),
            ("keyName", json!("code")),
            ("valueName", json!("label")),
        ]);
        let out = response_json(p.as_ref(), json!({"sounds": {"bell": "Bell", "siren": "Siren"}})).unwrap();
        assert_eq!(
            out,
            json!({"sounds": {"bell": "Bell", "siren": "Siren"},
                   "soundList": [{"code": "bell", "label": "Bell"}, {"code": "siren", "label": "Siren"}]})
        );
    }

    #[test]
    fn default_names_and_the_whole_body_as_source() {
        // CO2 Signal: sub path "null" converts the body itself.
        let p = policy(&[
            ("propertyParentPath", json!("@body()")),
            ("propertySubPath", json!("null")),
            ("newPropertyPath", json!("@body().Zones")),
        ]);
        let out = response_json(p.as_ref(), json!({"DE": {"zoneName": "Germany"}})).unwrap();
        assert_eq!(
            out,
            json!({"DE": {"zoneName": "Germany"}, "Zones": [{"key": "DE", "value": {"zoneName": "Germany"}}]})
        );
    }

    #[test]
    fn per_element_with_item_in_the_new_path() {
        // Planner ListTasks_V3.
        let p = policy(&[
            ("propertyParentPath", json!("@body().value")),
            ("propertySubPath", json!("assignments")),
            ("newPropertyPath", json!("@item()._assignments")),
            ("keyName", json!("userId")),
            ("valueName", json!("value")),
        ]);
        let body = json!({"value": [
            {"id": "t1", "assignments": {"u1": {"orderHint": "a"}, "u2": {"orderHint": "b"}}},
            {"id": "t2", "assignments": {}},
            {"id": "t3"}
        ]});
        let out = response_json(p.as_ref(), body).unwrap();
        assert_eq!(
            out,
            json!({"value": [
                {"id": "t1", "assignments": {"u1": {"orderHint": "a"}, "u2": {"orderHint": "b"}},
                 "_assignments": [{"userId": "u1", "value": {"orderHint": "a"}},
                                  {"userId": "u2", "value": {"orderHint": "b"}}]},
                {"id": "t2", "assignments": {}, "_assignments": []},
                {"id": "t3"}
            ]})
        );
    }

    #[test]
    fn replaces_in_place_and_ignores_non_objects() {
        let p = policy(&[
            ("propertyParentPath", json!("@body()")),
            ("propertySubPath", json!("checklist")),
            ("newPropertyPath", json!("@body().checklist")),
            ("keyName", json!("id")),
        ]);
        let out = request_json(p.as_ref(), json!({"checklist": {"c1": {"title": "A"}}})).unwrap();
        assert_eq!(out, json!({"checklist": [{"id": "c1", "value": {"title": "A"}}]}));
        for body in [json!({"checklist": [1]}), json!({"checklist": "x"}), json!({})] {
            assert_eq!(request_json(p.as_ref(), body.clone()).unwrap(), body);
        }
    }
}
