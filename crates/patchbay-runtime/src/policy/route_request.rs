//! `routerequesttoendpoint` (spec §4.5): replace the operation's path (and maybe its method).
//! `{param}` tokens in the new path take the operation's path parameter values, encoded as the
//! original path encodes them; the query string is kept. The base URL, including any `basePath`,
//! stays as it is (every repository example has `basePath: "/"`).

use super::{Behavior, Params, PolicyError, RequestStage};
use patchbay_expr::Template;

struct RouteRequest {
    path: Template,
    method: Option<Template>,
    params: Params,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    Ok(Box::new(RouteRequest {
        path: params.required_template("newPath")?,
        method: params.template("httpMethod")?,
        params: Params::from_map(params.template_id(), Default::default()),
    }))
}

impl Behavior for RouteRequest {
    fn on_request(&self, stage: &mut RequestStage<'_>) -> Result<(), PolicyError> {
        let value = self.path.evaluate(stage.scope).map_err(|e| self.params.failed(e))?;
        let mut path = patchbay_expr::to_text(&value);
        for (name, encoded) in stage.path_values {
            path = path.replace(&format!("{{{name}}}"), encoded);
        }
        if let Some((p, query)) = path.split_once('?') {
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            stage.draft.query.extend(pairs);
            path = p.to_string();
        }
        stage.draft.path = if path.starts_with('/') { path } else { format!("/{path}") };
        if let Some(method) = &self.method {
            let text =
                patchbay_expr::to_text(&method.evaluate(stage.scope).map_err(|e| self.params.failed(e))?);
            let method = http::Method::from_bytes(text.trim().to_ascii_uppercase().as_bytes())
                .map_err(|_| self.params.failed(format!("`{text}` is not an HTTP method")))?;
            stage.draft.method = method;
        }
        Ok(())
    }
}
