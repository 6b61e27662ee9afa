//! Connection files and base-URL overrides, shared by `connector invoke` and `flow run`.

use anyhow::Context;
use patchbay_runtime::security::{ConnectionValues, TokenSet};
use serde_json::Value;
use std::path::Path;

/// Replaces the package's scheme, host and base path with those of `base`.
pub fn point_at(connector: &mut patchbay_spec::Connector, base: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(base).with_context(|| format!("--base-url `{base}` is not a URL"))?;
    let host = url.host_str().context("--base-url has no host")?;
    connector.backend.host = Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    });
    connector.backend.schemes = vec![url.scheme().to_string()];
    let path = url.path().trim_end_matches('/');
    connector.backend.base_path = (!path.is_empty()).then(|| path.to_string());
    Ok(())
}

/// Reads a connection file (`{"parameterSet", "values", "token"}`); without one, no values.
pub fn read_connection(
    path: Option<&Path>,
    connector: &patchbay_spec::Connector,
    name: &str,
) -> anyhow::Result<ConnectionValues> {
    let mut connection = ConnectionValues::new(name);
    let Some(path) = path else { return Ok(connection.with_secrets_from(connector)) };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    if let Some(set) = doc.get("parameterSet").and_then(Value::as_str) {
        connection = connection.with_parameter_set(set);
    }
    for (k, v) in doc.get("values").and_then(Value::as_object).into_iter().flatten() {
        connection = connection.with_value(k.clone(), v.clone());
    }
    if let Some(token) = doc.get("token").and_then(TokenSet::from_json) {
        connection = connection.with_token(token);
    }
    Ok(connection.with_secrets_from(connector))
}
