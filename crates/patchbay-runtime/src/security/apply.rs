//! Putting the connection's credential on a request.
//!
//! The credential is chosen by [`select_credential`]. API keys are sent verbatim (a header
//! replaces any value already set; a query parameter replaces any of the same name); basic
//! credentials as `Authorization: Basic base64(username:password)` (an empty password is
//! allowed, a missing username is not); OAuth as `Authorization: Bearer <access token>`
//! (always `Bearer`, whatever `token_type` the provider wrote), renewed by the
//! [`TokenManager`] when it expires within its margin. Credential headers are marked sensitive.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::AUTHORIZATION;
use http::{HeaderName, HeaderValue};
use patchbay_spec::Connector;
use patchbay_spec::model::{Location, OAuthSettings, Operation};
use url::Url;
use url::form_urlencoded;

use super::select::{Credential, operation_disables_security, select_credential};
use super::{ConnectionValues, SecurityError, TokenManager};
use crate::wire::WireRequest;

/// Adds the connection's credential to the request (rules in [`select_credential`]).
pub async fn apply_security(
    req: &mut WireRequest,
    connector: &Connector,
    connection: &ConnectionValues,
    tokens: &TokenManager,
) -> Result<(), SecurityError> {
    match select_credential(connector, connection)? {
        Credential::None => Ok(()),
        Credential::Basic => apply_basic(req, connection),
        Credential::ApiKey { name, location, parameter } => {
            let value =
                connection.text(&parameter).ok_or(SecurityError::MissingParameter { name: parameter })?;
            apply_api_key(req, name, location, &value)
        }
        Credential::OAuth(settings) => {
            let with_secret = with_connection_secret(settings, connection);
            let token = tokens.access_token(connection, with_secret.as_ref().unwrap_or(settings)).await?;
            set_authorization(req, &format!("Bearer {}", token.access_token), "token")
        }
    }
}

/// [`apply_security`] for one operation: nothing when it declares `"security": []`.
pub async fn apply_operation_security(
    req: &mut WireRequest,
    connector: &Connector,
    operation: &Operation,
    connection: &ConnectionValues,
    tokens: &TokenManager,
) -> Result<(), SecurityError> {
    if operation_disables_security(operation) {
        return Ok(());
    }
    apply_security(req, connector, connection, tokens).await
}

/// `Authorization: Basic base64(username:password)`.
/// The settings with the connection's own client secret (a value named `clientSecret` or
/// `client_secret`) when the connector's settings carry none, as they never do in a committed
/// package; the token manager remembers these settings, so its refreshes authenticate too.
fn with_connection_secret(settings: &OAuthSettings, connection: &ConnectionValues) -> Option<OAuthSettings> {
    if settings.client_secret.is_some() {
        return None;
    }
    let secret = connection.text("clientSecret").or_else(|| connection.text("client_secret"))?;
    Some(OAuthSettings { client_secret: Some(secret), ..settings.clone() })
}

fn apply_basic(req: &mut WireRequest, connection: &ConnectionValues) -> Result<(), SecurityError> {
    let username = connection
        .text("username")
        .ok_or_else(|| SecurityError::MissingParameter { name: "username".into() })?;
    let password = connection.text("password").unwrap_or_default();
    let encoded = STANDARD.encode(format!("{username}:{password}"));
    set_authorization(req, &format!("Basic {encoded}"), "username/password")
}

/// The key in a header or the query string.
fn apply_api_key(
    req: &mut WireRequest,
    name: &str,
    location: &Location,
    value: &str,
) -> Result<(), SecurityError> {
    match location {
        Location::Header => {
            let header =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| SecurityError::InvalidValue {
                    name: name.to_string(),
                    reason: "not a valid header name".into(),
                })?;
            let mut value = header_value(value, name)?;
            value.set_sensitive(true);
            req.headers.insert(header, value);
            Ok(())
        }
        Location::Query => {
            set_query_parameter(&mut req.url, name, value);
            Ok(())
        }
        other => {
            Err(SecurityError::Unsupported(format!("an apiKey security definition in `{}`", other.as_str())))
        }
    }
}

/// Sets a sensitive `Authorization` header.
fn set_authorization(req: &mut WireRequest, value: &str, what: &str) -> Result<(), SecurityError> {
    let mut value = header_value(value, what)?;
    value.set_sensitive(true);
    req.headers.insert(AUTHORIZATION, value);
    Ok(())
}

/// A header value; the error names what it was for, never the value.
fn header_value(value: &str, what: &str) -> Result<HeaderValue, SecurityError> {
    HeaderValue::from_str(value).map_err(|_| SecurityError::InvalidValue {
        name: what.to_string(),
        reason: "it contains characters not allowed in an HTTP header".into(),
    })
}

/// Replaces the query parameters named `name` by one with `value`; other parameters are kept
/// byte for byte.
fn set_query_parameter(url: &mut Url, name: &str, value: &str) {
    let kept: Vec<&str> = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            form_urlencoded::parse(key.as_bytes()).next().is_none_or(|(k, _)| k != name)
        })
        .collect();
    let encoded: String = form_urlencoded::Serializer::new(String::new()).append_pair(name, value).finish();
    let query = kept.into_iter().chain(std::iter::once(encoded.as_str())).collect::<Vec<_>>().join("&");
    url.set_query(Some(&query));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameter_replaces_same_name_and_keeps_others_verbatim() {
        let mut url = Url::parse("https://h/p?a=x%2Fy&key=old&b=1+2").unwrap();
        set_query_parameter(&mut url, "key", "n w&");
        assert_eq!(url.as_str(), "https://h/p?a=x%2Fy&b=1+2&key=n+w%26");
        let mut bare = Url::parse("https://h/p").unwrap();
        set_query_parameter(&mut bare, "key", "v");
        assert_eq!(bare.as_str(), "https://h/p?key=v");
    }
}
