//! `components.securitySchemes` → security definitions and connection parameters.

use super::Doc;
use crate::fields::Ctx;
use crate::import::common::auth::{Auth, Grant, NamedAuth, OAuthFlow, build_security};
use crate::import::common::{LOSS, WRONG_TYPE, child};
use crate::model::{Location, Security, SecurityScheme, SecuritySchemeKind};
use serde_json::Value;

/// OAuth 2.0 flows in the order one is chosen for the connection.
const FLOWS: [(&str, Grant); 4] = [
    ("authorizationCode", Grant::AuthorizationCode),
    ("clientCredentials", Grant::ClientCredentials),
    ("implicit", Grant::Implicit),
    ("password", Grant::Password),
];

/// The security definitions and connection parameters of the document's security schemes.
pub(super) fn security(doc: &Doc, ctx: &mut Ctx) -> Security {
    let Some(schemes) = doc.root.pointer("/components/securitySchemes") else { return Security::default() };
    let Some(map) = schemes.as_object() else {
        ctx.emit(WRONG_TYPE, "/components/securitySchemes", "`securitySchemes` should be an object");
        return Security::default();
    };
    let mut auths = Vec::new();
    for (name, raw) in map {
        let pointer = child("/components/securitySchemes", name);
        let Some(resolved) = doc.deref(raw, &pointer, ctx) else { continue };
        if let Some(auth) = scheme(resolved, &pointer, ctx) {
            let description = resolved.get("description").and_then(Value::as_str).map(str::to_string);
            auths.push(NamedAuth { name: name.clone(), auth, description, pointer });
        }
    }
    build_security(&auths, ctx)
}

/// One security scheme, when a connector can express it.
fn scheme(raw: &Value, pointer: &str, ctx: &mut Ctx) -> Option<Auth> {
    if !raw.is_object() {
        ctx.emit(WRONG_TYPE, pointer, "a security scheme should be an object; it was left out");
        return None;
    }
    let text = |key: &str| raw.get(key).and_then(Value::as_str);
    match text("type") {
        Some("apiKey") => {
            let location = match text("in") {
                Some("header") => Location::Header,
                Some("query") => Location::Query,
                other => {
                    let message =
                        format!("an API key in `{}` has no connector equivalent", other.unwrap_or("?"));
                    ctx.emit(LOSS, pointer, message);
                    return None;
                }
            };
            let Some(name) = text("name") else {
                ctx.emit(WRONG_TYPE, pointer, "the API key scheme has no `name`; it was left out");
                return None;
            };
            Some(Auth::ApiKey { name: name.to_string(), location })
        }
        Some("http") => match text("scheme").map(str::to_ascii_lowercase).as_deref() {
            Some("basic") => Some(Auth::Basic),
            Some("bearer") => Some(Auth::Bearer),
            other => {
                let message =
                    format!("HTTP `{}` authentication has no connector equivalent", other.unwrap_or("?"));
                ctx.emit(LOSS, pointer, message);
                None
            }
        },
        Some("oauth2") => oauth(raw.get("flows"), pointer, ctx).map(Auth::OAuth2),
        other => {
            let message = format!("`{}` security has no connector equivalent", other.unwrap_or("?"));
            ctx.emit(LOSS, pointer, message);
            None
        }
    }
}

/// The OAuth 2.0 flow the connection uses (authorization code first); the others are reported.
fn oauth(flows: Option<&Value>, pointer: &str, ctx: &mut Ctx) -> Option<OAuthFlow> {
    let flows_pointer = child(pointer, "flows");
    let present: Vec<(&str, Grant, &Value)> =
        FLOWS.iter().filter_map(|(key, grant)| Some((*key, *grant, flows?.get(*key)?))).collect();
    let Some((chosen, grant, flow)) = present.first().copied() else {
        ctx.emit(WRONG_TYPE, flows_pointer, "the OAuth 2.0 scheme has no known flow; it was left out");
        return None;
    };
    for (key, _, _) in present.iter().skip(1) {
        let message = format!("a connection signs in one way: flow `{key}` is not imported, `{chosen}` is");
        ctx.emit(LOSS, child(&flows_pointer, key), message);
    }
    let url = |key: &str| flow.get(key).and_then(Value::as_str).map(str::to_string);
    let scopes = flow.get("scopes").and_then(Value::as_object).into_iter().flatten();
    Some(OAuthFlow {
        grant,
        authorization_url: url("authorizationUrl"),
        token_url: url("tokenUrl"),
        refresh_url: url("refreshUrl"),
        scopes: scopes.map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect(),
        client_id: None,
    })
}

/// A `security` requirement keeping only imported schemes (with no scopes unless OAuth 2.0).
/// `None` when every alternative named a scheme that was not imported.
pub(super) fn requirement(value: &Value, schemes: &[SecurityScheme]) -> Option<Value> {
    let list = value.as_array()?;
    let kept: Vec<Value> = list
        .iter()
        .filter_map(|alternative| {
            let map = alternative.as_object()?;
            map.iter()
                .map(|(name, scopes)| {
                    let scheme = schemes.iter().find(|s| &s.name == name)?;
                    let oauth = matches!(scheme.kind, SecuritySchemeKind::OAuth2 { .. });
                    Some((name.clone(), if oauth { scopes.clone() } else { Value::Array(Vec::new()) }))
                })
                .collect::<Option<serde_json::Map<_, _>>>()
                .map(Value::Object)
        })
        .collect();
    if kept.is_empty() && !list.is_empty() { None } else { Some(Value::Array(kept)) }
}
