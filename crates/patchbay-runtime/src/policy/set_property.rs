//! `setproperty` (spec §4.7): set a property of the request or response body; when the parent is
//! an array, on every element (with `@item()` as that element). The value keeps its JSON type when
//! the template is one `@path` expression; text that is a JSON array or object literal is inserted
//! as JSON; anything else as a string.

use super::{Behavior, BodyPath, Params, PolicyError, PolicyScope, RequestStage, ResponseStage};
use crate::draft::DraftBody;
use crate::response::ResponseBody;
use patchbay_expr::Template;
use serde_json::{Map, Value};

struct SetProperty {
    parent: BodyPath,
    sub: Template,
    value: Template,
    params: Params,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    let parent_text = params.required_text("newPropertyParentPathTemplate")?;
    let parent = BodyPath::parse(&parent_text).ok_or_else(|| PolicyError::BadParameter {
        name: "newPropertyParentPathTemplate".into(),
        reason: format!("`{parent_text}` is not a body path such as @body().items"),
    })?;
    Ok(Box::new(SetProperty {
        parent,
        sub: params.required_template("newPropertySubPathTemplate")?,
        value: params.required_template("propertyValuePathTemplate")?,
        params: Params::from_map(params.template_id(), Default::default()),
    }))
}

impl SetProperty {
    fn value_for(&self, scope: &PolicyScope) -> Result<(String, Value), PolicyError> {
        let sub = patchbay_expr::to_text(&self.sub.evaluate(scope).map_err(|e| self.params.failed(e))?);
        // Real packages also write the property as an accessor: `['@odata.type']`.
        let sub = match sub.trim().strip_prefix("['").and_then(|s| s.strip_suffix("']")) {
            Some(inner) => inner.replace("''", "'"),
            None => sub,
        };
        let value = self.value.evaluate(scope).map_err(|e| self.params.failed(e))?;
        let value = match (&self.value, value) {
            (Template::Expression(_), v) => v,
            (_, Value::String(text)) => match serde_json::from_str::<Value>(text.trim()) {
                Ok(parsed @ (Value::Array(_) | Value::Object(_))) => parsed,
                _ => Value::String(text),
            },
            (_, v) => v,
        };
        Ok((sub, value))
    }

    fn apply(&self, body: &mut Value, scope: &PolicyScope) -> Result<(), PolicyError> {
        let items: Option<Vec<Value>> = self.parent.get(body).and_then(Value::as_array).cloned();
        match items {
            Some(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    let (sub, value) = self.value_for(&scope.with_item(item))?;
                    if let Some(Value::Object(element)) = self.parent.get_mut(body).and_then(|a| a.get_mut(i))
                    {
                        element.insert(sub, value);
                    }
                }
            }
            None => {
                let (sub, value) = self.value_for(scope)?;
                self.parent.child(&sub).set(body, value);
            }
        }
        Ok(())
    }
}

impl Behavior for SetProperty {
    fn on_request(&self, stage: &mut RequestStage<'_>) -> Result<(), PolicyError> {
        if matches!(stage.draft.body, DraftBody::None) {
            stage.draft.body = DraftBody::Json(Value::Object(Map::new()));
        }
        match &mut stage.draft.body {
            DraftBody::Json(body) => self.apply(body, stage.scope),
            _ => Err(self.params.failed("the request body is not JSON")),
        }
    }

    fn on_response(&self, stage: &mut ResponseStage<'_>) -> Result<(), PolicyError> {
        match stage.body {
            ResponseBody::Json(body) => self.apply(body, stage.scope),
            _ => Ok(()), // nothing to shape in a non-JSON response
        }
    }
}
