//! What the body-reshaping templates share (`convertarraytoobject`, `convertobjecttoarray`,
//! `stringtoarray`, `stringreplace`, `encodepropertyvalue`, `moveproperties`): JSON paths read
//! from parameters, a source at `propertyParentPath` + `propertySubPath`, a target at
//! `newPropertyPath`, and per-element application when the parent is an array.
//!
//! Per element: when the parent resolves to an array, the template runs once per element, reading
//! `element[propertySubPath]` (the element itself when the sub path is `"null"`) and writing the
//! target with `@item()` meaning that element (`@body()` targets stay rooted at the body). When
//! the parent is not an array, `@item()` in the target means the parent itself. A missing source,
//! or a source of the wrong JSON type, leaves the body unchanged; a body that is not JSON (form,
//! multipart, raw, empty) is left alone.

use super::body_path::Step;
use super::{Behavior, BodyPath, Params, PathRoot, PolicyError, RequestStage, ResponseStage};
use crate::draft::DraftBody;
use crate::response::ResponseBody;
use serde_json::Value;

/// A JSON body transformation; wrapped in [`Reshaping`] it runs in the request and response sections.
pub(super) trait Reshape: Send + Sync {
    /// Changes the body in place.
    fn reshape(&self, body: &mut Value) -> Result<(), PolicyError>;
}

/// Runs a [`Reshape`] on JSON request and response bodies.
pub(super) struct Reshaping<T>(pub T);

impl<T: Reshape> Behavior for Reshaping<T> {
    fn on_request(&self, stage: &mut RequestStage<'_>) -> Result<(), PolicyError> {
        match &mut stage.draft.body {
            DraftBody::Json(body) => self.0.reshape(body),
            _ => Ok(()),
        }
    }

    fn on_response(&self, stage: &mut ResponseStage<'_>) -> Result<(), PolicyError> {
        match stage.body {
            ResponseBody::Json(body) => self.0.reshape(body),
            _ => Ok(()),
        }
    }
}

/// A parameter holding a body path, with the roots it may use.
pub(super) fn path_param(params: &Params, name: &str, roots: &[PathRoot]) -> Result<BodyPath, PolicyError> {
    let text = params.required_text(name)?;
    let bad = |reason: String| PolicyError::BadParameter { name: name.to_string(), reason };
    let path =
        BodyPath::parse(&text).ok_or_else(|| bad(format!("`{text}` is not a path such as @body().a")))?;
    if !roots.contains(&path.root) {
        return Err(bad(format!("`{text}` must start with {}", root_names(roots))));
    }
    Ok(path)
}

/// `@body()` or `@body()`/`@item()`, for messages.
fn root_names(roots: &[PathRoot]) -> String {
    let names: Vec<&str> = roots
        .iter()
        .map(|r| match r {
            PathRoot::Body => "@body()",
            PathRoot::Item => "@item()",
            PathRoot::TriggerBody => "@triggerBody()",
        })
        .collect();
    names.join(" or ")
}

/// A sub path parameter: a property name, or empty for the parent itself (absent or `"null"`).
pub(super) fn sub_param(params: &Params, name: &str) -> String {
    let text = params.text(name).unwrap_or_default();
    let text = text.trim();
    if text.eq_ignore_ascii_case("null") { String::new() } else { text.to_string() }
}

/// A yes/no parameter (`"true"`/`"false"`, any case, or a JSON boolean); `default` when absent or empty.
pub(super) fn flag_param(params: &Params, name: &str, default: bool) -> Result<bool, PolicyError> {
    match params.value(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(default),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(PolicyError::BadParameter {
            name: name.to_string(),
            reason: format!("`{other}` is neither true nor false"),
        }),
    }
}

/// A text parameter that must be present and not empty.
pub(super) fn non_empty_param(params: &Params, name: &str) -> Result<String, PolicyError> {
    let text = params.required_text(name)?;
    if text.is_empty() {
        return Err(PolicyError::BadParameter { name: name.to_string(), reason: "it is empty".into() });
    }
    Ok(text)
}

/// The path `steps` further down from `base`, rooted where `base` is.
fn join(base: &BodyPath, steps: &[Step]) -> BodyPath {
    let mut path = base.clone();
    path.steps.extend_from_slice(steps);
    path
}

/// One place a template reads (`source`) and writes (`target`), both rooted at the body.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Slot {
    /// Where the value comes from.
    pub source: BodyPath,
    /// Where the result goes.
    pub target: BodyPath,
}

/// `propertyParentPath`, `propertySubPath` and `newPropertyPath` of one instance.
pub(super) struct PropertyPaths {
    parent: BodyPath,
    sub: String,
    target: BodyPath,
    template_id: String,
}

impl PropertyPaths {
    /// Reads the three parameters (the sub path is optional).
    pub(super) fn from_params(params: &Params) -> Result<Self, PolicyError> {
        Ok(PropertyPaths {
            parent: path_param(params, "propertyParentPath", &[PathRoot::Body])?,
            sub: sub_param(params, "propertySubPath"),
            target: path_param(params, "newPropertyPath", &[PathRoot::Body, PathRoot::Item])?,
            template_id: params.template_id().to_string(),
        })
    }

    /// Where to read and write in `body`: once per element when the parent is an array, except
    /// when `array_source` says the template consumes arrays and the sub path names the parent itself.
    pub(super) fn slots(&self, body: &Value, array_source: bool) -> Vec<Slot> {
        let elements = match self.parent.get(body) {
            Some(Value::Array(items)) if !(array_source && self.sub.is_empty()) => items.len(),
            _ => return vec![self.slot(&self.parent)],
        };
        (0..elements).map(|i| self.slot(&join(&self.parent, &[Step::Index(i)]))).collect()
    }

    /// The slot with `item` as the `@item()` of the target.
    fn slot(&self, item: &BodyPath) -> Slot {
        let target = match self.target.root {
            PathRoot::Item => join(item, &self.target.steps),
            _ => self.target.clone(),
        };
        Slot { source: item.child(&self.sub), target }
    }

    /// Runs `convert` on every slot's source; writes each `Some` result to the slot's target.
    pub(super) fn apply(
        &self,
        body: &mut Value,
        array_source: bool,
        mut convert: impl FnMut(&Value) -> Result<Option<Value>, PolicyError>,
    ) -> Result<(), PolicyError> {
        for slot in self.slots(body, array_source) {
            let Some(source) = slot.source.get(body) else { continue };
            let Some(result) = convert(source)? else { continue };
            if !slot.target.set(body, result) {
                return Err(self.failed("the new property path points into a missing array element"));
            }
        }
        Ok(())
    }

    /// An error while running this instance.
    pub(super) fn failed(&self, reason: impl std::fmt::Display) -> PolicyError {
        PolicyError::Failed { policy: self.template_id.clone(), reason: reason.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::params;
    use serde_json::json;

    fn paths(parent: &str, sub: &str, target: &str) -> PropertyPaths {
        let p = params(
            "stringreplace",
            &[
                ("propertyParentPath", json!(parent)),
                ("propertySubPath", json!(sub)),
                ("newPropertyPath", json!(target)),
            ],
        );
        PropertyPaths::from_params(&p).unwrap()
    }

    #[test]
    fn slots_per_element_and_for_the_parent() {
        let body = json!({"list": [{"a": 1}, {"a": 2}], "obj": {"a": 3}});
        let slots = paths("@body().list", "a", "@item().b").slots(&body, false);
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[1].source, BodyPath::parse("@body().list[1].a").unwrap());
        assert_eq!(slots[1].target, BodyPath::parse("@body().list[1].b").unwrap());
        let slots = paths("@body().obj", "null", "@item().b").slots(&body, false);
        assert_eq!(
            slots,
            vec![Slot {
                source: BodyPath::parse("@body().obj").unwrap(),
                target: BodyPath::parse("@body().obj.b").unwrap()
            }]
        );
        // An array consumer with the array itself as the source: one slot.
        assert_eq!(paths("@body().list", "null", "@body().x").slots(&body, true).len(), 1);
        assert_eq!(paths("@body().list", "a", "@body().x").slots(&body, true).len(), 2);
    }

    #[test]
    fn parameters_are_checked() {
        let bad = params(
            "stringreplace",
            &[("propertyParentPath", json!("body")), ("newPropertyPath", json!("@body()"))],
        );
        assert!(matches!(PropertyPaths::from_params(&bad), Err(PolicyError::BadParameter { .. })));
        let item_parent = params(
            "stringreplace",
            &[("propertyParentPath", json!("@item()")), ("newPropertyPath", json!("@body()"))],
        );
        assert!(matches!(PropertyPaths::from_params(&item_parent), Err(PolicyError::BadParameter { .. })));
        let missing = params("stringreplace", &[("propertyParentPath", json!("@body()"))]);
        assert_eq!(
            PropertyPaths::from_params(&missing).err(),
            Some(PolicyError::MissingParameter("newPropertyPath".into()))
        );
        let p = params("x", &[("retainKey", json!("FALSE")), ("other", json!("maybe")), ("b", json!(true))]);
        assert_eq!(flag_param(&p, "retainKey", true), Ok(false));
        assert_eq!(flag_param(&p, "absent", true), Ok(true));
        assert_eq!(flag_param(&p, "b", false), Ok(true));
        assert!(flag_param(&p, "other", true).is_err());
    }
}
