//! OAuth 2.0: endpoints per identity provider, the authorization code (PKCE), refresh and client
//! credentials grants, and the shared token cache.

mod endpoints;
mod grant;
mod manager;
mod pkce;
mod providers;
mod request;
mod response;
mod template;

pub use endpoints::AAD_VERSION_OPTION;
pub use grant::{CLIENT_AUTH_OPTION, GRANT_OPTION, GrantType, grant_type};
pub use manager::{RefreshListener, RefreshOutcome, TokenManager, TokenManagerOptions};
pub use pkce::{pkce_challenge, pkce_pair, random_state};
pub use request::authorization_url;
