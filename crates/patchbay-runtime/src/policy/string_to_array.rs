//! `stringtoarray` (spec §4.12): the string at `propertyParentPath`/`propertySubPath`, e.g. `"a;b"`,
//! becomes `[{<childPropertyName>: "a"}, {<childPropertyName>: "b"}]`, written at `newPropertyPath`.
//!
//! Choices: every character of `delimiterList` is a delimiter on its own (`";,"` splits at `;` and
//! at `,`); each part is trimmed of surrounding white space and empty parts are dropped, so
//! `"u1; u2;"` gives two elements and `""` gives `[]`. A source that is not a string (for example an
//! array already) leaves the body unchanged. Per element when the parent is an array.

use super::reshape::{PropertyPaths, Reshape, Reshaping, non_empty_param};
use super::{Behavior, Params, PolicyError};
use serde_json::{Map, Value};

struct StringToArray {
    paths: PropertyPaths,
    delimiters: Vec<char>,
    child: String,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    Ok(Box::new(Reshaping(StringToArray {
        paths: PropertyPaths::from_params(params)?,
        delimiters: non_empty_param(params, "delimiterList")?.chars().collect(),
        child: non_empty_param(params, "childPropertyName")?,
    })))
}

impl StringToArray {
    fn convert(&self, source: &Value) -> Option<Value> {
        let Value::String(text) = source else { return None };
        let parts = text.split(self.delimiters.as_slice()).map(str::trim).filter(|p| !p.is_empty());
        let elements = parts.map(|part| {
            let mut element = Map::new();
            element.insert(self.child.clone(), Value::String(part.to_string()));
            Value::Object(element)
        });
        Some(Value::Array(elements.collect()))
    }
}

impl Reshape for StringToArray {
    fn reshape(&self, body: &mut Value) -> Result<(), PolicyError> {
        self.paths.apply(body, false, |source| Ok(self.convert(source)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{params, request_json, response_json};
    use serde_json::json;

    fn policy(delimiters: &str) -> Box<dyn Behavior> {
        build(&params(
            "stringtoarray",
            &[
                ("propertyParentPath", json!("@body()")),
                ("propertySubPath", json!("assignments")),
                ("delimiterList", json!(delimiters)),
                ("childPropertyName", json!("userId")),
                ("newPropertyPath", json!("@body().assignments")),
            ],
        ))
        .unwrap()
    }

    #[test]
    fn spec_example() {
        let out = request_json(policy(";").as_ref(), json!({"assignments": "a;b"})).unwrap();
        assert_eq!(out, json!({"assignments": [{"userId": "a"}, {"userId": "b"}]}));
    }

    #[test]
    fn every_character_delimits_and_parts_are_trimmed() {
        let p = policy(";,");
        let out = request_json(p.as_ref(), json!({"assignments": " u1; u2,u3;; ", "title": "T"})).unwrap();
        assert_eq!(
            out,
            json!({"assignments": [{"userId": "u1"}, {"userId": "u2"}, {"userId": "u3"}], "title": "T"})
        );
        let out = response_json(p.as_ref(), json!({"assignments": ""})).unwrap();
        assert_eq!(out, json!({"assignments": []}));
    }

    #[test]
    fn non_strings_and_missing_values_are_left_alone() {
        let p = policy(";");
        for body in [json!({"assignments": [{"userId": "a"}]}), json!({"assignments": 5}), json!({"x": 1})] {
            assert_eq!(request_json(p.as_ref(), body.clone()).unwrap(), body);
        }
    }

    #[test]
    fn per_element_into_item() {
        let p = build(&params(
            "stringtoarray",
            &[
                ("propertyParentPath", json!("@body().rows")),
                ("propertySubPath", json!("tags")),
                ("delimiterList", json!("|")),
                ("childPropertyName", json!("name")),
                ("newPropertyPath", json!("@item().tagList")),
            ],
        ))
        .unwrap();
        let out = request_json(p.as_ref(), json!({"rows": [{"tags": "x|y"}, {"tags": "z"}]})).unwrap();
        assert_eq!(
            out,
            json!({"rows": [{"tags": "x|y", "tagList": [{"name": "x"}, {"name": "y"}]},
                            {"tags": "z", "tagList": [{"name": "z"}]}]})
        );
    }

    #[test]
    fn an_empty_delimiter_list_is_rejected() {
        let p = params(
            "stringtoarray",
            &[
                ("propertyParentPath", json!("@body()")),
                ("delimiterList", json!("")),
                ("childPropertyName", json!("userId")),
                ("newPropertyPath", json!("@body().a")),
            ],
        );
        assert!(matches!(build(&p).err(), Some(PolicyError::BadParameter { .. })));
    }
}
