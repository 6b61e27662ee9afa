//! Building the authorization URL and token requests.
//!
//! Standard providers get RFC 6749 requests: the authorization URL carries `response_type=code`,
//! `client_id`, `redirect_uri`, `scope` (joined, when any), `state`, provider parameters
//! (`resource` for Entra ID v1) and the PKCE `code_challenge` (S256). Token requests are form
//! posts with `Accept: application/json`.
//!
//! `oauth2generic` requests are the templates rendered exactly: `{placeholder}`s resolve
//! case-insensitively to `clientId`, `clientSecret`, `redirectUrl`, `scopes` (joined with
//! `scopeListDelimiter`, default a space), `state`, `code`, `refreshToken`, `codeVerifier`,
//! `codeChallenge`, then any `token:<x>` connection value as `{x}`, then any custom parameter.
//! Values are inserted as they are in URL templates and percent-encoded in query-string and body
//! templates; unknown placeholders stay verbatim. Without a body template the standard form body
//! (with client authentication) is sent; without `refreshUrlTemplate` tokens cannot be refreshed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use patchbay_spec::model::OAuthSettings;
use url::Url;
use url::form_urlencoded;

use super::endpoints::{Flavor, Standard, custom_value, flavor};
use super::grant::basic_client_auth;
use super::template::{join_query, render};
use crate::security::{ConnectionValues, SecurityError};
use crate::wire::WireRequest;

/// What a token request asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Grant<'a> {
    /// Redeem an authorization code.
    AuthorizationCode {
        /// The code from the redirect.
        code: &'a str,
        /// The PKCE verifier, when a challenge was sent.
        verifier: Option<&'a str>,
        /// The redirect URL used in the authorization request.
        redirect_url: &'a str,
    },
    /// Renew with a refresh token.
    Refresh {
        /// The refresh token.
        refresh_token: &'a str,
    },
    /// Client credentials.
    ClientCredentials,
}

/// The URL to send the user to for sign-in: the provider's authorization endpoint with the
/// client, redirect URL, scopes, `state` and (when given) the PKCE S256 `code_challenge`.
pub fn authorization_url(
    settings: &OAuthSettings,
    redirect_url: &str,
    state: &str,
    code_challenge: Option<&str>,
    connection: &ConnectionValues,
) -> Result<Url, SecurityError> {
    let Flavor::Standard(endpoints) = flavor(settings)? else {
        let builtins = [
            ("redirectUrl", redirect_url),
            ("state", state),
            ("codeChallenge", code_challenge.unwrap_or("")),
        ];
        let lookup = |name: &str| lookup(settings, connection, &builtins, name);
        let key = "authorizationUrlTemplate";
        let base = template(settings, key).ok_or_else(|| missing_template(key))?;
        let query = template(settings, "authorizationUrlQueryStringTemplate").unwrap_or("");
        let url = join_query(&render(base, &lookup, false), &render(query, &lookup, true));
        return parse_url(&url, key);
    };
    let base =
        endpoints.authorize.as_deref().ok_or_else(|| missing("an authorization URL (authorizationUrl)"))?;
    let mut url = parse_url(base, "the authorization URL")?;
    let client_id = settings.client_id.as_deref().ok_or_else(|| missing("a clientId"))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code").append_pair("client_id", client_id);
        q.append_pair("redirect_uri", redirect_url);
        if !endpoints.scopes.is_empty() {
            q.append_pair("scope", &endpoints.scopes.join(&endpoints.scope_delimiter));
        }
        q.append_pair("state", state);
        for (k, v) in &endpoints.extra {
            q.append_pair(k, v);
        }
        if let Some(challenge) = code_challenge {
            q.append_pair("code_challenge", challenge).append_pair("code_challenge_method", "S256");
        }
    }
    Ok(url)
}

/// Whether tokens from these settings can be refreshed (a refresh endpoint or template exists).
pub(crate) fn supports_refresh(settings: &OAuthSettings) -> bool {
    match flavor(settings) {
        Ok(Flavor::Standard(s)) => s.refresh.is_some(),
        Ok(Flavor::Generic) => template(settings, "refreshUrlTemplate").is_some(),
        Err(_) => false,
    }
}

/// The token request for a grant.
pub(crate) fn token_request(
    settings: &OAuthSettings,
    connection: &ConnectionValues,
    grant: Grant<'_>,
) -> Result<WireRequest, SecurityError> {
    let endpoints = match flavor(settings)? {
        Flavor::Standard(s) => s,
        Flavor::Generic => return generic_token_request(settings, connection, grant),
    };
    let target = match grant {
        Grant::Refresh { .. } => endpoints.refresh.as_deref(),
        _ => endpoints.token.as_deref(),
    };
    let url = parse_url(target.ok_or_else(|| missing("a token URL (tokenUrl)"))?, "the token URL")?;
    let body = standard_body(grant, &endpoints);
    form_post(url, settings, body)
}

/// An `oauth2generic` token or refresh request rendered from its templates.
fn generic_token_request(
    settings: &OAuthSettings,
    connection: &ConnectionValues,
    grant: Grant<'_>,
) -> Result<WireRequest, SecurityError> {
    let (url_key, query_key, body_key) = match grant {
        Grant::Refresh { .. } => {
            ("refreshUrlTemplate", "refreshUrlQueryStringTemplate", "refreshBodyTemplate")
        }
        _ => ("tokenUrlTemplate", "tokenUrlQueryStringTemplate", "tokenBodyTemplate"),
    };
    let builtins: Vec<(&str, &str)> = match grant {
        Grant::AuthorizationCode { code, verifier, redirect_url } => {
            vec![("code", code), ("codeVerifier", verifier.unwrap_or("")), ("redirectUrl", redirect_url)]
        }
        Grant::Refresh { refresh_token } => vec![("refreshToken", refresh_token)],
        Grant::ClientCredentials => Vec::new(),
    };
    let lookup = |name: &str| lookup(settings, connection, &builtins, name);
    let base = template(settings, url_key).ok_or_else(|| missing_template(url_key))?;
    let query = template(settings, query_key).unwrap_or("");
    let url = parse_url(&join_query(&render(base, &lookup, false), &render(query, &lookup, true)), url_key)?;
    let body_template = template(settings, body_key).filter(|_| !matches!(grant, Grant::ClientCredentials));
    let Some(body_template) = body_template else {
        let scopes = settings.scopes.clone();
        let delimiter = custom_value(settings, "scopeListDelimiter").unwrap_or(" ").to_string();
        let endpoints = Standard { scopes, scope_delimiter: delimiter, ..Standard::default() };
        return form_post(url, settings, standard_body(grant, &endpoints));
    };
    let mut request = bare_post(url);
    request.body = Bytes::from(render(body_template, &lookup, true));
    Ok(request)
}

/// The RFC 6749 form fields of a grant (client authentication excluded).
fn standard_body(grant: Grant<'_>, endpoints: &Standard) -> Vec<(String, String)> {
    let mut body: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: &str| body.push((k.to_string(), v.to_string()));
    match grant {
        Grant::AuthorizationCode { code, verifier, redirect_url } => {
            add("grant_type", "authorization_code");
            add("code", code);
            add("redirect_uri", redirect_url);
            if let Some(v) = verifier {
                add("code_verifier", v);
            }
        }
        Grant::Refresh { refresh_token } => {
            add("grant_type", "refresh_token");
            add("refresh_token", refresh_token);
        }
        Grant::ClientCredentials => {
            add("grant_type", "client_credentials");
            if !endpoints.scopes.is_empty() {
                add("scope", &endpoints.scopes.join(&endpoints.scope_delimiter));
            }
        }
    }
    body.extend(endpoints.extra.iter().cloned());
    body
}

/// A form post with the client authenticated by form fields or HTTP Basic.
fn form_post(
    url: Url,
    settings: &OAuthSettings,
    mut fields: Vec<(String, String)>,
) -> Result<WireRequest, SecurityError> {
    let mut request = bare_post(url);
    let client_id = settings.client_id.as_deref().ok_or_else(|| missing("a clientId"))?;
    let secret = settings.client_secret.as_deref().filter(|s| !s.is_empty());
    match secret {
        Some(secret) if basic_client_auth(settings) => {
            let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let credentials = STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)));
            let mut value = HeaderValue::try_from(format!("Basic {credentials}")).map_err(|_| {
                SecurityError::InvalidValue {
                    name: "clientSecret".into(),
                    reason: "not valid in a header".into(),
                }
            })?;
            value.set_sensitive(true);
            request.headers.insert(AUTHORIZATION, value);
        }
        Some(secret) => {
            fields.push(("client_id".into(), client_id.into()));
            fields.push(("client_secret".into(), secret.into()));
        }
        None => fields.push(("client_id".into(), client_id.into())),
    }
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    request.body = Bytes::from(body);
    Ok(request)
}

/// A `POST` expecting JSON back, with a form body to be filled in.
fn bare_post(url: Url) -> WireRequest {
    let mut request = WireRequest::new(Method::POST, url);
    request.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    request.headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    request
}

/// A non-empty template custom parameter.
fn template<'a>(settings: &'a OAuthSettings, name: &str) -> Option<&'a str> {
    custom_value(settings, name)
}

/// Resolves a template placeholder: built-ins, then `token:<name>` values, then custom parameters.
fn lookup(
    settings: &OAuthSettings,
    connection: &ConnectionValues,
    builtins: &[(&str, &str)],
    name: &str,
) -> Option<String> {
    if let Some((_, v)) = builtins.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        return Some((*v).to_string());
    }
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "clientid" => return Some(settings.client_id.clone().unwrap_or_default()),
        "clientsecret" => return Some(settings.client_secret.clone().unwrap_or_default()),
        "scopes" => {
            let delimiter = custom_value(settings, "scopeListDelimiter").unwrap_or(" ");
            return Some(settings.scopes.join(delimiter));
        }
        _ => {}
    }
    connection.text(&format!("token:{name}")).or_else(|| settings.custom_parameter(name).map(str::to_string))
}

/// Parses an endpoint URL; only `http` and `https` are accepted. The error names the endpoint,
/// never the URL (a template may have put a secret in it).
fn parse_url(text: &str, what: &str) -> Result<Url, SecurityError> {
    let url = Url::parse(text.trim())
        .map_err(|e| SecurityError::Endpoint(format!("{what} is not a valid URL ({e})")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(SecurityError::Endpoint(format!("{what} must be http or https, not {other}"))),
    }
}

/// "the settings have no …".
fn missing(what: &str) -> SecurityError {
    SecurityError::Endpoint(format!("the connector's OAuth settings have no {what}"))
}

/// A missing `oauth2generic` template.
fn missing_template(key: &str) -> SecurityError {
    SecurityError::Endpoint(format!("the connector's oauth2generic settings have no {key}"))
}
