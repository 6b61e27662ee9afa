//! Why security could not be applied. No message ever contains a secret, a token or a code.

/// Why a request could not be authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityError {
    /// The connection lacks a value the chosen scheme needs.
    #[error("the connection has no value for the connection parameter `{name}`")]
    MissingParameter {
        /// The parameter's name, e.g. `api_key`.
        name: String,
    },
    /// The connector offers parameter sets and the connection's choice is missing or unknown.
    #[error("{}", unknown_set(chosen.as_deref(), offered))]
    UnknownParameterSet {
        /// The set the connection names, if any.
        chosen: Option<String>,
        /// The connector's set names, comma-separated.
        offered: String,
    },
    /// A value cannot be sent as it is (e.g. a control character in a header value).
    #[error("the value of `{name}` cannot be sent: {reason}")]
    InvalidValue {
        /// The parameter or header it was meant for.
        name: String,
        /// Why.
        reason: String,
    },
    /// The connection has no OAuth token yet.
    #[error("connection `{connection}` needs sign-in: it has no OAuth token yet")]
    NeedsSignIn {
        /// The connection id.
        connection: String,
    },
    /// The token expired and cannot be renewed (no refresh token, or the provider cannot refresh).
    #[error("connection `{connection}` needs sign-in again: {reason}")]
    SignInExpired {
        /// The connection id.
        connection: String,
        /// Why it cannot be renewed.
        reason: String,
    },
    /// The token endpoint refused the request.
    #[error("the token endpoint answered {status}{}", provider_error(error.as_deref(), description.as_deref()))]
    TokenEndpoint {
        /// The HTTP status.
        status: u16,
        /// The provider's `error` code, e.g. `invalid_grant`.
        error: Option<String>,
        /// The provider's `error_description`, with any secret removed.
        description: Option<String>,
    },
    /// The token endpoint answered 2xx with something that is not a token.
    #[error("the token endpoint's response is not a token: {0}")]
    InvalidTokenResponse(String),
    /// The token request could not be sent or its answer not received.
    #[error("the token request failed: {0}")]
    Transport(String),
    /// The OAuth settings do not say where to go (missing or invalid endpoint).
    #[error("OAuth settings: {0}")]
    Endpoint(String),
    /// Something this runtime does not support (a scheme type, an identity provider, a step).
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The operating system's random number generator failed.
    #[error("could not generate random bytes: {0}")]
    Random(String),
}

impl SecurityError {
    /// Whether the user must sign in again ("Fix connection"): no token, no way to refresh, or a
    /// refresh the provider rejected as `invalid_grant`.
    pub fn needs_sign_in(&self) -> bool {
        match self {
            SecurityError::NeedsSignIn { .. } | SecurityError::SignInExpired { .. } => true,
            SecurityError::TokenEndpoint { error, .. } => error.as_deref() == Some("invalid_grant"),
            _ => false,
        }
    }
}

/// The message of [`SecurityError::UnknownParameterSet`].
fn unknown_set(chosen: Option<&str>, offered: &str) -> String {
    match chosen {
        Some(name) => {
            format!("the connection's parameter set `{name}` is not one of the connector's: {offered}")
        }
        None => format!("the connection has not chosen a parameter set; the connector offers: {offered}"),
    }
}

/// `: error: description` for the token endpoint message, omitting what is absent.
fn provider_error(error: Option<&str>, description: Option<&str>) -> String {
    match (error, description) {
        (Some(e), Some(d)) => format!(": {e}: {d}"),
        (Some(e), None) => format!(": {e}"),
        (None, Some(d)) => format!(": {d}"),
        (None, None) => String::new(),
    }
}

/// Replaces every occurrence of each non-empty secret in `text` with `***`.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(secret) {
            out = out.replace(secret, "***");
        }
    }
    out
}
