//! Reading token endpoint responses (RFC 6749 §5): JSON, or form-encoded as some providers send.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use url::form_urlencoded;

use crate::security::error::scrub;
use crate::security::{SecurityError, TokenSet};
use crate::wire::WireResponse;

/// Longest provider error description kept, in characters.
const MAX_DESCRIPTION: usize = 500;

/// The token set in a response, or the provider's error with `secrets` (and any token the body
/// carried) removed. A refresh answer without a new refresh token keeps `previous_refresh`.
pub(crate) fn parse_token_response(
    response: &WireResponse,
    previous_refresh: Option<&str>,
    secrets: &[&str],
    now: SystemTime,
) -> Result<TokenSet, SecurityError> {
    let fields = read_fields(response);
    let text = |k: &str| fields.as_ref().and_then(|f| f.get(k)).and_then(value_string);
    let error = text("error");
    if !response.status.is_success() || error.is_some() {
        let mut all: Vec<&str> = secrets.to_vec();
        let body_tokens = [text("access_token"), text("refresh_token"), text("id_token")];
        all.extend(body_tokens.iter().flatten().map(String::as_str));
        let clean = |s: Option<String>| s.map(|s| truncate(&scrub(&s, &all)));
        return Err(SecurityError::TokenEndpoint {
            status: response.status.as_u16(),
            error: clean(error),
            description: clean(text("error_description")),
        });
    }
    let Some(fields) = fields.as_ref() else {
        return Err(SecurityError::InvalidTokenResponse(
            "the body is neither a JSON object nor a form".into(),
        ));
    };
    let access_token = text("access_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SecurityError::InvalidTokenResponse("it has no access_token".into()))?;
    let expires_at = seconds(fields.get("expires_in"))
        .and_then(|s| now.checked_add(Duration::from_secs(s)))
        .or_else(|| {
            seconds(fields.get("expires_on"))
                .and_then(|s| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(s)))
        });
    Ok(TokenSet {
        access_token,
        refresh_token: text("refresh_token")
            .filter(|t| !t.is_empty())
            .or_else(|| previous_refresh.map(str::to_string)),
        expires_at,
        token_type: text("token_type"),
        scope: text("scope"),
    })
}

/// The body's fields: a JSON object, else `application/x-www-form-urlencoded` pairs.
fn read_fields(response: &WireResponse) -> Option<Map<String, Value>> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&response.body) {
        return Some(map);
    }
    let is_form = response.header("content-type").is_some_and(|c| c.contains("x-www-form-urlencoded"));
    is_form.then(|| {
        form_urlencoded::parse(&response.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()
    })
}

/// A string field (numbers written out).
fn value_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whole seconds from a number or numeric string (`expires_in` is a string at some providers).
fn seconds(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
        }
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
}

/// At most [`MAX_DESCRIPTION`] characters.
fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_DESCRIPTION) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    fn response(status: u16, body: &str, content_type: &str) -> WireResponse {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", content_type.parse().unwrap());
        WireResponse { status: StatusCode::from_u16(status).unwrap(), headers, body: body.to_string().into() }
    }

    #[test]
    fn reads_json_tokens_and_keeps_previous_refresh_token() {
        let now = SystemTime::now();
        let r = response(
            200,
            r#"{"access_token":"a","expires_in":"60","token_type":"bearer"}"#,
            "application/json",
        );
        let t = parse_token_response(&r, Some("old"), &[], now).unwrap();
        assert_eq!(t.access_token, "a");
        assert_eq!(t.refresh_token.as_deref(), Some("old"));
        assert_eq!(t.expires_at, Some(now + Duration::from_secs(60)));
    }

    #[test]
    fn reads_form_tokens() {
        let r = response(200, "access_token=x%20y&scope=repo", "application/x-www-form-urlencoded");
        let t = parse_token_response(&r, None, &[], SystemTime::now()).unwrap();
        assert_eq!((t.access_token.as_str(), t.scope.as_deref(), t.expires_at), ("x y", Some("repo"), None));
    }

    #[test]
    fn errors_carry_provider_error_without_secrets() {
        let body = r#"{"error":"invalid_client","error_description":"secret s3cr3t-value is wrong"}"#;
        let r = response(401, body, "application/json");
        let e = parse_token_response(&r, None, &["s3cr3t-value"], SystemTime::now()).unwrap_err();
        assert_eq!(e.to_string(), "the token endpoint answered 401: invalid_client: secret *** is wrong");
        let ok_status_error = response(200, r#"{"error":"bad_verification_code"}"#, "application/json");
        let e = parse_token_response(&ok_status_error, None, &[], SystemTime::now()).unwrap_err();
        assert!(matches!(e, SecurityError::TokenEndpoint { status: 200, .. }));
        let missing = response(200, r#"{"token":"x"}"#, "application/json");
        let e = parse_token_response(&missing, None, &[], SystemTime::now()).unwrap_err();
        assert!(matches!(e, SecurityError::InvalidTokenResponse(_)));
    }
}
