//! The server's errors: [`ServerError`] for starting and stopping, [`ApiError`] for HTTP answers.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::ToSchema;

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store could not be opened, migrated or bootstrapped, or the secret key is unusable.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The configured admin token (`PATCHBAY_ADMIN_TOKEN`) is malformed or belongs to a non-admin.
    #[error("the admin token (PATCHBAY_ADMIN_TOKEN) cannot be used: {0}")]
    AdminToken(#[source] StoreError),
    /// The HTTP client of the request pipeline could not be built.
    #[error("HTTP client: {0}")]
    Transport(#[from] patchbay_runtime::transport::TransportError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The server task failed.
    #[error("server: {0}")]
    Serve(#[from] std::io::Error),
}

/// An HTTP error answer: `{"error": {"code", "message"}}`, plus `"diagnostics"` on validation failures.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code, e.g. `not_found`.
    pub code: &'static str,
    /// What went wrong, in one sentence (never a secret).
    pub message: String,
    /// Package diagnostics, as JSON objects, when a package does not validate.
    pub diagnostics: Option<Vec<Value>>,
    /// Seconds to send as `Retry-After` (429 answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), diagnostics: None, retry_after: None }
    }

    /// 429: the connection's rate limit is spent; try again after `wait`.
    pub fn too_many_requests(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let message = format!("this connection's rate limit is reached; retry in {seconds} s");
        ApiError {
            retry_after: Some(seconds),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
    }

    /// 401: no valid bearer token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid `Authorization: Bearer <token>` is required",
        )
    }

    /// 404 for `what` (also used where the caller may not know that the resource exists).
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 403: the caller sees the resource but may not do this with it.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 409 with `code`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 422: the package does not validate; `diagnostics` say where.
    pub fn invalid_package(diagnostics: Vec<Value>) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_package",
            "the connector package has errors; see the diagnostics",
        );
        error.diagnostics = Some(diagnostics);
        error
    }

    /// 500, with a message that names no internals.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::NotFound { kind, .. } => ApiError::not_found(kind),
            StoreError::AlreadyExists { .. } => ApiError::conflict("already_exists", error.to_string()),
            StoreError::Invalid { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", error.to_string())
            }
            _ => {
                tracing::error!(%error, "store error");
                ApiError::internal("the store failed; see the server log")
            }
        }
    }
}

/// The body of every error answer (the OpenAPI document's `ErrorBody`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
    /// Package diagnostics (code, severity, message, file, line, column, pointer, hint), when a
    /// package does not validate.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub diagnostics: Option<Vec<Value>>,
}

/// The `error` member of an [`ErrorBody`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `not_found`, `invalid_body`, `rate_limited`.
    #[schema(example = "not_found")]
    pub code: String,
    /// What went wrong, in one sentence (never a secret).
    #[schema(example = "connector not found")]
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail { code: self.code.to_owned(), message: self.message },
            diagnostics: self.diagnostics,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

/// A JSON request body whose rejections answer in the [`ApiError`] shape.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(ApiError::new(rejection.status(), "invalid_body", rejection.body_text())),
        }
    }
}
