//! Helpers for the templates' unit tests: parameters, drafts and stages built by hand.

use super::{Behavior, Params, PolicyError, PolicyScope, RequestStage, ResponseFlags, ResponseStage};
use crate::draft::{DraftBody, HttpDraft};
use crate::response::ResponseBody;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value};

/// Parameters of `template` from name/value pairs.
pub fn params(template: &str, pairs: &[(&str, Value)]) -> Params {
    let map: Map<String, Value> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    Params::from_map(template, map)
}

/// A `POST https://api.example.com/v1/things` draft with this body.
pub fn draft(body: DraftBody) -> HttpDraft {
    HttpDraft {
        method: Method::POST,
        base_url: "https://api.example.com/v1".into(),
        path: "/things".into(),
        query: Vec::new(),
        headers: HeaderMap::new(),
        body,
    }
}

/// Runs the request hook on a JSON body with an empty scope; the resulting body.
pub fn request_json(behavior: &dyn Behavior, body: Value) -> Result<Value, PolicyError> {
    let mut draft = draft(DraftBody::Json(body.clone()));
    let scope = PolicyScope { body, ..PolicyScope::default() };
    behavior.on_request(&mut RequestStage { draft: &mut draft, scope: &scope, path_values: &[] })?;
    match draft.body {
        DraftBody::Json(v) => Ok(v),
        other => panic!("the body is no longer JSON: {other:?}"),
    }
}

/// What a response hook left behind.
pub struct ResponseOutcome {
    /// The body.
    pub body: ResponseBody,
    /// The headers.
    pub headers: HeaderMap,
    /// The flags.
    pub flags: ResponseFlags,
}

/// Runs the response hook with this status and body.
pub fn response(
    behavior: &dyn Behavior,
    status: u16,
    body: ResponseBody,
) -> Result<ResponseOutcome, PolicyError> {
    let mut out = ResponseOutcome { body, headers: HeaderMap::new(), flags: ResponseFlags::default() };
    let scope = PolicyScope { body: out.body.to_value(), ..PolicyScope::default() };
    let status = StatusCode::from_u16(status).expect("a valid status in tests");
    behavior.on_response(&mut ResponseStage {
        status,
        headers: &mut out.headers,
        body: &mut out.body,
        scope: &scope,
        flags: &mut out.flags,
    })?;
    Ok(out)
}

/// Runs the response hook on a JSON body; the resulting body.
pub fn response_json(behavior: &dyn Behavior, body: Value) -> Result<Value, PolicyError> {
    match response(behavior, 200, ResponseBody::Json(body))?.body {
        ResponseBody::Json(v) => Ok(v),
        other => panic!("the body is no longer JSON: {other:?}"),
    }
}
