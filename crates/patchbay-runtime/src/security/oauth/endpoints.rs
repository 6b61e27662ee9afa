//! Where each identity provider's endpoints are.
//!
//! * `oauth2`: `customParameters` `authorizationUrl`, `tokenUrl`, `refreshUrl` (any case; the
//!   refresh URL defaults to the token URL).
//! * `oauth2generic`: the URL, query-string and body templates (see `request`).
//! * `aad`: Entra ID **v1** endpoints by default — `{loginUri}/{tenantId}/oauth2/authorize` and
//!   `/oauth2/token` with `resource={resourceUri}` (what Power Platform's `resourceUri` means;
//!   `loginUri` defaults to `https://login.microsoftonline.com`, `tenantId` to `common`,
//!   `resourceUri` to `properties.AzureActiveDirectoryResourceId`). With
//!   `"x-patchbay-aad-version": "2"` (in `oAuthSettings` or `customParameters`) the v2 endpoints
//!   `/oauth2/v2.0/authorize` and `/token` are used instead, with the given scopes — or
//!   `{resourceUri}/.default` when there are none — plus `offline_access`.
//! * `aadcertificate`: not supported (needs a client certificate).
//! * named providers (`github`, `google`, …): `customParameters` when given, else a built-in
//!   table; unknown names use `customParameters` only (`oauth2` semantics).

use patchbay_spec::model::{IdentityProvider, OAuthSettings};
use serde_json::Value;

use super::providers::{Provider, named_provider};
use crate::security::SecurityError;

/// The option selecting Entra ID v2 endpoints for `aad`.
pub const AAD_VERSION_OPTION: &str = "x-patchbay-aad-version";

/// Endpoints and fixed parameters of a standard (non-templated) provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Standard {
    /// The authorization endpoint.
    pub authorize: Option<String>,
    /// The token endpoint.
    pub token: Option<String>,
    /// The refresh endpoint (defaults to the token endpoint).
    pub refresh: Option<String>,
    /// The scopes to request.
    pub scopes: Vec<String>,
    /// How scopes are joined.
    pub scope_delimiter: String,
    /// Extra parameters for authorization and token requests (e.g. `resource`).
    pub extra: Vec<(String, String)>,
}

/// How a provider's requests are built.
#[derive(Debug)]
pub(crate) enum Flavor {
    /// RFC 6749 requests to fixed endpoints.
    Standard(Standard),
    /// `oauth2generic` templates.
    Generic,
}

/// The flavor and endpoints of the settings' identity provider.
pub(crate) fn flavor(settings: &OAuthSettings) -> Result<Flavor, SecurityError> {
    match &settings.identity_provider {
        IdentityProvider::OAuth2 => Ok(Flavor::Standard(custom(settings, None))),
        IdentityProvider::OAuth2Generic => Ok(Flavor::Generic),
        IdentityProvider::Aad => Ok(Flavor::Standard(aad(settings))),
        IdentityProvider::AadCertificate => Err(SecurityError::Unsupported(
            "the aadcertificate identity provider (client certificate credentials)".into(),
        )),
        IdentityProvider::Named(name) => Ok(Flavor::Standard(custom(settings, named_provider(name)))),
    }
}

/// A non-empty custom parameter.
pub(crate) fn custom_value<'a>(settings: &'a OAuthSettings, name: &str) -> Option<&'a str> {
    settings.custom_parameter(name).map(str::trim).filter(|v| !v.is_empty())
}

/// A patchbay option: an `oAuthSettings` key (string, or `{ "value": … }`) or a custom
/// parameter, by case-insensitive name.
pub(crate) fn option<'a>(settings: &'a OAuthSettings, name: &str) -> Option<&'a str> {
    let extra = settings.extra.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let text = extra.and_then(|v| v.as_str().or_else(|| v.get("value").and_then(Value::as_str)));
    text.or_else(|| custom_value(settings, name))
}

/// `oauth2` endpoints from custom parameters, falling back to a named provider's table.
fn custom(settings: &OAuthSettings, fallback: Option<Provider>) -> Standard {
    let pick =
        |name: &str, builtin: Option<&str>| custom_value(settings, name).or(builtin).map(str::to_string);
    let token = pick("tokenUrl", fallback.map(|p| p.token));
    Standard {
        authorize: pick("authorizationUrl", fallback.map(|p| p.authorize)),
        refresh: pick("refreshUrl", None).or_else(|| token.clone()),
        token,
        scopes: settings.scopes.clone(),
        scope_delimiter: fallback.map_or(" ", |p| p.scope_delimiter).to_string(),
        extra: Vec::new(),
    }
}

/// Entra ID endpoints (v1 with `resource`, or v2 with scopes when opted in).
fn aad(settings: &OAuthSettings) -> Standard {
    let login = custom_value(settings, "loginUri").unwrap_or("https://login.microsoftonline.com");
    let login = login.trim_end_matches('/');
    let tenant = custom_value(settings, "tenantId").unwrap_or("common");
    let resource = custom_value(settings, "resourceUri").or_else(|| {
        let (_, v) = settings
            .properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("AzureActiveDirectoryResourceId"))?;
        v.as_str().filter(|s| !s.is_empty())
    });
    let v2 = option(settings, AAD_VERSION_OPTION).is_some_and(|v| matches!(v.trim(), "2" | "v2" | "2.0"));
    if v2 {
        let base = format!("{login}/{tenant}/oauth2/v2.0");
        let mut scopes = settings.scopes.clone();
        if scopes.is_empty() {
            scopes.extend(resource.map(|r| format!("{}/.default", r.trim_end_matches('/'))));
        }
        if !scopes.iter().any(|s| s.eq_ignore_ascii_case("offline_access")) {
            scopes.push("offline_access".into());
        }
        return Standard {
            authorize: Some(format!("{base}/authorize")),
            token: Some(format!("{base}/token")),
            refresh: Some(format!("{base}/token")),
            scopes,
            scope_delimiter: " ".into(),
            extra: Vec::new(),
        };
    }
    let base = format!("{login}/{tenant}/oauth2");
    Standard {
        authorize: Some(format!("{base}/authorize")),
        token: Some(format!("{base}/token")),
        refresh: Some(format!("{base}/token")),
        scopes: settings.scopes.clone(),
        scope_delimiter: " ".into(),
        extra: resource.map(|r| ("resource".to_string(), r.to_string())).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(provider: &str, custom: Value) -> OAuthSettings {
        OAuthSettings {
            identity_provider: IdentityProvider::parse(provider),
            client_id: Some("app".into()),
            client_secret: None,
            scopes: Vec::new(),
            redirect_mode: None,
            redirect_url: None,
            properties: serde_json::Map::new(),
            custom_parameters: custom.as_object().cloned().unwrap_or_default(),
            extra: serde_json::Map::new(),
        }
    }

    fn standard(s: &OAuthSettings) -> Standard {
        match flavor(s) {
            Ok(Flavor::Standard(st)) => st,
            other => panic!("expected standard endpoints, got {other:?}"),
        }
    }

    #[test]
    fn aad_v1_endpoints_with_resource() {
        let s = settings(
            "aad",
            json!({
                "loginUri": { "value": "https://login.windows.net/" },
                "tenantId": { "value": "contoso.onmicrosoft.com" },
                "resourceUri": { "value": "https://graph.microsoft.com" }
            }),
        );
        let st = standard(&s);
        assert_eq!(
            st.authorize.as_deref(),
            Some("https://login.windows.net/contoso.onmicrosoft.com/oauth2/authorize")
        );
        assert_eq!(
            st.token.as_deref(),
            Some("https://login.windows.net/contoso.onmicrosoft.com/oauth2/token")
        );
        assert_eq!(st.refresh, st.token);
        assert_eq!(st.extra, vec![("resource".to_string(), "https://graph.microsoft.com".to_string())]);
        assert!(st.scopes.is_empty());
    }

    #[test]
    fn aad_defaults_and_resource_from_properties() {
        let mut s = settings("AAD", json!({}));
        s.properties.insert("AzureActiveDirectoryResourceId".into(), json!("https://api.contoso.example"));
        let st = standard(&s);
        assert_eq!(
            st.authorize.as_deref(),
            Some("https://login.microsoftonline.com/common/oauth2/authorize")
        );
        assert_eq!(st.extra, vec![("resource".to_string(), "https://api.contoso.example".to_string())]);
    }

    #[test]
    fn aad_v2_uses_default_scope_when_scopes_empty() {
        let mut s = settings("aad", json!({ "resourceUri": { "value": "https://graph.microsoft.com/" } }));
        s.extra.insert(AAD_VERSION_OPTION.into(), json!("2"));
        let st = standard(&s);
        assert_eq!(
            st.authorize.as_deref(),
            Some("https://login.microsoftonline.com/common/oauth2/v2.0/authorize")
        );
        assert_eq!(st.token.as_deref(), Some("https://login.microsoftonline.com/common/oauth2/v2.0/token"));
        assert_eq!(st.scopes, vec!["https://graph.microsoft.com/.default", "offline_access"]);
        assert!(st.extra.is_empty());
        s.scopes = vec!["User.Read".into()];
        assert_eq!(standard(&s).scopes, vec!["User.Read", "offline_access"]);
    }

    #[test]
    fn oauth2_custom_parameters_any_case() {
        let s = settings(
            "oauth2",
            json!({
                "AuthorizationUrl": { "value": "https://id.example/authorize" },
                "TokenUrl": { "value": "https://id.example/token" }
            }),
        );
        let st = standard(&s);
        assert_eq!(st.authorize.as_deref(), Some("https://id.example/authorize"));
        assert_eq!(st.refresh.as_deref(), Some("https://id.example/token"));
    }

    #[test]
    fn named_providers_use_table_unless_overridden() {
        let st = standard(&settings("github", json!({})));
        assert_eq!(st.authorize.as_deref(), Some("https://github.com/login/oauth/authorize"));
        let over = settings("github", json!({ "tokenUrl": { "value": "https://ghe.example/token" } }));
        assert_eq!(standard(&over).token.as_deref(), Some("https://ghe.example/token"));
        let unknown = standard(&settings("DocuSignDemo", json!({})));
        assert_eq!(unknown.authorize, None);
        assert!(matches!(flavor(&settings("aadcertificate", json!({}))), Err(SecurityError::Unsupported(_))));
        assert!(matches!(flavor(&settings("oauth2generic", json!({}))), Ok(Flavor::Generic)));
    }
}
