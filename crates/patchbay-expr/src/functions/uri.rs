//! URI parsing functions over absolute URIs (`scheme://[user@]host[:port][/path][?query][#fragment]`).

use serde_json::Value;

use super::string_arg;
use crate::error::EvalError;
use crate::scope::Scope;

/// The parts of an absolute URI.
struct Uri<'a> {
    scheme: String,
    host: String,
    port: Option<u16>,
    path: &'a str,
    query: &'a str,
}

fn parse(text: &str) -> Result<Uri<'_>, EvalError> {
    let invalid = || EvalError::invalid(format!("'{text}' is not a valid absolute URI"));
    let (scheme, rest) = text.trim().split_once("://").ok_or_else(invalid)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(invalid());
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.rfind(':') {
        Some(i) if !host_port[i..].contains(']') => {
            let port = host_port[i + 1..].parse::<u16>().map_err(|_| invalid())?;
            (&host_port[..i], Some(port))
        }
        _ => (host_port, None),
    };
    if host.is_empty() {
        return Err(invalid());
    }
    let (path, query) = match tail.find('?') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    Ok(Uri { scheme: scheme.to_ascii_lowercase(), host: host.to_ascii_lowercase(), port, path, query })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

fn uri_arg(args: &[Value]) -> Result<Uri<'_>, EvalError> {
    parse(string_arg(args, 0)?)
}

pub(super) fn host(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(uri_arg(args)?.host))
}

pub(super) fn path(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let uri = uri_arg(args)?;
    Ok(Value::from(if uri.path.is_empty() { "/" } else { uri.path }))
}

pub(super) fn path_and_query(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let uri = uri_arg(args)?;
    let path = if uri.path.is_empty() { "/" } else { uri.path };
    Ok(Value::String(format!("{path}{}", uri.query)))
}

pub(super) fn port(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let uri = uri_arg(args)?;
    Ok(uri.port.or_else(|| default_port(&uri.scheme)).map_or(Value::from(-1), Value::from))
}

pub(super) fn query(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::from(uri_arg(args)?.query))
}

pub(super) fn scheme(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::String(uri_arg(args)?.scheme))
}
