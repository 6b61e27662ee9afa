//! `setvaluefromurl` (spec §4.15): before the main call, a side request through the same
//! connection (`httpMethod`, default GET, to `parameterValueUrl` relative to the connector's base
//! URL); then `parameterValuePathTemplate` is evaluated with `body()` = the side response's body and
//! written to the target `parameterTemplate` names: `@headers('X')`/`@header('X')` sets a request
//! header, `@queryParameters('x')` a query parameter (both replacing any value), `@body().a` a body
//! property (keeping the value's JSON type).
//!
//! Choices: `parameterValueUrl` is a policy template; its `{name}` tokens take the operation's path
//! parameter values (encoded as in the original path), and an unfilled token, an absolute URL or a
//! side response without the value fails the policy (a wrong `If-Match` or token is worse than a
//! clear error). The side call runs in the request section only.

use super::{Behavior, BodyPath, Params, PathRoot, PolicyError, PolicyScope, RequestStage, SideRequest};
use crate::draft::DraftBody;
use http::header::{HeaderName, HeaderValue};
use patchbay_expr::Template;
use serde_json::{Map, Value};

/// Where the value goes.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// A request header.
    Header(HeaderName),
    /// A query parameter.
    Query(String),
    /// A property of the JSON request body.
    Body(BodyPath),
}

struct SetValueFromUrl {
    target: Target,
    url: Template,
    value: Template,
    method: http::Method,
    params: Params,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    let target_text = params.required_text("parameterTemplate")?;
    let target = parse_target(&target_text).ok_or_else(|| PolicyError::BadParameter {
        name: "parameterTemplate".into(),
        reason: format!("`{target_text}` is not @headers('…'), @queryParameters('…') or @body()…"),
    })?;
    let method_text = params.text("httpMethod").filter(|m| !m.trim().is_empty());
    let method = match method_text {
        None => http::Method::GET,
        Some(text) => {
            http::Method::from_bytes(text.trim().to_ascii_uppercase().as_bytes()).map_err(|_| {
                PolicyError::BadParameter {
                    name: "httpMethod".into(),
                    reason: format!("`{text}` is not a method"),
                }
            })?
        }
    };
    Ok(Box::new(SetValueFromUrl {
        target,
        url: params.required_template("parameterValueUrl")?,
        value: params.required_template("parameterValuePathTemplate")?,
        method,
        params: Params::from_map(params.template_id(), Map::new()),
    }))
}

/// `@headers('X')`, `@header('X')`, `@queryParameters('x')`, `@queryParameter('x')` or a body path.
fn parse_target(text: &str) -> Option<Target> {
    let text = text.trim();
    if let Some(path) = BodyPath::parse(text) {
        return (path.root == PathRoot::Body && !path.steps.is_empty()).then_some(Target::Body(path));
    }
    let inner =
        text.strip_prefix("@{").and_then(|t| t.strip_suffix('}')).or_else(|| text.strip_prefix('@'))?;
    let (function, rest) = inner.split_once('(')?;
    let arg = rest.trim().strip_suffix(')')?.trim();
    let name = arg.strip_prefix('\'')?.strip_suffix('\'')?.replace("''", "'");
    if name.is_empty() {
        return None;
    }
    match function.trim().to_ascii_lowercase().as_str() {
        "headers" | "header" => HeaderName::from_bytes(name.as_bytes()).ok().map(Target::Header),
        "queryparameters" | "queryparameter" => Some(Target::Query(name)),
        _ => None,
    }
}

/// Replaces `{name}` tokens with the encoded path values.
fn fill_path_tokens(text: &str, path_values: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (name, encoded) in path_values {
        out = out.replace(&format!("{{{name}}}"), encoded);
    }
    out
}

/// The first `{name}` token left in `text`.
fn unfilled_token(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return Some(name);
        }
        rest = after;
    }
    None
}

impl SetValueFromUrl {
    fn write(&self, stage: &mut RequestStage<'_>, value: Value) -> Result<(), PolicyError> {
        match &self.target {
            Target::Header(name) => {
                let text = patchbay_expr::to_text(&value);
                let header = HeaderValue::from_str(&text)
                    .map_err(|_| self.params.failed("the value is not a valid header value"))?;
                stage.draft.headers.insert(name.clone(), header);
            }
            Target::Query(name) => {
                stage.draft.query.retain(|(k, _)| k != name);
                stage.draft.query.push((name.clone(), patchbay_expr::to_text(&value)));
            }
            Target::Body(path) => {
                if matches!(stage.draft.body, DraftBody::None) {
                    stage.draft.body = DraftBody::Json(Value::Object(Map::new()));
                }
                let DraftBody::Json(body) = &mut stage.draft.body else {
                    return Err(self.params.failed("the request body is not JSON"));
                };
                if !path.set(body, value) {
                    return Err(self.params.failed("the body path points into a missing array element"));
                }
            }
        }
        Ok(())
    }
}

impl Behavior for SetValueFromUrl {
    fn side_request(&self, stage: &RequestStage<'_>) -> Result<Option<SideRequest>, PolicyError> {
        let value = self.url.evaluate(stage.scope).map_err(|e| self.params.failed(e))?;
        let text = fill_path_tokens(patchbay_expr::to_text(&value).trim(), stage.path_values);
        if let Some(token) = unfilled_token(&text) {
            return Err(self
                .params
                .failed(format!("the side request URL `{text}` has no value for `{token}`")));
        }
        if text.contains("://") || text.starts_with("//") {
            let reason =
                format!("the side request URL `{text}` must be relative to the connector's base URL");
            return Err(self.params.failed(reason));
        }
        let path_and_query = if text.starts_with('/') { text } else { format!("/{text}") };
        Ok(Some(SideRequest { method: self.method.clone(), path_and_query }))
    }

    fn on_side_response(&self, stage: &mut RequestStage<'_>, body: &Value) -> Result<(), PolicyError> {
        let scope = PolicyScope { body: body.clone(), ..stage.scope.clone() };
        let value = self.value.evaluate(&scope).map_err(|e| self.params.failed(e))?;
        if value.is_null() || value == Value::String(String::new()) {
            return Err(self.params.failed("the side response has no value at `parameterValuePathTemplate`"));
        }
        self.write(stage, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{draft, params};
    use http::Method;
    use serde_json::json;

    fn policy(target: &str, url: &str, value: &str, method: Option<&str>) -> Box<dyn Behavior> {
        let mut pairs = vec![
            ("parameterTemplate", json!(target)),
            ("parameterValueUrl", json!(url)),
            ("parameterValuePathTemplate", json!(value)),
        ];
        if let Some(m) = method {
            pairs.push(("httpMethod", json!(m)));
        }
        build(&params("setvaluefromurl", &pairs)).unwrap()
    }

    /// Runs the side request and feeds `side_body` back; the side request and the draft.
    fn run(
        p: &dyn Behavior,
        body: DraftBody,
        scope: &PolicyScope,
        path_values: &[(String, String)],
        side_body: Value,
    ) -> Result<(SideRequest, crate::draft::HttpDraft), PolicyError> {
        let mut d = draft(body);
        let mut stage = RequestStage { draft: &mut d, scope, path_values };
        let side = p.side_request(&stage)?.expect("a side request");
        p.on_side_response(&mut stage, &side_body)?;
        Ok((side, d))
    }

    #[test]
    fn planner_if_match_from_the_task_etag() {
        let p =
            policy("@headers('If-Match')", "/v1.0/planner/tasks/{id}", "@body()['@odata.etag']", Some("GET"));
        let values = vec![("id".to_string(), "t%2F1".to_string())];
        let side_body = json!({"id": "t/1", "@odata.etag": "W/\"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBARCc=\""});
        let (side, d) =
            run(p.as_ref(), DraftBody::None, &PolicyScope::default(), &values, side_body).unwrap();
        assert_eq!(
            side,
            SideRequest { method: Method::GET, path_and_query: "/v1.0/planner/tasks/t%2F1".into() }
        );
        assert_eq!(d.headers["if-match"], "W/\"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBARCc=\"");
    }

    #[test]
    fn facebook_page_token_into_the_query() {
        let p = policy(
            "@queryParameters('access_token')",
            "/{pageId}?fields=access_token",
            "@body().access_token",
            None,
        );
        let values = vec![("pageId".to_string(), "123".to_string())];
        let mut d = draft(DraftBody::None);
        d.query.push(("access_token".into(), "user-token".into()));
        d.query.push(("message".into(), "hi".into()));
        let scope = PolicyScope::default();
        let mut stage = RequestStage { draft: &mut d, scope: &scope, path_values: &values };
        let side = p.side_request(&stage).unwrap().unwrap();
        assert_eq!(
            side,
            SideRequest { method: Method::GET, path_and_query: "/123?fields=access_token".into() }
        );
        p.on_side_response(&mut stage, &json!({"access_token": "page-token", "id": "123"})).unwrap();
        assert_eq!(
            d.query,
            vec![("message".into(), "hi".into()), ("access_token".into(), "page-token".into())]
        );
    }

    #[test]
    fn cradl_bearer_token_with_post_and_connection_parameters() {
        let p = policy(
            "@headers('Authorization')",
            "oauth2/token?grant_type=client_credentials&client=@connectionParameters('client')",
            "Bearer @{body().access_token}",
            Some("post"),
        );
        let mut scope = PolicyScope::default();
        scope.connection.insert("client".into(), json!("c1"));
        let (side, d) =
            run(p.as_ref(), DraftBody::None, &scope, &[], json!({"access_token": "abc"})).unwrap();
        assert_eq!(side.method, Method::POST);
        assert_eq!(side.path_and_query, "/oauth2/token?grant_type=client_credentials&client=c1");
        assert_eq!(d.headers["authorization"], "Bearer abc");
    }

    #[test]
    fn a_body_property_keeps_its_type() {
        let p = policy("@body().meta.version", "/version", "@body().v", None);
        let body = DraftBody::Json(json!({"name": "x"}));
        let (_, d) = run(p.as_ref(), body, &PolicyScope::default(), &[], json!({"v": {"major": 2}})).unwrap();
        assert_eq!(d.body, DraftBody::Json(json!({"name": "x", "meta": {"version": {"major": 2}}})));
        let form = DraftBody::Form(vec![("a".into(), "b".into())]);
        assert!(run(p.as_ref(), form, &PolicyScope::default(), &[], json!({"v": 1})).is_err());
    }

    #[test]
    fn failures() {
        let p = policy("@headers('If-Match')", "/tasks/{id}", "@body()['@odata.etag']", None);
        let scope = PolicyScope::default();
        let err = run(p.as_ref(), DraftBody::None, &scope, &[], json!({})).unwrap_err();
        assert!(err.to_string().contains("`id`"), "{err}");
        let values = vec![("id".to_string(), "7".to_string())];
        let err = run(p.as_ref(), DraftBody::None, &scope, &values, json!({"other": 1})).unwrap_err();
        assert!(err.to_string().contains("no value"), "{err}");
        let abs = policy("@headers('X')", "https://evil.example/steal", "@body().x", None);
        assert!(run(abs.as_ref(), DraftBody::None, &scope, &[], json!({"x": 1})).is_err());
        let bad_header = policy("@headers('X')", "/a", "@body().x", None);
        assert!(run(bad_header.as_ref(), DraftBody::None, &scope, &[], json!({"x": "a\nb"})).is_err());
    }

    #[test]
    fn targets_and_bad_parameters() {
        assert_eq!(parse_target("@header('x-a')"), Some(Target::Header(HeaderName::from_static("x-a"))));
        assert_eq!(parse_target("@{queryParameter('q')}"), Some(Target::Query("q".into())));
        assert_eq!(
            parse_target("@body()['@odata.etag']"),
            BodyPath::parse("@body()['@odata.etag']").map(Target::Body)
        );
        for bad in
            ["@body()", "@item().x", "@connectionParameters('x')", "@headers()", "@headers('a b')", "x"]
        {
            assert_eq!(parse_target(bad), None, "{bad}");
        }
        let p = params(
            "setvaluefromurl",
            &[
                ("parameterTemplate", json!("@headers('X')")),
                ("parameterValueUrl", json!("/a")),
                ("parameterValuePathTemplate", json!("@body().x")),
                ("httpMethod", json!("GE T")),
            ],
        );
        assert!(matches!(build(&p).err(), Some(PolicyError::BadParameter { .. })));
        let p = params("setvaluefromurl", &[("parameterTemplate", json!("@headers('X')"))]);
        assert!(matches!(build(&p).err(), Some(PolicyError::MissingParameter(_))));
    }
}
