//! Swagger 2.0 `securityDefinitions` ↔ [`SecurityScheme`].

use crate::diag::escape_segment;
use crate::fields::{Ctx, Fields, Out};
use crate::model::{Location, Object, SecurityScheme, SecuritySchemeKind};
use serde_json::Value;

/// Reads `securityDefinitions`.
pub fn read_security_definitions(definitions: Object, ctx: &mut Ctx) -> Vec<SecurityScheme> {
    definitions
        .into_iter()
        .map(|(name, value)| {
            let pointer = format!("/securityDefinitions/{}", escape_segment(&name));
            read_scheme(name, value, pointer, ctx)
        })
        .collect()
}

fn read_scheme(name: String, value: Value, pointer: String, ctx: &mut Ctx) -> SecurityScheme {
    let mut f = Fields::new(value, pointer, ctx);
    let kind_name = f.string("type").unwrap_or_default();
    let kind = match kind_name.to_ascii_lowercase().as_str() {
        "basic" => SecuritySchemeKind::Basic,
        "apikey" => SecuritySchemeKind::ApiKey {
            name: f.string("name").unwrap_or_default(),
            location: Location::parse(&f.string("in").unwrap_or_default()),
        },
        "oauth2" => SecuritySchemeKind::OAuth2 {
            flow: f.string("flow"),
            authorization_url: f.string("authorizationUrl"),
            token_url: f.string("tokenUrl"),
            scopes: f.object("scopes").unwrap_or_default(),
        },
        _ => {
            let pointer = f.child("type");
            f.ctx().emit(
                "PB0804",
                pointer,
                format!("security definition type `{kind_name}` is not supported"),
            );
            SecuritySchemeKind::Other(kind_name)
        }
    };
    let description = f.string("description");
    SecurityScheme { name, kind, description, extra: f.finish() }
}

/// Writes `securityDefinitions`.
pub fn write_security_definitions(schemes: &[SecurityScheme]) -> Value {
    let map: Object = schemes.iter().map(|s| (s.name.clone(), write_scheme(s))).collect();
    Value::Object(map)
}

fn write_scheme(s: &SecurityScheme) -> Value {
    let some = |v: &str| Some(v.to_string());
    let out = match &s.kind {
        SecuritySchemeKind::Basic => Out::new().string("type", &some("basic")),
        SecuritySchemeKind::ApiKey { name, location } => Out::new()
            .string("type", &some("apiKey"))
            .string("in", &some(location.as_str()))
            .string("name", &Some(name.clone())),
        SecuritySchemeKind::OAuth2 { flow, authorization_url, token_url, scopes } => Out::new()
            .string("type", &some("oauth2"))
            .string("flow", flow)
            .string("authorizationUrl", authorization_url)
            .string("tokenUrl", token_url)
            .value("scopes", Some(Value::Object(scopes.clone()))),
        SecuritySchemeKind::Other(kind) => Out::new().string("type", &Some(kind.clone())),
    };
    out.string("description", &s.description).extra(&s.extra).build()
}
