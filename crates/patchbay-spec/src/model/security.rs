//! Security: Swagger security definitions and `apiProperties.json` connection parameters.

use super::{Location, Object};
use serde_json::Value;

/// One entry of Swagger `securityDefinitions`.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityScheme {
    /// The definition's key, e.g. `api_key`.
    pub name: String,
    /// What kind of credential, and where it goes.
    pub kind: SecuritySchemeKind,
    /// `description`.
    pub description: Option<String>,
    /// Other keys, verbatim.
    pub extra: Object,
}

/// The kind of a security definition.
#[derive(Debug, Clone, PartialEq)]
pub enum SecuritySchemeKind {
    /// HTTP basic authentication.
    Basic,
    /// An API key in a header or the query string.
    ApiKey {
        /// Header or query parameter name.
        name: String,
        /// `header` or `query`.
        location: Location,
    },
    /// OAuth 2.0.
    OAuth2 {
        /// `flow`: `accessCode`, `implicit`, `password` or `application`.
        flow: Option<String>,
        /// `authorizationUrl` (informational; `oAuthSettings` is authoritative).
        authorization_url: Option<String>,
        /// `tokenUrl`.
        token_url: Option<String>,
        /// `scopes`: name to description.
        scopes: Object,
    },
    /// Anything else, by its `type`.
    Other(String),
}

/// The type of a connection parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionParameterType {
    /// Plain text.
    String,
    /// A secret, stored encrypted.
    SecureString,
    /// A number.
    Int,
    /// A checkbox.
    Bool,
    /// OAuth 2.0 sign-in; holds tokens.
    OAuthSetting,
    /// An on-premises gateway.
    GatewaySetting,
    /// A client certificate.
    ClientCertificate,
    /// Anything else, as written.
    Other(String),
}

impl ConnectionParameterType {
    /// Parses a `type` value, case-insensitively.
    pub fn parse(text: &str) -> Self {
        match text.to_ascii_lowercase().as_str() {
            "string" => Self::String,
            "securestring" => Self::SecureString,
            "int" => Self::Int,
            "bool" => Self::Bool,
            "oauthsetting" => Self::OAuthSetting,
            "gatewaysetting" => Self::GatewaySetting,
            "clientcertificate" => Self::ClientCertificate,
            _ => Self::Other(text.to_string()),
        }
    }

    /// The value as written in packages.
    pub fn as_str(&self) -> &str {
        match self {
            Self::String => "string",
            Self::SecureString => "securestring",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::OAuthSetting => "oauthSetting",
            Self::GatewaySetting => "gatewaySetting",
            Self::ClientCertificate => "clientCertificate",
            Self::Other(s) => s,
        }
    }

    /// Whether values of this type are secrets.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::SecureString | Self::OAuthSetting | Self::ClientCertificate)
    }
}

/// One connection parameter (`connectionParameters.<name>`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionParameter {
    /// The key, e.g. `api_key`, `token`, `token:region`.
    pub name: String,
    /// `type`; `None` when missing.
    pub kind: Option<ConnectionParameterType>,
    /// `defaultValue`.
    pub default_value: Option<Value>,
    /// `allowedValues` at the parameter level, verbatim.
    pub allowed_values: Vec<Value>,
    /// `uiDefinition`.
    pub ui: Option<UiDefinition>,
    /// `oAuthSettings`, for `oauthSetting` parameters.
    pub oauth: Option<OAuthSettings>,
    /// Other keys (`gatewaySettings`, `metadata`, …), verbatim.
    pub extra: Object,
}

impl ConnectionParameter {
    /// Whether the user must supply it (`uiDefinition.constraints.required`).
    pub fn is_required(&self) -> bool {
        self.ui.as_ref().and_then(|u| u.constraints.as_ref()).and_then(|c| c.required).unwrap_or(false)
    }

    /// Whether its value is a secret.
    pub fn is_secret(&self) -> bool {
        self.kind.as_ref().is_some_and(ConnectionParameterType::is_secret)
    }
}

/// `uiDefinition` of a connection parameter or parameter set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UiDefinition {
    /// `displayName`.
    pub display_name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `tooltip`.
    pub tooltip: Option<String>,
    /// `constraints`.
    pub constraints: Option<Constraints>,
    /// Other keys (`tabIndex`, …), verbatim.
    pub extra: Object,
}

/// `uiDefinition.constraints`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Constraints {
    /// `required` (written as the string `"true"`/`"false"` in packages).
    pub required: Option<bool>,
    /// `clearText`: show a secure string as it is typed.
    pub clear_text: Option<bool>,
    /// `hidden`.
    pub hidden: Option<bool>,
    /// `allowedValues`: `[{ text, value }]`, verbatim.
    pub allowed_values: Vec<AllowedValue>,
    /// `capability`, e.g. `cloud`, `gateway`.
    pub capability: Vec<String>,
    /// `dependencies`: shown only when another parameter has one of some values; verbatim.
    pub dependencies: Option<Value>,
    /// Other keys (`tabIndex`, …), verbatim.
    pub extra: Object,
}

/// One allowed value of a connection parameter, verbatim (`{ "text": …, "value": … }`).
pub type AllowedValue = Value;

/// The identity provider of an OAuth 2.0 connection parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityProvider {
    /// Generic authorization code (`oauth2`).
    OAuth2,
    /// Generic with URL templates (`oauth2generic`).
    OAuth2Generic,
    /// Microsoft Entra ID (`aad`).
    Aad,
    /// Entra ID with a certificate (`aadcertificate`).
    AadCertificate,
    /// A named provider (`github`, `facebook`, `DocuSign`, …), as written.
    Named(String),
}

impl IdentityProvider {
    /// Parses `identityProvider`, case-insensitively.
    pub fn parse(text: &str) -> Self {
        match text.to_ascii_lowercase().as_str() {
            "oauth2" => Self::OAuth2,
            "oauth2generic" => Self::OAuth2Generic,
            "aad" => Self::Aad,
            "aadcertificate" => Self::AadCertificate,
            _ => Self::Named(text.to_string()),
        }
    }

    /// The value as written in packages.
    pub fn as_str(&self) -> &str {
        match self {
            Self::OAuth2 => "oauth2",
            Self::OAuth2Generic => "oauth2generic",
            Self::Aad => "aad",
            Self::AadCertificate => "aadcertificate",
            Self::Named(s) => s,
        }
    }
}

/// `oAuthSettings` of an `oauthSetting` connection parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthSettings {
    /// `identityProvider`.
    pub identity_provider: IdentityProvider,
    /// `clientId`.
    pub client_id: Option<String>,
    /// `clientSecret` (never in a committed package; injected at upload).
    pub client_secret: Option<String>,
    /// `scopes`.
    pub scopes: Vec<String>,
    /// `redirectMode` (`Global`, `GlobalPerConnector`, `Direct`).
    pub redirect_mode: Option<String>,
    /// `redirectUrl`.
    pub redirect_url: Option<String>,
    /// `properties` (`IsFirstParty`, `AzureActiveDirectoryResourceId`, …), verbatim.
    pub properties: Object,
    /// `customParameters`: name to `{ "value": … }`, verbatim.
    pub custom_parameters: Object,
    /// Other keys (`additionalParameters`, …), verbatim.
    pub extra: Object,
}

impl OAuthSettings {
    /// A custom parameter's `value`, by case-insensitive name (`tokenUrl`, `TokenUrlTemplate`, …).
    pub fn custom_parameter(&self, name: &str) -> Option<&str> {
        let (_, v) = self.custom_parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        v.get("value").and_then(Value::as_str).or_else(|| v.as_str())
    }
}

/// `connectionParameterSets`: alternative ways to create a connection.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParameterSets {
    /// `uiDefinition` of the chooser.
    pub ui: Option<UiDefinition>,
    /// `values`: the sets.
    pub values: Vec<ParameterSet>,
    /// Other keys, verbatim.
    pub extra: Object,
}

/// One set of connection parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParameterSet {
    /// `name`, recorded on connections made with this set.
    pub name: String,
    /// `uiDefinition`.
    pub ui: Option<UiDefinition>,
    /// The set's parameters.
    pub parameters: Vec<ConnectionParameter>,
    /// Other keys (`metadata`, …), verbatim.
    pub extra: Object,
}
