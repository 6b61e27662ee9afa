//! The security stage of the request pipeline: which credential a connection's requests carry,
//! putting it on the request, and OAuth 2.0 (sign-in URLs, code exchange, refresh, client
//! credentials, a shared token cache with single-flight refresh).
//!
//! Secrets stay out of output: [`ConnectionValues`] and [`TokenSet`] mask them in `Debug`,
//! [`ConnectionValues::secrets`] lists them for masking elsewhere, and no [`SecurityError`]
//! message contains one.

mod apply;
mod connection;
pub(crate) mod error;
mod http;
pub mod oauth;
mod select;

pub use apply::{apply_operation_security, apply_security};
pub use connection::{ConnectionValues, TokenSet};
pub use error::SecurityError;
pub use http::{HttpSend, SendFuture};
pub use oauth::{
    GrantType, RefreshOutcome, TokenManager, TokenManagerOptions, authorization_url, pkce_challenge,
    pkce_pair, random_state,
};
pub use select::{Credential, operation_disables_security, select_credential};
