//! What a connection holds: the chosen parameter set, parameter values and OAuth tokens.
//!
//! Secrets never reach `Debug` output: tokens and the values of secret parameters print as `***`.
//! A parameter is secret when the connector declares it `securestring`/`oauthSetting`/
//! `clientCertificate` (see [`ConnectionValues::with_secrets_from`]) or, as a safety net, when its
//! name is a conventional secret name (`password`, `api_key`, `apiKey`, `token`, or anything
//! containing `password` or `secret`, case-insensitively).

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use patchbay_spec::Connector;
use serde_json::{Map, Value, json};

const MASK: &str = "***";

/// The OAuth tokens of a connection.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token, sent as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// The refresh token, when the provider issued one.
    pub refresh_token: Option<String>,
    /// When the access token expires; `None` when the provider did not say.
    pub expires_at: Option<SystemTime>,
    /// `token_type` as the provider wrote it (the header always uses `Bearer`).
    pub token_type: Option<String>,
    /// `scope` as granted.
    pub scope: Option<String>,
}

impl TokenSet {
    /// A token set with only an access token.
    pub fn new(access_token: impl Into<String>) -> Self {
        TokenSet {
            access_token: access_token.into(),
            refresh_token: None,
            expires_at: None,
            token_type: None,
            scope: None,
        }
    }

    /// Time left before expiry at `now` (zero once expired); `None` when the expiry is unknown.
    pub fn remaining(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at.map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
    }

    /// The tokens as JSON for storage (`expires_at` in Unix seconds).
    pub fn to_json(&self) -> Value {
        let expires = self.expires_at.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs());
        json!({
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": expires,
            "token_type": self.token_type,
            "scope": self.scope,
        })
    }

    /// Reads what [`TokenSet::to_json`] wrote; `None` without an `access_token` string.
    pub fn from_json(value: &Value) -> Option<TokenSet> {
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
        let expires_at = value
            .get("expires_at")
            .and_then(Value::as_u64)
            .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)));
        Some(TokenSet {
            access_token: text("access_token")?,
            refresh_token: text("refresh_token"),
            expires_at,
            token_type: text("token_type"),
            scope: text("scope"),
        })
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &MASK)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| MASK))
            .field("expires_at", &self.expires_at)
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .finish()
    }
}

/// What one connection holds.
#[derive(Clone, Default)]
pub struct ConnectionValues {
    /// The connection's id: the key of its OAuth token cache entry.
    pub id: String,
    /// The parameter set chosen at creation (`connectionParameterSets.values[].name`).
    pub parameter_set: Option<String>,
    /// Parameter values by name (`api_key`, `username`, `token:region`, …).
    pub values: Map<String, Value>,
    /// OAuth tokens, for connections signed in with an `oauthSetting` parameter.
    pub token: Option<TokenSet>,
    /// Names of parameters the connector declares secret.
    secret_names: BTreeSet<String>,
}

impl ConnectionValues {
    /// An empty connection with this id.
    pub fn new(id: impl Into<String>) -> Self {
        ConnectionValues { id: id.into(), ..ConnectionValues::default() }
    }

    /// Sets the chosen parameter set.
    pub fn with_parameter_set(mut self, name: impl Into<String>) -> Self {
        self.parameter_set = Some(name.into());
        self
    }

    /// Sets one parameter value.
    pub fn with_value(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.values.insert(name.into(), value.into());
        self
    }

    /// Sets the OAuth tokens.
    pub fn with_token(mut self, token: TokenSet) -> Self {
        self.token = Some(token);
        self
    }

    /// Marks every parameter the connector declares secret (`securestring`, …) as secret.
    pub fn with_secrets_from(mut self, connector: &Connector) -> Self {
        let secret = connector.security.all_connection_parameters().filter(|p| p.is_secret());
        self.secret_names.extend(secret.map(|p| p.name.to_ascii_lowercase()));
        self
    }

    /// Marks one parameter as secret.
    pub fn mark_secret(&mut self, name: &str) {
        self.secret_names.insert(name.to_ascii_lowercase());
    }

    /// Whether the parameter's value is a secret (declared, or by its conventional name).
    pub fn is_secret(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        self.secret_names.contains(&lower) || conventional_secret(&lower)
    }

    /// A parameter's value by name (exact, else case-insensitive).
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .get(name)
            .or_else(|| self.values.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
    }

    /// A parameter's value as text (numbers and booleans written out); `None` when missing or empty.
    pub fn text(&self, name: &str) -> Option<String> {
        value_text(self.value(name)?)
    }

    /// Every secret string the connection holds (secret parameter values and tokens), so a
    /// caller can mask them in errors and verbose output.
    pub fn secrets(&self) -> Vec<String> {
        let params = self.values.iter().filter(|(k, _)| self.is_secret(k)).filter_map(|(_, v)| value_text(v));
        let tokens = self
            .token
            .iter()
            .flat_map(|t| std::iter::once(t.access_token.clone()).chain(t.refresh_token.clone()));
        let mut out: Vec<String> = params.chain(tokens).filter(|s| !s.is_empty()).collect();
        out.sort();
        out.dedup();
        out
    }
}

impl fmt::Debug for ConnectionValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Map<String, Value> = self
            .values
            .iter()
            .map(|(k, v)| {
                let shown = if self.is_secret(k) { Value::String(MASK.into()) } else { v.clone() };
                (k.clone(), shown)
            })
            .collect();
        f.debug_struct("ConnectionValues")
            .field("id", &self.id)
            .field("parameter_set", &self.parameter_set)
            .field("values", &Value::Object(values))
            .field("token", &self.token)
            .finish()
    }
}

/// A JSON value as text: strings as they are, numbers and booleans written out; empty is `None`.
pub(crate) fn value_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// Conventional secret parameter names (lower-case input).
fn conventional_secret(lower: &str) -> bool {
    matches!(lower, "password" | "api_key" | "apikey" | "token" | "client_secret" | "clientsecret")
        || lower.contains("password")
        || lower.contains("secret")
}
