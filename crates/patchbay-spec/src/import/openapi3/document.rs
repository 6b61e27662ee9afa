//! `info` → identity; `servers` → backend.

use super::Doc;
use crate::fields::{Ctx, Fields};
use crate::import::common::{LOSS, WRONG_TYPE, child, keep_extensions, names::sanitize_name};
use crate::model::{Backend, Identity, Object};
use serde_json::Value;

/// The identity from `info`: name from the title, title, description, version.
pub(super) fn identity(doc: &Doc, ctx: &mut Ctx) -> Identity {
    let info = doc.root.get("info").cloned().unwrap_or(Value::Null);
    let mut f = Fields::new(info, "/info".into(), ctx);
    let title = f.string("title").unwrap_or_default();
    let mut description = f.string("description");
    if let Some(summary) = f.string("summary") {
        if description.is_none() {
            description = Some(summary);
        } else {
            f.ctx().emit(
                LOSS,
                "/info/summary",
                "`info.summary` has no connector equivalent (the description is kept)",
            );
        }
    }
    let version = f.string("version").unwrap_or_default();
    let mut kept = Object::new();
    for key in ["contact", "termsOfService"] {
        if let Some(v) = f.value(key) {
            kept.insert(key.into(), v);
        }
    }
    if let Some(mut license) = f.value("license") {
        if let Some(map) = license.as_object_mut()
            && map.shift_remove("identifier").is_some()
        {
            f.ctx().emit(LOSS, "/info/license/identifier", "Swagger 2.0 licenses have no SPDX `identifier`");
        }
        kept.insert("license".into(), license);
    }
    let rest = f.finish();
    kept.extend(keep_extensions(rest, "/info", ctx));
    Identity {
        name: sanitize_name(&title),
        title,
        description,
        version,
        info_extra: kept,
        ..Identity::default()
    }
}

/// `x-ms-connector-metadata` as pairs, when every entry has a property name and value.
pub(super) fn metadata(value: &Value) -> Option<Vec<(String, String)>> {
    value
        .as_array()?
        .iter()
        .map(|entry| {
            let name = entry.get("propertyName")?.as_str()?;
            let value = entry.get("propertyValue")?.as_str()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// The backend from `servers[0]`, with server variables fixed to their defaults.
pub(super) fn backend(doc: &Doc, ctx: &mut Ctx) -> Backend {
    let servers = match doc.root.get("servers") {
        None => &[][..],
        Some(Value::Array(list)) => list.as_slice(),
        Some(_) => {
            ctx.emit(WRONG_TYPE, "/servers", "`servers` should be an array; no server was read");
            &[][..]
        }
    };
    let Some(first) = servers.first() else {
        ctx.emit(LOSS, "/servers", "the document names no server: set the connector's host before use");
        return Backend::default();
    };
    for (i, other) in servers.iter().enumerate().skip(1) {
        let url = other.get("url").and_then(Value::as_str).unwrap_or("?");
        let message = format!("a connector has one backend: server `{url}` is not used");
        ctx.emit(LOSS, format!("/servers/{i}"), message);
    }
    let Some(template) = first.get("url").and_then(Value::as_str) else {
        ctx.emit(WRONG_TYPE, "/servers/0/url", "the server has no `url` string");
        return Backend::default();
    };
    let url = substitute_variables(template, first.get("variables"), ctx);
    parse_server_url(&url, ctx)
}

/// Replaces `{name}` with each server variable's default, reporting every variable fixed.
fn substitute_variables(template: &str, variables: Option<&Value>, ctx: &mut Ctx) -> String {
    let mut url = template.to_string();
    for (name, variable) in variables.and_then(Value::as_object).into_iter().flatten() {
        let pointer = child("/servers/0/variables", name);
        let Some(default) = variable.get("default").and_then(Value::as_str) else {
            ctx.emit(
                WRONG_TYPE,
                pointer,
                format!("server variable `{name}` has no default; left in the URL"),
            );
            continue;
        };
        url = url.replace(&format!("{{{name}}}"), default);
        let message = format!("server variable `{name}` is fixed to its default `{default}`");
        ctx.emit(LOSS, pointer, message);
    }
    url
}

/// Splits a server URL into scheme, host and base path.
fn parse_server_url(url: &str, ctx: &mut Ctx) -> Backend {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, url.strip_prefix("//").unwrap_or(url)),
    };
    let relative = scheme.is_none() && !url.starts_with("//");
    let (rest, dropped) = match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], true),
        None => (rest, false),
    };
    if dropped {
        ctx.emit(
            LOSS,
            "/servers/0/url",
            "the query or fragment of the server URL has no connector equivalent",
        );
    }
    let (host, path) = if relative {
        ctx.emit(LOSS, "/servers/0/url", format!("server URL `{url}` is relative: set the connector's host"));
        (None, rest)
    } else {
        match rest.find('/') {
            Some(i) => (Some(rest[..i].to_string()), &rest[i..]),
            None => (Some(rest.to_string()), ""),
        }
    };
    let path = path.trim_end_matches('/');
    let base_path = if path.is_empty() {
        None
    } else if path.starts_with('/') {
        Some(path.to_string())
    } else {
        Some(format!("/{path}"))
    };
    Backend { schemes: scheme.into_iter().collect(), host: host.filter(|h| !h.is_empty()), base_path }
}
