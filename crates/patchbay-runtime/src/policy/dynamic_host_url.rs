//! `dynamichosturl` and its older alias `dynamicsubdomain` (spec §4.6): the evaluated template
//! replaces the connector's base URL (`scheme://host/basePath`) for the operation.

use super::{Behavior, Params, PolicyError, RequestStage};
use patchbay_expr::Template;

struct DynamicHostUrl {
    url: Template,
    params: Params,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    Ok(Box::new(DynamicHostUrl {
        url: params.required_template("urlTemplate")?,
        params: Params::from_map(params.template_id(), Default::default()),
    }))
}

impl Behavior for DynamicHostUrl {
    fn on_request(&self, stage: &mut RequestStage<'_>) -> Result<(), PolicyError> {
        let value = self.url.evaluate(stage.scope).map_err(|e| self.params.failed(e))?;
        let text = patchbay_expr::to_text(&value);
        let text = text.trim().trim_end_matches('/');
        if text.is_empty() {
            return Err(self.params.failed("the URL template evaluated to nothing"));
        }
        // A connection parameter may hold a bare host; https is assumed then.
        stage.draft.base_url =
            if text.contains("://") { text.to_string() } else { format!("https://{text}") };
        Ok(())
    }
}
