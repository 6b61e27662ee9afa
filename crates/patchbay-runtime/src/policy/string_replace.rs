//! `stringreplace` (spec §4.13): every occurrence of `sourceString` in the string at
//! `propertyParentPath`/`propertySubPath` is replaced by `replacementString` (literal text, not a
//! pattern or an expression), and the result written at `newPropertyPath`. Per element when the
//! parent is an array (Planner's encode/decode chains; FreeAgent turns `url` into `id`).
//!
//! Choices: `sourceString` must not be empty; `replacementString` may be. A source that is not a
//! string leaves the body unchanged.

use super::reshape::{PropertyPaths, Reshape, Reshaping, non_empty_param};
use super::{Behavior, Params, PolicyError};
use serde_json::Value;

struct StringReplace {
    paths: PropertyPaths,
    from: String,
    to: String,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    Ok(Box::new(Reshaping(StringReplace {
        paths: PropertyPaths::from_params(params)?,
        from: non_empty_param(params, "sourceString")?,
        to: params.required_text("replacementString")?,
    })))
}

impl Reshape for StringReplace {
    fn reshape(&self, body: &mut Value) -> Result<(), PolicyError> {
        self.paths.apply(body, false, |source| {
            Ok(source.as_str().map(|text| Value::String(text.replace(&self.from, &self.to))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{params, request_json, response_json};
    use serde_json::json;

    fn policy(parent: &str, sub: &str, from: &str, to: &str, target: &str) -> Box<dyn Behavior> {
        build(&params(
            "stringreplace",
            &[
                ("propertyParentPath", json!(parent)),
                ("propertySubPath", json!(sub)),
                ("sourceString", json!(from)),
                ("replacementString", json!(to)),
                ("newPropertyPath", json!(target)),
            ],
        ))
        .unwrap()
    }

    #[test]
    fn planner_encode_chain_per_element() {
        let chain = [("%", "%25"), (".", "%2E"), (":", "%3A"), ("@", "%40"), ("#", "%23")];
        let mut body = json!({"references": [
            {"resourceLink": "https://contoso.example/a.b#c@d%", "alias": "A"},
            {"alias": "no link"}
        ]});
        for (from, to) in chain {
            let p = policy("@body().references", "resourceLink", from, to, "@item().resourceLink");
            body = request_json(p.as_ref(), body).unwrap();
        }
        assert_eq!(
            body,
            json!({"references": [
                {"resourceLink": "https%3A//contoso%2Eexample/a%2Eb%23c%40d%25", "alias": "A"},
                {"alias": "no link"}
            ]})
        );
        // …and the response chain decodes it again (percent last).
        let back = [("%2E", "."), ("%3A", ":"), ("%40", "@"), ("%23", "#"), ("%25", "%")];
        for (from, to) in back {
            let p = policy("@body().references", "resourceLink", from, to, "@item().resourceLink");
            body = response_json(p.as_ref(), body).unwrap();
        }
        assert_eq!(body["references"][0]["resourceLink"], json!("https://contoso.example/a.b#c@d%"));
    }

    #[test]
    fn freeagent_url_to_id_with_an_empty_replacement() {
        let p = policy("@body().invoices", "url", "https://api.freeagent.com/v2/invoices/", "", "@item().id");
        let body = json!({"invoices": [{"url": "https://api.freeagent.com/v2/invoices/42"}, {"url": 7}]});
        let out = response_json(p.as_ref(), body).unwrap();
        assert_eq!(
            out,
            json!({"invoices": [{"url": "https://api.freeagent.com/v2/invoices/42", "id": "42"}, {"url": 7}]})
        );
    }

    #[test]
    fn an_object_parent_and_a_body_target() {
        let p = policy("@body()", "name", "-", "_", "@body().slug");
        let out = request_json(p.as_ref(), json!({"name": "a-b-c"})).unwrap();
        assert_eq!(out, json!({"name": "a-b-c", "slug": "a_b_c"}));
        assert_eq!(request_json(p.as_ref(), json!({})).unwrap(), json!({}));
    }

    #[test]
    fn an_array_of_strings_element_by_element() {
        let p = policy("@body().tags", "null", " ", "-", "@item()");
        let out = request_json(p.as_ref(), json!({"tags": ["a b", 3, "c d e"]})).unwrap();
        assert_eq!(out, json!({"tags": ["a-b", 3, "c-d-e"]}));
    }

    #[test]
    fn an_empty_source_string_is_rejected() {
        let p = params(
            "stringreplace",
            &[
                ("propertyParentPath", json!("@body()")),
                ("sourceString", json!("")),
                ("replacementString", json!("x")),
                ("newPropertyPath", json!("@body().a")),
            ],
        );
        assert!(matches!(build(&p).err(), Some(PolicyError::BadParameter { .. })));
    }
}
