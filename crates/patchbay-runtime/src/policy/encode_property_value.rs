//! `encodepropertyvalue` (spec §4.14): the string at `propertyParentPath`/`propertySubPath` is
//! URL-encoded and written at `newPropertyPath`. Per element when the parent is an array (Planner
//! encodes `assignments[].userId`).
//!
//! Choices: percent-encoding of the UTF-8 bytes with upper-case hex digits; only the RFC 3986
//! unreserved characters (`A–Z a–z 0–9 - . _ ~`) are kept, so a space becomes `%20` (not `+`) and
//! `@` becomes `%40`. A source that is not a string leaves the body unchanged.

use super::reshape::{PropertyPaths, Reshape, Reshaping};
use super::{Behavior, Params, PolicyError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Everything but the RFC 3986 unreserved characters.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

struct EncodePropertyValue {
    paths: PropertyPaths,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    Ok(Box::new(Reshaping(EncodePropertyValue { paths: PropertyPaths::from_params(params)? })))
}

/// Percent-encodes `text`, keeping only the unreserved characters.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, RESERVED).to_string()
}

impl Reshape for EncodePropertyValue {
    fn reshape(&self, body: &mut Value) -> Result<(), PolicyError> {
        self.paths.apply(body, false, |source| Ok(source.as_str().map(|text| Value::String(encode(text)))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{params, request_json, response_json};
    use serde_json::json;

    #[test]
    fn encodes_all_but_unreserved_characters() {
        assert_eq!(encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(encode("a b+c/d?e=f&g@h#i%j"), "a%20b%2Bc%2Fd%3Fe%3Df%26g%40h%23i%25j");
        assert_eq!(encode("é✓"), "%C3%A9%E2%9C%93");
        assert_eq!(encode(""), "");
    }

    #[test]
    fn planner_assignments_per_element() {
        let p = build(&params(
            "encodepropertyvalue",
            &[
                ("propertyParentPath", json!("@body().assignments")),
                ("propertySubPath", json!("userId")),
                ("newPropertyPath", json!("@item().userId")),
            ],
        ))
        .unwrap();
        let body =
            json!({"assignments": [{"userId": "ann@contoso.example"}, {"userId": "6a1b-c"}, {"x": 1}]});
        let out = request_json(p.as_ref(), body).unwrap();
        assert_eq!(
            out,
            json!({"assignments": [{"userId": "ann%40contoso.example"}, {"userId": "6a1b-c"}, {"x": 1}]})
        );
    }

    #[test]
    fn a_single_value_into_another_property() {
        let p = build(&params(
            "encodepropertyvalue",
            &[
                ("propertyParentPath", json!("@body()")),
                ("propertySubPath", json!("q")),
                ("newPropertyPath", json!("@body().encoded.q")),
            ],
        ))
        .unwrap();
        let out = response_json(p.as_ref(), json!({"q": "a&b"})).unwrap();
        assert_eq!(out, json!({"q": "a&b", "encoded": {"q": "a%26b"}}));
        assert_eq!(response_json(p.as_ref(), json!({"q": 1})).unwrap(), json!({"q": 1}));
    }
}
