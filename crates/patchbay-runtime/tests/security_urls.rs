//! Authorization URLs per identity provider (pure: nothing is sent).

mod support_security;

use patchbay_runtime::security::{ConnectionValues, SecurityError, authorization_url};
use serde_json::json;
use support_security::oauth_settings;

fn conn() -> ConnectionValues {
    ConnectionValues::new("c")
}

#[test]
fn aad_v1_uses_tenant_endpoints_and_resource() {
    let mut s = oauth_settings(
        "aad",
        json!({
            "loginUri": { "value": "https://login.windows.net" },
            "tenantId": { "value": "contoso.onmicrosoft.com" },
            "resourceUri": { "value": "https://graph.microsoft.com" },
            "enableOnbehalfOfLogin": { "value": "false" }
        }),
    );
    s.client_id = Some("app-id".into());
    s.scopes = Vec::new();
    let url = authorization_url(&s, "https://patchbay.example/redirect", "xyz", Some("ch"), &conn()).unwrap();
    assert_eq!(
        url.as_str(),
        "https://login.windows.net/contoso.onmicrosoft.com/oauth2/authorize?response_type=code&client_id=app-id\
         &redirect_uri=https%3A%2F%2Fpatchbay.example%2Fredirect&state=xyz&resource=https%3A%2F%2Fgraph.microsoft.com\
         &code_challenge=ch&code_challenge_method=S256"
    );
}

#[test]
fn aad_v2_opt_in_uses_default_scope() {
    let mut s = oauth_settings("aad", json!({ "resourceUri": { "value": "https://api.contoso.example" } }));
    s.client_id = Some("app-id".into());
    s.scopes = Vec::new();
    s.extra.insert("x-patchbay-aad-version".into(), json!("2"));
    let url = authorization_url(&s, "https://r.example/cb", "s", None, &conn()).unwrap();
    assert_eq!(
        url.as_str(),
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?response_type=code&client_id=app-id\
         &redirect_uri=https%3A%2F%2Fr.example%2Fcb&scope=https%3A%2F%2Fapi.contoso.example%2F.default+offline_access&state=s"
    );
}

#[test]
fn named_providers_use_the_builtin_table() {
    let mut s = oauth_settings("GitHub", json!({}));
    s.client_id = Some("gh".into());
    s.scopes = vec!["repo".into(), "read:user".into()];
    let url = authorization_url(&s, "https://r.example/cb", "s", None, &conn()).unwrap();
    assert_eq!(
        url.as_str(),
        "https://github.com/login/oauth/authorize?response_type=code&client_id=gh\
         &redirect_uri=https%3A%2F%2Fr.example%2Fcb&scope=repo+read%3Auser&state=s"
    );
    let slack = oauth_settings("slack", json!({}));
    let url = authorization_url(&slack, "https://r.example/cb", "s", None, &conn()).unwrap();
    assert!(url.as_str().starts_with("https://slack.com/oauth/v2/authorize?"));
    let unknown = oauth_settings(
        "Contoso",
        json!({ "authorizationUrl": { "value": "https://id.contoso.example/a?x=1" } }),
    );
    let url = authorization_url(&unknown, "https://r.example/cb", "s", None, &conn()).unwrap();
    assert!(url.as_str().starts_with("https://id.contoso.example/a?x=1&response_type=code&client_id="));
}

#[test]
fn generic_url_template_takes_token_parameters_raw() {
    let s = oauth_settings(
        "oauth2generic",
        json!({
            "AuthorizationUrlTemplate": { "value": "https://{customHost}/{region}/authorize" },
            "authorizationUrlQueryStringTemplate": { "value": "client={clientId}&r={redirectUrl}" }
        }),
    );
    let c = ConnectionValues::new("c")
        .with_value("token:customHost", "eu.id.example")
        .with_value("token:Region", "west");
    let url = authorization_url(&s, "https://r.example/cb?a=1", "s", None, &c).unwrap();
    assert_eq!(
        url.as_str(),
        "https://eu.id.example/west/authorize?client=contoso-demo-client&r=https%3A%2F%2Fr.example%2Fcb%3Fa%3D1"
    );
}

#[test]
fn bad_or_missing_endpoints_are_reported_without_values() {
    let none = oauth_settings("oauth2", json!({}));
    let err = authorization_url(&none, "https://r/cb", "s", None, &conn()).unwrap_err();
    assert!(matches!(err, SecurityError::Endpoint(_)), "{err}");
    let ftp = oauth_settings("oauth2", json!({ "authorizationUrl": { "value": "ftp://x/secret-in-url" } }));
    let err = authorization_url(&ftp, "https://r/cb", "s", None, &conn()).unwrap_err();
    assert!(!err.to_string().contains("secret-in-url"), "{err}");
    let generic =
        oauth_settings("oauth2generic", json!({ "authorizationUrlTemplate": { "value": "{clientSecret}" } }));
    let err = authorization_url(&generic, "https://r/cb", "s", None, &conn()).unwrap_err();
    assert!(!err.to_string().contains(support_security::DEMO_CLIENT_SECRET), "{err}");
    let cert = oauth_settings("aadcertificate", json!({}));
    let err = authorization_url(&cert, "https://r/cb", "s", None, &conn()).unwrap_err();
    assert!(matches!(err, SecurityError::Unsupported(_)));
}
