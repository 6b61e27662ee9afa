//! `moveproperties` (spec §4.17, observed in AzureAD `UpdateUser`): moves the value at
//! `srcParentPath`/`srcSubPath` to `dstParentPath`/`dstSubPath` (a sub path of `"null"` is the
//! parent itself). With `copyOnlySubProperties` `"true"` the source must be an object: it is removed
//! and each of its properties is set on the destination object (flattening
//! `body().customProperties.*` into the body root).
//!
//! Choices: a moved property replaces one of the same name at the destination; a missing source
//! (or, when moving children, a source that is not an object) leaves the body unchanged; a
//! destination that exists and is not an object fails the policy when moving children. Paths are
//! rooted at `@body()`; there is no per-element form.

use super::reshape::{Reshape, Reshaping, flag_param, path_param, sub_param};
use super::{Behavior, BodyPath, Params, PathRoot, PolicyError};
use serde_json::{Map, Value};

struct MoveProperties {
    src: BodyPath,
    dst: BodyPath,
    children_only: bool,
    params: Params,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    params.required_text("srcSubPath")?;
    params.required_text("dstSubPath")?;
    let src = path_param(params, "srcParentPath", &[PathRoot::Body])?.child(&sub_param(params, "srcSubPath"));
    let dst = path_param(params, "dstParentPath", &[PathRoot::Body])?.child(&sub_param(params, "dstSubPath"));
    Ok(Box::new(Reshaping(MoveProperties {
        src,
        dst,
        children_only: flag_param(params, "copyOnlySubProperties", false)?,
        params: Params::from_map(params.template_id(), Map::new()),
    })))
}

/// Removes the value at `path` (the whole body when the path is the root).
fn take_at(path: &BodyPath, body: &mut Value) -> Option<Value> {
    if path.steps.is_empty() { Some(std::mem::take(body)) } else { path.take(body) }
}

impl MoveProperties {
    fn move_children(&self, body: &mut Value) -> Result<(), PolicyError> {
        if !matches!(self.src.get(body), Some(Value::Object(_))) {
            return Ok(());
        }
        if !matches!(self.dst.get(body), None | Some(Value::Null | Value::Object(_))) {
            return Err(self.params.failed("the destination is not an object"));
        }
        let Some(Value::Object(children)) = take_at(&self.src, body) else { return Ok(()) };
        if let Some(Value::Object(dst)) = self.dst.get_mut(body) {
            dst.extend(children);
            return Ok(());
        }
        self.put(body, Value::Object(children))
    }

    fn put(&self, body: &mut Value, value: Value) -> Result<(), PolicyError> {
        if self.dst.set(body, value) {
            Ok(())
        } else {
            Err(self.params.failed("the destination points into a missing array element"))
        }
    }
}

impl Reshape for MoveProperties {
    fn reshape(&self, body: &mut Value) -> Result<(), PolicyError> {
        if self.src == self.dst {
            return Ok(());
        }
        if self.children_only {
            return self.move_children(body);
        }
        match take_at(&self.src, body) {
            Some(value) => self.put(body, value),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{params, request_json, response_json};
    use serde_json::json;

    fn policy(src: (&str, &str), dst: (&str, &str), children: &str) -> Box<dyn Behavior> {
        build(&params(
            "moveproperties",
            &[
                ("srcParentPath", json!(src.0)),
                ("srcSubPath", json!(src.1)),
                ("dstParentPath", json!(dst.0)),
                ("dstSubPath", json!(dst.1)),
                ("copyOnlySubProperties", json!(children)),
            ],
        ))
        .unwrap()
    }

    #[test]
    fn azure_ad_flattens_custom_properties_into_the_root() {
        let p = policy(("@body()", "customProperties"), ("@body()", "null"), "true");
        let body =
            json!({"displayName": "Ann", "customProperties": {"jobTitle": "Dev", "displayName": "Ann B"}});
        let out = request_json(p.as_ref(), body).unwrap();
        assert_eq!(out, json!({"displayName": "Ann B", "jobTitle": "Dev"}));
        // Nothing to move: unchanged.
        assert_eq!(request_json(p.as_ref(), json!({"a": 1})).unwrap(), json!({"a": 1}));
        let odd = json!({"customProperties": "text"});
        assert_eq!(request_json(p.as_ref(), odd.clone()).unwrap(), odd);
    }

    #[test]
    fn moves_a_whole_value() {
        let p = policy(("@body().a", "b"), ("@body().c", "null"), "false");
        let out = response_json(p.as_ref(), json!({"a": {"b": [1, 2], "k": 0}, "c": 9})).unwrap();
        assert_eq!(out, json!({"a": {"k": 0}, "c": [1, 2]}));
        let p = policy(("@body()", "x"), ("@body().deep.er", "y"), "");
        let out = request_json(p.as_ref(), json!({"x": "v"})).unwrap();
        assert_eq!(out, json!({"deep": {"er": {"y": "v"}}}));
    }

    #[test]
    fn children_into_a_new_or_existing_object() {
        let p = policy(("@body()", "extra"), ("@body()", "target"), "true");
        let out = request_json(p.as_ref(), json!({"extra": {"a": 1}})).unwrap();
        assert_eq!(out, json!({"target": {"a": 1}}));
        let out = request_json(p.as_ref(), json!({"extra": {"a": 1}, "target": {"b": 2}})).unwrap();
        assert_eq!(out, json!({"target": {"b": 2, "a": 1}}));
        let err = request_json(p.as_ref(), json!({"extra": {"a": 1}, "target": 3})).unwrap_err();
        assert!(matches!(err, PolicyError::Failed { .. }));
    }

    #[test]
    fn the_whole_body_can_be_the_source() {
        let p = policy(("@body()", "null"), ("@body()", "wrapped"), "false");
        let out = request_json(p.as_ref(), json!({"a": 1})).unwrap();
        assert_eq!(out, json!({"wrapped": {"a": 1}}));
    }

    #[test]
    fn sub_paths_are_required() {
        let p = params(
            "moveproperties",
            &[
                ("srcParentPath", json!("@body()")),
                ("dstParentPath", json!("@body()")),
                ("dstSubPath", json!("x")),
            ],
        );
        assert_eq!(build(&p).err(), Some(PolicyError::MissingParameter("srcSubPath".into())));
    }
}
