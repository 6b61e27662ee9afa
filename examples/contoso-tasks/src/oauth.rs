//! A small OAuth 2.0 authorization server for local use, and the API's authentication check.
//!
//! `/oauth/authorize` auto-approves (authorization code, optional PKCE S256), `/oauth/token`
//! serves the `authorization_code`, `refresh_token` (with rotation) and `client_credentials`
//! grants, and `/oauth/stats` counts token-endpoint calls per grant type.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::error::{ApiError, QueryMap};
use crate::util::{decode_form_component, encode_component, is_absolute_http_url, random_token};
use crate::{AppState, OAuthClient};

/// How long an authorization code can be redeemed.
const CODE_TTL: Duration = Duration::from_secs(300);
/// How long an expired access token is remembered (to answer "expired" rather than "unknown").
const EXPIRED_GRACE: Duration = Duration::from_secs(600);

const GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

struct AuthCode {
    client_id: String,
    redirect_uri: Option<String>,
    scope: Option<String>,
    challenge: Option<String>,
    expires: Instant,
}

struct Grant {
    client_id: String,
    scope: Option<String>,
}

#[derive(Default)]
struct Tokens {
    codes: HashMap<String, AuthCode>,
    /// Access token -> expiry.
    access: HashMap<String, Instant>,
    refresh: HashMap<String, Grant>,
}

/// Token store and token-endpoint counters.
#[derive(Default)]
pub(crate) struct OAuthState {
    tokens: Mutex<Tokens>,
    /// Calls per grant type, in [`GRANTS`] order, then "other".
    calls: [AtomicU64; 4],
}

/// Result of looking up an access token.
enum TokenCheck {
    Valid,
    Expired,
    Unknown,
}

impl OAuthState {
    fn tokens(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check(&self, token: &str) -> TokenCheck {
        match self.tokens().access.get(token) {
            Some(expires) if Instant::now() < *expires => TokenCheck::Valid,
            Some(_) => TokenCheck::Expired,
            None => TokenCheck::Unknown,
        }
    }

    fn count(&self, grant_type: &str) {
        let i = GRANTS.iter().position(|g| *g == grant_type).unwrap_or(3);
        self.calls[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// Routes of the authorization server (served without API authentication).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/stats", get(stats))
}

// ---------------------------------------------------------------- API authentication

/// Middleware: lets a request through with a valid `X-API-Key` or a live bearer token.
pub(crate) async fn require_auth(State(st): State<AppState>, req: Request, next: Next) -> Response {
    match authenticate(&st, req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn authenticate(st: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(key) = headers.get("x-api-key") {
        let expected = st.config.api_key.as_bytes();
        return if !expected.is_empty() && key.as_bytes() == expected {
            Ok(())
        } else {
            Err(ApiError::unauthorized("The API key is not valid.", r#"Bearer realm="contoso-tasks""#))
        };
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or("");
        let token = match value.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => {
                return Err(ApiError::unauthorized(
                    "The Authorization header must use the Bearer scheme.",
                    r#"Bearer realm="contoso-tasks", error="invalid_request""#,
                ));
            }
        };
        return match st.oauth.check(token) {
            TokenCheck::Valid => Ok(()),
            TokenCheck::Expired => Err(ApiError::unauthorized(
                "The access token has expired.",
                r#"Bearer realm="contoso-tasks", error="invalid_token", error_description="The access token expired""#,
            )),
            TokenCheck::Unknown => Err(ApiError::unauthorized(
                "The access token is not valid.",
                r#"Bearer realm="contoso-tasks", error="invalid_token""#,
            )),
        };
    }
    Err(ApiError::unauthorized(
        "Authentication required: send the API key in the X-API-Key header or an OAuth bearer token.",
        r#"Bearer realm="contoso-tasks""#,
    ))
}

// ---------------------------------------------------------------- responses

/// An RFC 6749 error response: `{"error": "...", "error_description": "..."}`.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = (
        status,
        [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")],
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(r#"Basic realm="contoso-tasks""#),
        );
    }
    resp
}

fn invalid_request(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// `302 Found` to `uri` with `params` appended to its query.
fn redirect(uri: &str, params: &[(&str, Option<&str>)]) -> Response {
    let mut location = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        if let Some(v) = value {
            location.push(sep);
            location.push_str(name);
            location.push('=');
            location.push_str(&encode_component(v));
            sep = '&';
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

// ---------------------------------------------------------------- /oauth/authorize

fn is_base64url_43_128(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `GET /oauth/authorize`: validates the client and redirect URI, then redirects straight back
/// with `code` and `state` (auto-approval for local use).
async fn authorize(State(st): State<AppState>, QueryMap(q): QueryMap) -> Response {
    let param = |name: &str| q.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client) =
        param("client_id").and_then(|id| st.config.oauth_clients.iter().find(|c| c.client_id == id))
    else {
        return invalid_request("Missing or unknown client_id.");
    };
    let given_redirect = param("redirect_uri");
    let redirect_uri = match (given_redirect, client.redirect_uris.as_slice()) {
        (Some(u), _) => u.to_owned(),
        (None, [only]) => only.clone(),
        (None, _) => return invalid_request("redirect_uri is required."),
    };
    if !is_absolute_http_url(&redirect_uri) {
        return invalid_request("redirect_uri must be an absolute http(s) URL without a fragment.");
    }
    if !client.redirect_uris.is_empty() && !client.redirect_uris.contains(&redirect_uri) {
        return invalid_request("redirect_uri is not registered for this client.");
    }
    let state = param("state");
    let fail = |error: &str, description: &str| {
        redirect(
            &redirect_uri,
            &[("error", Some(error)), ("error_description", Some(description)), ("state", state)],
        )
    };
    if param("response_type") != Some("code") {
        return fail("unsupported_response_type", "Only response_type=code is supported.");
    }
    let challenge = match (param("code_challenge"), param("code_challenge_method")) {
        (Some(c), Some("S256")) if is_base64url_43_128(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => {
            return fail("invalid_request", "code_challenge is malformed.");
        }
        (Some(_), _) => {
            return fail("invalid_request", "code_challenge_method must be S256.");
        }
        (None, Some(_)) => {
            return fail("invalid_request", "code_challenge_method given without code_challenge.");
        }
        (None, None) if client.require_pkce => {
            return fail("invalid_request", "This client must use PKCE (S256).");
        }
        (None, None) => None,
    };
    let code = random_token();
    st.oauth.tokens().codes.insert(
        code.clone(),
        AuthCode {
            client_id: client.client_id.clone(),
            redirect_uri: given_redirect.map(str::to_owned),
            scope: param("scope").map(str::to_owned),
            challenge,
            expires: Instant::now() + CODE_TTL,
        },
    );
    redirect(&redirect_uri, &[("code", Some(&code)), ("state", state)])
}

// ---------------------------------------------------------------- /oauth/token

/// Why client authentication failed: (status, RFC 6749 error code, description).
type ClientAuthError = (StatusCode, &'static str, &'static str);

/// Authenticates the client by HTTP Basic or by `client_id`/`client_secret` form fields.
fn authenticate_client<'a>(
    clients: &'a [OAuthClient],
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<&'a OAuthClient, ClientAuthError> {
    let invalid = |d| (StatusCode::UNAUTHORIZED, "invalid_client", d);
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, creds)| creds.trim());
    let (id, secret) = if let Some(creds) = basic {
        let malformed = || invalid("Malformed Basic credentials.");
        let decoded =
            STANDARD.decode(creds).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(malformed)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
        let id = decode_form_component(id).ok_or_else(malformed)?;
        let secret = decode_form_component(secret).ok_or_else(malformed)?;
        if form.get("client_id").is_some_and(|f| *f != id) {
            return Err((
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "client_id differs from the Basic credentials.",
            ));
        }
        (id, secret)
    } else {
        match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => return Err(invalid("Client authentication required.")),
        }
    };
    clients
        .iter()
        .find(|c| c.client_id == id && c.client_secret == secret)
        .ok_or_else(|| invalid("Unknown client or wrong client secret."))
}

/// `POST /oauth/token`.
async fn token(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return invalid_request("Expected an application/x-www-form-urlencoded body.");
    };
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    st.oauth.count(grant_type);
    if grant_type.is_empty() {
        return invalid_request("grant_type is required.");
    }
    if !GRANTS.contains(&grant_type) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Supported grant types: authorization_code, refresh_token, client_credentials.",
        );
    }
    let client = match authenticate_client(&st.config.oauth_clients, &headers, &form) {
        Ok(c) => c,
        Err((status, error, description)) => return oauth_error(status, error, description),
    };
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match grant_type {
        "authorization_code" => {
            let Some(code) = field("code") else {
                return invalid_request("code is required.");
            };
            // A code is single-use: it is consumed even when the exchange fails.
            let Some(entry) = st.oauth.tokens().codes.remove(code) else {
                return invalid_grant("The authorization code is unknown or was already used.");
            };
            if entry.client_id != client.client_id {
                return invalid_grant("The authorization code was issued to another client.");
            }
            if Instant::now() >= entry.expires {
                return invalid_grant("The authorization code has expired.");
            }
            if entry.redirect_uri.is_some() && entry.redirect_uri.as_deref() != field("redirect_uri") {
                return invalid_grant("redirect_uri does not match the authorization request.");
            }
            match (&entry.challenge, field("code_verifier")) {
                (Some(challenge), Some(verifier)) => {
                    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                    if !is_base64url_43_128(verifier) || computed != *challenge {
                        return invalid_grant("PKCE verification failed.");
                    }
                }
                (Some(_), None) => return invalid_grant("code_verifier is required."),
                (None, Some(_)) => {
                    return invalid_grant("code_verifier sent but no code_challenge was used.");
                }
                (None, None) => {}
            }
            issue(&st, &client.client_id, entry.scope, true)
        }
        "refresh_token" => {
            let Some(refresh) = field("refresh_token") else {
                return invalid_request("refresh_token is required.");
            };
            let mut tokens = st.oauth.tokens();
            match tokens.refresh.get(refresh) {
                None => invalid_grant("The refresh token is unknown, revoked or was already used."),
                Some(g) if g.client_id != client.client_id => {
                    invalid_grant("The refresh token was issued to another client.")
                }
                Some(_) => {
                    // Rotation: the presented refresh token is spent.
                    let grant = tokens.refresh.remove(refresh).expect("present");
                    drop(tokens);
                    issue(&st, &client.client_id, grant.scope, true)
                }
            }
        }
        _ => issue(&st, &client.client_id, field("scope").map(str::to_owned), false),
    }
}

/// Issues an access token (and a refresh token when `with_refresh`).
fn issue(st: &AppState, client_id: &str, scope: Option<String>, with_refresh: bool) -> Response {
    let ttl = st.config.access_token_ttl;
    let now = Instant::now();
    let access = random_token();
    let refresh = with_refresh.then(random_token);
    {
        let mut tokens = st.oauth.tokens();
        tokens.access.retain(|_, expires| now < *expires + EXPIRED_GRACE);
        tokens.codes.retain(|_, c| now < c.expires);
        tokens.access.insert(access.clone(), now + ttl);
        if let Some(r) = &refresh {
            let grant = Grant { client_id: client_id.to_owned(), scope: scope.clone() };
            tokens.refresh.insert(r.clone(), grant);
        }
    }
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0),
    });
    if let Some(r) = refresh {
        body["refresh_token"] = Value::String(r);
    }
    if let Some(s) = scope {
        body["scope"] = Value::String(s);
    }
    ([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], Json(body)).into_response()
}

/// `GET /oauth/stats`: token-endpoint calls per grant type.
async fn stats(State(st): State<AppState>) -> Json<Value> {
    let n = |i: usize| st.oauth.calls[i].load(Ordering::Relaxed);
    let total: u64 = (0..4).map(n).sum();
    Json(json!({
        "authorization_code": n(0),
        "refresh_token": n(1),
        "client_credentials": n(2),
        "other": n(3),
        "total": total,
    }))
}
