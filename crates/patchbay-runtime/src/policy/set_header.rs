//! `setheader` (spec §4.3): set, append or keep a header, in the request, response or failure section.

use super::{Behavior, Params, PolicyError, RequestStage, ResponseStage};
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use patchbay_expr::{Scope, Template};

/// What to do when the header is already there (`existsAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistsAction {
    /// Replace every value (the default).
    Override,
    /// Keep what is there.
    Skip,
    /// Add another value.
    Append,
}

impl ExistsAction {
    /// Parses `existsAction`, `override` when absent or unknown.
    pub fn parse(text: Option<&str>) -> Self {
        match text.map(str::to_ascii_lowercase).as_deref() {
            Some("skip") => Self::Skip,
            Some("append") => Self::Append,
            _ => Self::Override,
        }
    }
}

struct SetHeader {
    name: HeaderName,
    value: Template,
    action: ExistsAction,
    params: Params,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    let raw = params.required_text("name")?;
    let name = HeaderName::from_bytes(raw.trim().as_bytes())
        .map_err(|e| PolicyError::BadParameter { name: "name".into(), reason: e.to_string() })?;
    Ok(Box::new(SetHeader {
        name,
        value: params.required_template("value")?,
        action: ExistsAction::parse(params.text("existsAction").as_deref()),
        params: Params::from_map(params.template_id(), Default::default()),
    }))
}

impl SetHeader {
    fn apply(&self, headers: &mut HeaderMap, scope: &dyn Scope) -> Result<(), PolicyError> {
        if self.action == ExistsAction::Skip && headers.contains_key(&self.name) {
            return Ok(());
        }
        let text = patchbay_expr::to_text(&self.value.evaluate(scope).map_err(|e| self.params.failed(e))?);
        let value = HeaderValue::from_str(&text)
            .map_err(|_| self.params.failed("the value is not a valid header value"))?;
        match self.action {
            ExistsAction::Append => {
                headers.append(self.name.clone(), value);
            }
            _ => {
                headers.insert(self.name.clone(), value);
            }
        }
        Ok(())
    }
}

impl Behavior for SetHeader {
    fn on_request(&self, stage: &mut RequestStage<'_>) -> Result<(), PolicyError> {
        self.apply(&mut stage.draft.headers, stage.scope)
    }

    fn on_response(&self, stage: &mut ResponseStage<'_>) -> Result<(), PolicyError> {
        self.apply(stage.headers, stage.scope)
    }
}
