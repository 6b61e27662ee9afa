//! The API's single error shape and extractors that report their failures in it.

use std::collections::HashMap;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

/// An API error rendered as `{"error":{"code":"...","message":"..."}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    www_authenticate: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), www_authenticate: None }
    }

    /// 400 `BadRequest`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 404 `NotFound` for a resource that does not exist.
    pub(crate) fn not_found(kind: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("{kind} '{id}' was not found."))
    }

    /// 404 `RouteNotFound` for a path the API does not serve.
    pub(crate) fn route_not_found(path: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RouteNotFound", format!("No route matches '{path}'."))
    }

    /// 405 `MethodNotAllowed`.
    pub(crate) fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("Method {method} is not allowed on '{path}'."),
        )
    }

    /// 401 `Unauthorized` with a `WWW-Authenticate` challenge.
    pub(crate) fn unauthorized(message: impl Into<String>, challenge: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message);
        e.www_authenticate = Some(challenge.into());
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(challenge) = self.www_authenticate
            && let Ok(v) = HeaderValue::from_str(&challenge)
        {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

/// A JSON request body whose parse errors become [`ApiError`]s.
pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    ApiError::bad_request(format!("Invalid JSON body: {}", rejection.body_text()))
}

/// The single path parameter of a route, with errors as [`ApiError`]s.
pub(crate) struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Self(id))
            .map_err(|r: PathRejection| ApiError::bad_request(r.body_text()))
    }
}

/// Query string parameters as a map, with errors as [`ApiError`]s.
pub(crate) struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|r: QueryRejection| ApiError::bad_request(r.body_text()))
    }
}

impl QueryMap {
    /// The value of the first present name among `names` (e.g. `["$top", "top"]`).
    pub(crate) fn get_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.0.get(*n).map(String::as_str))
    }

    /// An optional non-negative integer parameter.
    pub(crate) fn u64_param(&self, names: &[&str]) -> Result<Option<u64>, ApiError> {
        match self.get_any(names) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "Query parameter '{}' must be a non-negative integer, got '{v}'.",
                    names[0]
                ))
            }),
        }
    }
}
