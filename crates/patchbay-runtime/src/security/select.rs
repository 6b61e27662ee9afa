//! Which credential a connection's requests carry (spec §3.3–§3.4).
//!
//! The parameters in effect are the chosen parameter set's (when the connector has sets; a
//! single set is chosen implicitly) or the connector's `connectionParameters`. Then:
//!
//! 1. an `oauthSetting` parameter (conventionally `token`) ⇒ `Authorization: Bearer`;
//! 2. `username` and `password` parameters ⇒ `Authorization: Basic`;
//! 3. an `apiKey` security definition for which a parameter exists — named like the definition
//!    key (e.g. `api_key`), else `api_key` ⇒ that definition, valued from that parameter;
//! 4. with parameter sets, nothing else is automatic (policies inject other parameters);
//! 5. without sets, the first `basic`/`apiKey`/`oauth2` security definition decides: `basic` uses
//!    `username`/`password`; `apiKey` uses the connection's only secret parameter, else the
//!    parameter named like the definition key; `oauth2` without an `oauthSetting` parameter
//!    is an error; no definition ⇒ no credential.

use patchbay_spec::Connector;
use patchbay_spec::model::{
    ConnectionParameter, ConnectionParameterType, Location, OAuthSettings, Operation, SecuritySchemeKind,
};
use serde_json::Value;

use super::{ConnectionValues, SecurityError};

/// The conventional API key parameter.
const API_KEY: &str = "api_key";

/// The credential chosen for a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential<'a> {
    /// Nothing is added.
    None,
    /// `Authorization: Basic base64(username:password)`.
    Basic,
    /// An API key in a header or the query string.
    ApiKey {
        /// The header or query parameter name.
        name: &'a str,
        /// `Header` or `Query`.
        location: &'a Location,
        /// The connection parameter holding the key.
        parameter: String,
    },
    /// `Authorization: Bearer <access token>`, from these OAuth settings.
    OAuth(&'a OAuthSettings),
}

/// Whether the operation opts out of security (`"security": []`).
pub fn operation_disables_security(operation: &Operation) -> bool {
    matches!(&operation.security, Some(Value::Array(list)) if list.is_empty())
}

/// The credential the connection's requests carry (rules in the module documentation).
pub fn select_credential<'a>(
    connector: &'a Connector,
    connection: &ConnectionValues,
) -> Result<Credential<'a>, SecurityError> {
    let (params, from_set) = parameters_in_effect(connector, connection)?;
    if let Some(settings) = params.iter().find_map(oauth_settings) {
        return Ok(Credential::OAuth(settings));
    }
    if declares(params, "username") && declares(params, "password") {
        return Ok(Credential::Basic);
    }
    for scheme in &connector.security.schemes {
        if let SecuritySchemeKind::ApiKey { name, location } = &scheme.kind {
            let param = find(params, &scheme.name).or_else(|| find(params, API_KEY));
            if let Some(param) = param {
                return Ok(Credential::ApiKey { name, location, parameter: param.name.clone() });
            }
        }
    }
    if from_set { Ok(Credential::None) } else { by_definition(connector, params) }
}

/// The chosen set's parameters (and `true`), or the connector's plain parameters (and `false`).
fn parameters_in_effect<'a>(
    connector: &'a Connector,
    connection: &ConnectionValues,
) -> Result<(&'a [ConnectionParameter], bool), SecurityError> {
    let sets = match &connector.security.parameter_sets {
        Some(sets) if !sets.values.is_empty() => &sets.values,
        _ => return Ok((&connector.security.connection_parameters, false)),
    };
    let chosen = match &connection.parameter_set {
        Some(name) => sets
            .iter()
            .find(|s| s.name == *name)
            .or_else(|| sets.iter().find(|s| s.name.eq_ignore_ascii_case(name))),
        None if sets.len() == 1 => sets.first(),
        None => None,
    };
    match chosen {
        Some(set) => Ok((&set.parameters, true)),
        None => Err(SecurityError::UnknownParameterSet {
            chosen: connection.parameter_set.clone(),
            offered: sets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// The first `basic`/`apiKey`/`oauth2` definition decides (connectors without parameter sets).
fn by_definition<'a>(
    connector: &'a Connector,
    params: &[ConnectionParameter],
) -> Result<Credential<'a>, SecurityError> {
    for scheme in &connector.security.schemes {
        match &scheme.kind {
            SecuritySchemeKind::Basic => return Ok(Credential::Basic),
            SecuritySchemeKind::ApiKey { name, location } => {
                let mut secrets = params.iter().filter(|p| p.is_secret());
                let parameter = match (secrets.next(), secrets.next()) {
                    (Some(only), None) => only.name.clone(),
                    _ => scheme.name.clone(),
                };
                return Ok(Credential::ApiKey { name, location, parameter });
            }
            SecuritySchemeKind::OAuth2 { .. } => {
                return Err(SecurityError::Unsupported(format!(
                    "the oauth2 security definition `{}` without an oauthSetting connection parameter",
                    scheme.name
                )));
            }
            SecuritySchemeKind::Other(_) => {}
        }
    }
    Ok(Credential::None)
}

/// The OAuth settings of an `oauthSetting` parameter.
fn oauth_settings(param: &ConnectionParameter) -> Option<&OAuthSettings> {
    let is_oauth = param.kind.as_ref().is_none_or(|k| *k == ConnectionParameterType::OAuthSetting);
    param.oauth.as_ref().filter(|_| is_oauth)
}

/// A declared parameter by name (exact, else case-insensitive).
fn find<'a>(params: &'a [ConnectionParameter], name: &str) -> Option<&'a ConnectionParameter> {
    params
        .iter()
        .find(|p| p.name == name)
        .or_else(|| params.iter().find(|p| p.name.eq_ignore_ascii_case(name)))
}

fn declares(params: &[ConnectionParameter], name: &str) -> bool {
    find(params, name).is_some()
}
