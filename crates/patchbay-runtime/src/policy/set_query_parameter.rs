//! `setqueryparameter` (spec §4.4): set, append or keep a query parameter.

use super::set_header::ExistsAction;
use super::{Behavior, Params, PolicyError, RequestStage};
use patchbay_expr::Template;

struct SetQueryParameter {
    name: String,
    value: Template,
    action: ExistsAction,
    params: Params,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    Ok(Box::new(SetQueryParameter {
        name: params.required_text("name")?,
        value: params.required_template("value")?,
        action: ExistsAction::parse(params.text("existsAction").as_deref()),
        params: Params::from_map(params.template_id(), Default::default()),
    }))
}

impl Behavior for SetQueryParameter {
    fn on_request(&self, stage: &mut RequestStage<'_>) -> Result<(), PolicyError> {
        let query = &mut stage.draft.query;
        let present = query.iter().any(|(k, _)| *k == self.name);
        if self.action == ExistsAction::Skip && present {
            return Ok(());
        }
        let value = self.value.evaluate(stage.scope).map_err(|e| self.params.failed(e))?;
        let text = patchbay_expr::to_text(&value);
        if self.action == ExistsAction::Override {
            query.retain(|(k, _)| *k != self.name);
        }
        query.push((self.name.clone(), text));
        Ok(())
    }
}
