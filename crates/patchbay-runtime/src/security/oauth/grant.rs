//! Which grant a connection uses, and how the client authenticates at the token endpoint.
//!
//! * The client credentials grant (which Power Platform lacks) is used when `oAuthSettings` has
//!   `"x-patchbay-grant": "client_credentials"` (a key beside `identityProvider`, or a custom
//!   parameter of that name), when the `aad` custom parameter `grantType` is
//!   `client_credentials`, or when the connection itself has the value
//!   `"x-patchbay-grant": "client_credentials"`. Otherwise: authorization code (+ refresh).
//! * The client authenticates with `client_id`/`client_secret` form fields, or with HTTP Basic
//!   when `"x-patchbay-client-auth": "basic"`.

use patchbay_spec::model::OAuthSettings;

use super::endpoints::{custom_value, option};
use crate::security::ConnectionValues;

/// The option (in `oAuthSettings`, its custom parameters, or connection values) choosing the grant.
pub const GRANT_OPTION: &str = "x-patchbay-grant";
/// The option (in `oAuthSettings` or its custom parameters) choosing the client authentication.
pub const CLIENT_AUTH_OPTION: &str = "x-patchbay-client-auth";

/// How a connection obtains its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// The user signs in (authorization code with PKCE); tokens are refreshed with the refresh token.
    AuthorizationCode,
    /// The connection's client gets tokens on its own, without a user (RFC 6749 §4.4).
    ClientCredentials,
}

/// The grant the connection uses with these settings.
pub fn grant_type(settings: &OAuthSettings, connection: &ConnectionValues) -> GrantType {
    let is_cc = |v: Option<&str>| v.is_some_and(|v| v.trim().eq_ignore_ascii_case("client_credentials"));
    let connection_asks = connection.text(GRANT_OPTION);
    if is_cc(option(settings, GRANT_OPTION))
        || is_cc(custom_value(settings, "grantType"))
        || is_cc(connection_asks.as_deref())
    {
        GrantType::ClientCredentials
    } else {
        GrantType::AuthorizationCode
    }
}

/// Whether the client authenticates with HTTP Basic rather than form fields.
pub(crate) fn basic_client_auth(settings: &OAuthSettings) -> bool {
    option(settings, CLIENT_AUTH_OPTION).is_some_and(|v| v.trim().eq_ignore_ascii_case("basic"))
}
