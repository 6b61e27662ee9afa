//! Signing in and out of the portal. A session is a random cookie value whose hash the store keeps
//! with the user and a CSRF token (see `patchbay_store::PortalSessions`), so every server node knows
//! it and signing out ends it everywhere. The cookie is `HttpOnly`, `SameSite=Lax`, scoped to
//! `/portal`, and `Secure` when the server's public URL is HTTPS.

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use patchbay_store::User;
use serde::Deserialize;

use crate::auth::Caller;
use crate::config_cache::Generation;
use crate::portal::csrf::Posted;
use crate::portal::page::{PortalError, html, see_other};
use crate::state::SharedState;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "pb_session";

/// How long a session lasts: 12 hours.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;

/// A signed-in person: the user and the session's CSRF token. Pages without one redirect to
/// the sign-in page.
#[derive(Clone)]
pub struct Signed {
    /// The signed-in user.
    pub user: User,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session cookie's value (to end the session).
    cookie: String,
    /// The configuration generation read before the session (see [`crate::config_cache`]).
    generation: Generation,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed").field("user", &self.user.email).finish_non_exhaustive()
    }
}

impl Signed {
    /// The same person as the JSON API's caller, for calling its logic.
    pub fn caller(&self) -> Caller {
        Caller(self.user.clone(), self.generation)
    }
}

impl FromRequestParts<SharedState> for Signed {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, PortalError> {
        // After signing in, come back to the page asked for; a form sent with an expired session
        // cannot be replayed as a page, so it goes back to the start.
        let next = match parts.method {
            axum::http::Method::GET => {
                parts.uri.path_and_query().map_or("/portal", |path| path.as_str()).to_owned()
            }
            _ => "/portal/connectors".to_owned(),
        };
        let Some(cookie) = session_cookie(parts) else { return Err(PortalError::SignIn { next }) };
        let generation = Generation(state.store.config_generation().await?);
        match state.store.portal_sessions().find(&cookie).await? {
            Some(session) => Ok(Signed { user: session.user, csrf: session.csrf, cookie, generation }),
            None => Err(PortalError::SignIn { next }),
        }
    }
}

/// The session cookie's value in the request, if any.
fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage<'a> {
    next: &'a str,
    error: Option<&'a str>,
}

/// Where to go after signing in.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    /// A portal path to return to.
    next: Option<String>,
}

/// `GET /portal/login`.
pub async fn login_page(Query(query): Query<NextQuery>) -> Result<Response, PortalError> {
    html(&LoginPage { next: &safe_next(query.next.as_deref()), error: None })
}

/// The sign-in form: an email and password, or an API token.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    next: Option<String>,
}

/// `POST /portal/login`: checks the password or token and opens a session. A wrong one shows the
/// form again with one message that does not say which part was wrong.
pub async fn login(
    State(state): State<SharedState>,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response, PortalError> {
    if !same_origin(&state, &headers) {
        return Err(PortalError::Forged);
    }
    let next = safe_next(form.next.as_deref());
    let people = state.store.people();
    let user = if !form.token.trim().is_empty() {
        people.authenticate_token(form.token.trim()).await?
    } else if !form.email.trim().is_empty() && !form.password.is_empty() {
        people.verify_password(&form.email, &form.password).await?
    } else {
        None
    };
    let Some(user) = user else {
        let page = html(&LoginPage {
            next: &next,
            error: Some("That sign-in did not work. Check it and try again."),
        })?;
        return Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response());
    };
    let opened = state.store.portal_sessions().open(&user.id, SESSION_TTL_MS).await?;
    let cookie = format!(
        "{COOKIE_NAME}={}; Path=/portal; HttpOnly; SameSite=Lax; Max-Age={}{}",
        opened.cookie,
        SESSION_TTL_MS / 1000,
        secure_flag(&state)
    );
    let mut response = see_other(&next);
    response.headers_mut().insert(SET_COOKIE, cookie.parse().map_err(|_| PortalError::Forged)?);
    Ok(response)
}

/// Nothing but the CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /portal/logout`: ends the session (in the store) and clears the cookie.
pub async fn logout(
    State(state): State<SharedState>,
    Posted(signed, _): Posted<Empty>,
) -> Result<Response, PortalError> {
    state.store.portal_sessions().close(&signed.cookie).await?;
    let cleared =
        format!("{COOKIE_NAME}=; Path=/portal; HttpOnly; SameSite=Lax; Max-Age=0{}", secure_flag(&state));
    let mut response = see_other("/portal/login");
    response.headers_mut().insert(SET_COOKIE, cleared.parse().map_err(|_| PortalError::Forged)?);
    Ok(response)
}

/// Whether a sign-in form came from this server's own pages: a browser's `Origin` header, when
/// sent, must be the public URL (so another site cannot sign a visitor in to its own account).
fn same_origin(state: &SharedState, headers: &axum::http::HeaderMap) -> bool {
    match headers.get(axum::http::header::ORIGIN).map(|origin| origin.to_str().unwrap_or_default()) {
        None => true,
        Some(origin) => origin == state.public_url,
    }
}

/// `; Secure` when the server is reached over HTTPS.
fn secure_flag(state: &SharedState) -> &'static str {
    if state.public_url.starts_with("https://") { "; Secure" } else { "" }
}

/// A return path that stays inside the portal (never another site): `/portal…` only.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with("/portal") && !path.starts_with("/portal/login") && !path.contains("//") =>
        {
            path.to_owned()
        }
        _ => "/portal/connectors".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn the_return_path_never_leaves_the_portal() {
        assert_eq!(safe_next(Some("/portal/flows")), "/portal/flows");
        assert_eq!(safe_next(Some("https://evil.example/")), "/portal/connectors");
        assert_eq!(safe_next(Some("/portal//evil.example")), "/portal/connectors");
        assert_eq!(safe_next(None), "/portal/connectors");
    }
}
