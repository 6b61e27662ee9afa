//! Document structure: host, base path and schemes.

use super::Report;

/// Checks the backend description.
pub fn check(r: &mut Report) {
    let backend = &r.connector.backend;
    if let Some(host) = backend.host.clone() {
        let bad = host.contains("://") || host.contains('/') || host.contains(['{', '}', ' ', '\\']);
        if bad {
            r.definition("PB0304", "/host", format!("host `{host}` is not a bare host name"));
        }
    }
    if let Some(base) = backend.base_path.clone()
        && !base.starts_with('/')
    {
        r.definition("PB0305", "/basePath", format!("basePath `{base}` does not start with `/`"));
    }
    for (i, scheme) in backend.schemes.clone().iter().enumerate() {
        if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https" | "ws" | "wss") {
            r.definition(
                "PB0306",
                format!("/schemes/{i}"),
                format!("scheme `{scheme}` is not http or https"),
            );
        }
    }
}
