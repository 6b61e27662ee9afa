//! What every portal page shares: the layout's data ([`Chrome`]), rendering a template into an
//! HTML answer, and errors shown as pages.

use askama::Template;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::ApiError;
use crate::portal::session::Signed;

/// The layout's data: who is signed in, the CSRF token for the forms, the current section.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The signed-in person's email.
    pub email: String,
    /// The session's CSRF token, sent back by every form.
    pub csrf: String,
    /// The section shown as current in the navigation (`connectors`, `connections`, `flows`).
    pub section: &'static str,
}

impl Chrome {
    /// The layout data for `signed` in `section`.
    pub fn new(signed: &Signed, section: &'static str) -> Self {
        Chrome { email: signed.user.email.clone(), csrf: signed.csrf.clone(), section }
    }
}

/// A rendered template as a `text/html` answer, never cached.
pub fn html(template: &impl Template) -> Result<Response, PortalError> {
    let body =
        template.render().map_err(|error| ApiError::internal(format!("a page did not render: {error}")))?;
    Ok(([(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-store")], body).into_response())
}

/// A redirect after a form was handled (303, so the browser follows with GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A failed portal request: sign in again, or an error page with the API error's status.
#[derive(Debug)]
pub enum PortalError {
    /// No valid session: go to the sign-in page, then back to `next`.
    SignIn {
        /// Where to return after signing in.
        next: String,
    },
    /// The form's CSRF token is missing or wrong.
    Forged,
    /// What the shared API logic refused (shown with its status and message).
    Api(ApiError),
}

impl From<ApiError> for PortalError {
    fn from(error: ApiError) -> Self {
        PortalError::Api(error)
    }
}

impl From<patchbay_store::StoreError> for PortalError {
    fn from(error: patchbay_store::StoreError) -> Self {
        PortalError::Api(error.into())
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            PortalError::SignIn { next } => {
                let target = format!("/portal/login?next={}", super::urlencode(next));
                return Redirect::to(&target).into_response();
            }
            PortalError::Forged => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from your current session. Go back, reload the page and try again.",
            ),
            PortalError::Api(error) => (error.status, "Something went wrong", error.message.as_str()),
        };
        let page = ErrorPage { status: status.as_u16(), title, message };
        let body = page.render().unwrap_or_else(|_| message.to_owned());
        (status, [(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-store")], body)
            .into_response()
    }
}

/// An epoch-milliseconds time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}
