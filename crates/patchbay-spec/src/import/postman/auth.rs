//! `auth` at collection, folder or request level → distinct security definitions.

use super::vars::Vars;
use crate::fields::Ctx;
use crate::import::common::auth::{Auth, Grant, NamedAuth, OAuthFlow};
use crate::import::common::names::Unique;
use crate::import::common::{LOSS, child};
use crate::model::Location;
use serde_json::Value;

/// The authentication a request ends up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effective {
    /// None (`noauth`, or a kind a connector cannot express).
    NoAuth,
    /// One of the registry's methods, by index.
    Scheme(usize),
}

/// The distinct authentication methods met, each with its security definition name.
#[derive(Debug, Default)]
pub(super) struct Registry {
    /// The methods, in first-seen order.
    pub list: Vec<NamedAuth>,
    names: Unique,
}

impl Registry {
    /// Reads an `auth` object; `None` when there is none, so the parent's applies.
    pub fn read(
        &mut self,
        auth: Option<&Value>,
        vars: &Vars,
        pointer: &str,
        ctx: &mut Ctx,
    ) -> Option<Effective> {
        let auth = auth.filter(|a| !a.is_null())?;
        let kind = auth.get("type").and_then(Value::as_str).unwrap_or("noauth");
        let settings = settings(auth, kind, vars);
        let text = |key: &str| settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let method = match kind {
            "inherit" => return None,
            "noauth" => return Some(Effective::NoAuth),
            "apikey" => {
                let name = text("key").filter(|k| !k.is_empty()).unwrap_or_else(|| "X-API-Key".into());
                let location =
                    if text("in").as_deref() == Some("query") { Location::Query } else { Location::Header };
                Auth::ApiKey { name, location }
            }
            "basic" => Auth::Basic,
            "bearer" => Auth::Bearer,
            "oauth2" => Auth::OAuth2(oauth(&text)),
            other => {
                let message = format!(
                    "`{other}` authentication has no connector equivalent; requests using it have none"
                );
                ctx.emit(LOSS, pointer, message);
                return Some(Effective::NoAuth);
            }
        };
        if let Some(i) = self.list.iter().position(|n| n.auth == method) {
            return Some(Effective::Scheme(i));
        }
        let base = match method {
            Auth::ApiKey { .. } => "api_key",
            Auth::Basic => "basic_auth",
            Auth::Bearer => "bearer_auth",
            Auth::OAuth2(_) => "oauth2_auth",
        };
        let name = self.names.claim(base, "_");
        self.list.push(NamedAuth { name, auth: method, description: None, pointer: pointer.to_string() });
        Some(Effective::Scheme(self.list.len() - 1))
    }

    /// The header (or query parameter) an effective method fills, which the request need not declare.
    pub fn credential(&self, effective: Effective) -> Option<(Location, String)> {
        let Effective::Scheme(i) = effective else { return None };
        match &self.list.get(i)?.auth {
            Auth::ApiKey { name, location } => Some((location.clone(), name.clone())),
            _ => Some((Location::Header, "Authorization".to_string())),
        }
    }
}

/// The settings of one auth kind as key/value strings: v2.1 writes `[{key, value}]`, v2.0 an object.
fn settings(auth: &Value, kind: &str, vars: &Vars) -> Vec<(String, String)> {
    let as_text = |v: &Value| match v {
        Value::String(s) => vars.substitute(s),
        other => other.to_string(),
    };
    match auth.get(kind) {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|e| Some((e.get("key")?.as_str()?.to_string(), as_text(e.get("value")?))))
            .collect(),
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), as_text(v))).collect(),
        _ => Vec::new(),
    }
}

/// An OAuth 2.0 flow from Postman's settings (secrets are never read).
fn oauth(text: &dyn Fn(&str) -> Option<String>) -> OAuthFlow {
    let grant = match text("grant_type").as_deref() {
        Some("client_credentials") => Grant::ClientCredentials,
        Some("password_credentials" | "password") => Grant::Password,
        Some("implicit") => Grant::Implicit,
        _ => Grant::AuthorizationCode,
    };
    let url = |key: &str| text(key).filter(|u| !u.is_empty() && !u.contains("{{"));
    let scopes = text("scope").unwrap_or_default();
    OAuthFlow {
        grant,
        authorization_url: url("authUrl"),
        token_url: url("accessTokenUrl"),
        refresh_url: url("refreshTokenUrl"),
        scopes: scopes.split_whitespace().map(|s| (s.to_string(), String::new())).collect(),
        client_id: url("clientId"),
    }
}

/// Reports every `event` script of a collection, folder or request as not imported.
pub(super) fn report_events(events: Option<&Value>, pointer: &str, owner: &str, ctx: &mut Ctx) {
    for (i, event) in events.and_then(Value::as_array).into_iter().flatten().enumerate() {
        let exec = event.pointer("/script/exec");
        let has_code = match exec {
            Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).any(|l| !l.trim().is_empty()),
            Some(Value::String(s)) => !s.trim().is_empty(),
            _ => false,
        };
        if !has_code {
            continue;
        }
        let kind = match event.get("listen").and_then(Value::as_str) {
            Some("prerequest") => "pre-request",
            Some("test") => "test",
            _ => "event",
        };
        let message = format!(
            "the {kind} script of {owner} is not imported: pre-request/test scripts are not imported"
        );
        ctx.emit(LOSS, child(&child(pointer, "event"), &i.to_string()), message);
    }
}
