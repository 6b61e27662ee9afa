//! Authentication methods of a source document turned into security definitions and the
//! connection parameters Power Platform pairs with them (spec §3.4).

use super::LOSS;
use crate::fields::Ctx;
use crate::model::{
    ConnectionParameter, ConnectionParameterType, Constraints, IdentityProvider, Location, OAuthSettings,
    Object, ParameterSet, ParameterSets, Security, SecurityScheme, SecuritySchemeKind, UiDefinition,
};
use serde_json::{Value, json};

/// The client id written into imported OAuth settings; the user replaces it with their app's.
pub const CLIENT_ID_PLACEHOLDER: &str = "[CLIENT_ID]";

/// The `oAuthSettings` extra key recording a grant Power Platform's `oauth2` provider does not run.
pub const GRANT_KEY: &str = "x-patchbay-grant";

/// An OAuth 2.0 grant type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// Authorization code (what Power Platform runs).
    AuthorizationCode,
    /// Client credentials.
    ClientCredentials,
    /// Implicit.
    Implicit,
    /// Resource owner password.
    Password,
}

impl Grant {
    /// The Swagger 2.0 `flow` name.
    fn swagger_flow(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "accessCode",
            Grant::ClientCredentials => "application",
            Grant::Implicit => "implicit",
            Grant::Password => "password",
        }
    }

    /// The OAuth 2.0 `grant_type`-style name.
    fn grant_name(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::ClientCredentials => "client_credentials",
            Grant::Implicit => "implicit",
            Grant::Password => "password",
        }
    }
}

/// One OAuth 2.0 flow.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OAuthFlow {
    /// The grant.
    pub grant: Grant,
    /// Authorization endpoint.
    pub authorization_url: Option<String>,
    /// Token endpoint.
    pub token_url: Option<String>,
    /// Refresh endpoint (the token endpoint when absent).
    pub refresh_url: Option<String>,
    /// Scopes with their descriptions.
    pub scopes: Vec<(String, String)>,
    /// Client id, when the source names a real one.
    pub client_id: Option<String>,
}

/// An authentication method the connector model can express.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Auth {
    /// An API key in a header or the query string.
    ApiKey {
        /// Header or query parameter name.
        name: String,
        /// Header or query.
        location: Location,
    },
    /// HTTP basic.
    Basic,
    /// HTTP bearer token (sent as an API key in `Authorization`).
    Bearer,
    /// OAuth 2.0.
    OAuth2(OAuthFlow),
}

/// An authentication method with the security definition name it gets.
#[derive(Debug, Clone)]
pub(crate) struct NamedAuth {
    /// The security definition's key.
    pub name: String,
    /// The method.
    pub auth: Auth,
    /// Its description in the source.
    pub description: Option<String>,
    /// Where the source defines it, for diagnostics.
    pub pointer: String,
}

/// Security definitions and connection parameters (one set per method when there are several).
pub(crate) fn build_security(auths: &[NamedAuth], ctx: &mut Ctx) -> crate::model::Security {
    let mut security = Security::default();
    for named in auths {
        security.schemes.push(scheme(named));
        report_losses(named, ctx);
    }
    match auths {
        [] => {}
        [single] => security.connection_parameters = connection_parameters(single),
        several => {
            let mut labels: Vec<String> = Vec::new();
            let values = several
                .iter()
                .map(|named| {
                    let mut label = label(&named.auth).to_string();
                    if labels.contains(&label) {
                        label = format!("{label} ({})", named.name);
                    }
                    labels.push(label.clone());
                    let description = named.description.clone().or_else(|| Some(label.clone()));
                    ParameterSet {
                        name: named.name.clone(),
                        ui: Some(UiDefinition {
                            display_name: Some(label),
                            description,
                            ..Default::default()
                        }),
                        parameters: connection_parameters(named),
                        extra: Object::new(),
                    }
                })
                .collect();
            let ui = UiDefinition {
                display_name: Some("Authentication type".into()),
                description: Some("Choose how to sign in".into()),
                ..Default::default()
            };
            security.parameter_sets = Some(ParameterSets { ui: Some(ui), values, extra: Object::new() });
        }
    }
    security
}

/// A short human name of a method.
fn label(auth: &Auth) -> &'static str {
    match auth {
        Auth::ApiKey { .. } => "API key",
        Auth::Basic => "Basic authentication",
        Auth::Bearer => "Bearer token",
        Auth::OAuth2(_) => "OAuth 2.0",
    }
}

/// The Swagger security definition of a method.
fn scheme(named: &NamedAuth) -> SecurityScheme {
    let kind = match &named.auth {
        Auth::ApiKey { name, location } => {
            SecuritySchemeKind::ApiKey { name: name.clone(), location: location.clone() }
        }
        Auth::Basic => SecuritySchemeKind::Basic,
        Auth::Bearer => {
            SecuritySchemeKind::ApiKey { name: "Authorization".into(), location: Location::Header }
        }
        Auth::OAuth2(flow) => SecuritySchemeKind::OAuth2 {
            flow: Some(flow.grant.swagger_flow().to_string()),
            authorization_url: flow.authorization_url.clone(),
            token_url: flow.token_url.clone(),
            scopes: flow.scopes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect(),
        },
    };
    SecurityScheme {
        name: named.name.clone(),
        kind,
        description: named.description.clone(),
        extra: Object::new(),
    }
}

/// Reports what Power Platform cannot do with a method as the source describes it.
fn report_losses(named: &NamedAuth, ctx: &mut Ctx) {
    let message = match &named.auth {
        Auth::Bearer => "bearer authentication is imported as an API key in the `Authorization` header: \
             users must type `Bearer ` before their token"
            .to_string(),
        Auth::OAuth2(flow) => match flow.grant {
            Grant::AuthorizationCode => return,
            Grant::ClientCredentials => {
                "Power Platform connections only sign in with the authorization-code \
                 grant; the client-credentials grant is recorded as `x-patchbay-grant`"
                    .to_string()
            }
            Grant::Implicit => "the implicit grant is imported as an authorization-code sign-in with no \
                 token URL; set `tokenUrl` before use"
                .to_string(),
            Grant::Password => "the password grant is imported as an authorization-code sign-in with no \
                 authorization URL; set `authorizationUrl` before use"
                .to_string(),
        },
        Auth::ApiKey { .. } | Auth::Basic => return,
    };
    ctx.emit(LOSS, named.pointer.clone(), message);
}

/// The connection parameters a method needs, named as the Power Platform portal names them.
fn connection_parameters(named: &NamedAuth) -> Vec<ConnectionParameter> {
    let desc = named.description.clone();
    match &named.auth {
        Auth::ApiKey { name, .. } => {
            let text = desc.unwrap_or_else(|| format!("The API key, sent as `{name}`"));
            vec![plain("api_key", ConnectionParameterType::SecureString, "API key", text)]
        }
        Auth::Basic => vec![
            plain("username", ConnectionParameterType::String, "Username", "The user name".into()),
            plain("password", ConnectionParameterType::SecureString, "Password", "The password".into()),
        ],
        Auth::Bearer => {
            let text = "Type `Bearer ` followed by your access token".to_string();
            vec![plain("api_key", ConnectionParameterType::SecureString, "Access token", text)]
        }
        Auth::OAuth2(flow) => vec![oauth_parameter(flow)],
    }
}

/// A required primitive connection parameter.
fn plain(
    name: &str,
    kind: ConnectionParameterType,
    display: &str,
    description: String,
) -> ConnectionParameter {
    ConnectionParameter {
        name: name.to_string(),
        kind: Some(kind),
        default_value: None,
        allowed_values: Vec::new(),
        ui: Some(ui(display, Some(description))),
        oauth: None,
        extra: Object::new(),
    }
}

/// A `uiDefinition` with `required: true`.
fn ui(display: &str, description: Option<String>) -> UiDefinition {
    UiDefinition {
        display_name: Some(display.to_string()),
        description,
        constraints: Some(Constraints { required: Some(true), ..Default::default() }),
        ..Default::default()
    }
}

/// The `token` parameter of an OAuth 2.0 method.
fn oauth_parameter(flow: &OAuthFlow) -> ConnectionParameter {
    let mut custom = Object::new();
    let refresh = flow.refresh_url.clone().or_else(|| flow.token_url.clone());
    for (key, url) in [
        ("authorizationUrl", &flow.authorization_url),
        ("tokenUrl", &flow.token_url),
        ("refreshUrl", &refresh),
    ] {
        if let Some(url) = url {
            custom.insert(key.to_string(), json!({ "value": url }));
        }
    }
    let mut extra = Object::new();
    if flow.grant != Grant::AuthorizationCode {
        extra.insert(GRANT_KEY.to_string(), Value::String(flow.grant.grant_name().to_string()));
    }
    let mut properties = Object::new();
    properties.insert("IsFirstParty".into(), Value::String("False".into()));
    let settings = OAuthSettings {
        identity_provider: IdentityProvider::OAuth2,
        client_id: Some(flow.client_id.clone().unwrap_or_else(|| CLIENT_ID_PLACEHOLDER.to_string())),
        client_secret: None,
        scopes: flow.scopes.iter().map(|(k, _)| k.clone()).collect(),
        redirect_mode: Some("GlobalPerConnector".into()),
        redirect_url: None,
        properties,
        custom_parameters: custom,
        extra,
    };
    ConnectionParameter {
        name: "token".into(),
        kind: Some(ConnectionParameterType::OAuthSetting),
        default_value: None,
        allowed_values: Vec::new(),
        ui: Some(ui("Sign in", None)),
        oauth: Some(settings),
        extra: Object::new(),
    }
}
