//! Cross-site request forgery protection: every portal form carries the session's CSRF token in a
//! hidden `csrf` field, and [`Posted`] refuses a form whose token does not match (403) before the
//! handler runs. The cookie's `SameSite=Lax` is the second line.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::portal::page::PortalError;
use crate::portal::session::Signed;
use crate::state::SharedState;

/// A urlencoded form posted by the signed-in person, its CSRF token checked.
#[derive(Debug)]
pub struct Posted<T>(pub Signed, pub T);

impl<T: DeserializeOwned> FromRequest<SharedState> for Posted<T> {
    type Rejection = PortalError;

    async fn from_request(request: Request, state: &SharedState) -> Result<Self, PortalError> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), "invalid_body", rejection.body_text()))?;
        let sent =
            url::form_urlencoded::parse(&bytes).find(|(name, _)| name == "csrf").map(|(_, value)| value);
        verify(&signed, sent.as_deref())?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|error| {
            ApiError::bad_request("invalid_form", format!("the form is not complete: {error}"))
        })?;
        Ok(Posted(signed, form))
    }
}

/// Checks a form's CSRF token against the session's, in constant time.
pub fn verify(signed: &Signed, sent: Option<&str>) -> Result<(), PortalError> {
    let expected = signed.csrf.as_bytes();
    let Some(sent) = sent.map(str::as_bytes) else { return Err(PortalError::Forged) };
    let same = sent.len() == expected.len()
        && sent.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0;
    if same { Ok(()) } else { Err(PortalError::Forged) }
}
