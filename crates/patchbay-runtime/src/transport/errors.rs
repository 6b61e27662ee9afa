//! Turning the HTTP client's errors into [`TransportError`].

use super::TransportError;
use super::TransportOptions;
use super::guard::GuardError;
use std::error::Error as StdError;
use url::Url;

/// Maps a client error for a request to `url` onto the transport's error kinds.
pub(super) fn from_reqwest(err: &reqwest::Error, url: &Url, options: &TransportOptions) -> TransportError {
    if let Some(guard) = find_guard_error(err) {
        return TransportError::Forbidden { host: guard.host.clone(), reason: guard.reason.clone() };
    }
    let target = authority(url);
    if err.is_timeout() {
        let limit = if err.is_connect() { options.connect_timeout } else { options.timeout };
        return TransportError::Timeout(limit);
    }
    if err.is_connect() {
        return TransportError::Connect(format!("{target} ({})", root_cause(err)));
    }
    if err.is_request() || err.is_body() {
        return TransportError::Interrupted(format!("{target} ({})", root_cause(err)));
    }
    if err.is_decode() {
        return TransportError::Other(format!("could not decode the response from {target}: {}", chain(err)));
    }
    TransportError::Other(format!("{target}: {}", chain(err)))
}

/// The host and port of a URL, for messages.
pub(super) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The resolver's refusal, when it is what failed the request.
fn find_guard_error(err: &reqwest::Error) -> Option<&GuardError> {
    let mut source: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(current) = source {
        if let Some(guard) = current.downcast_ref::<GuardError>() {
            return Some(guard);
        }
        source = current.source();
    }
    None
}

/// The innermost error's message (e.g. "Connection refused (os error 111)").
fn root_cause(err: &reqwest::Error) -> String {
    let mut current: &(dyn StdError + 'static) = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// Every message in the chain, joined.
fn chain(err: &reqwest::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(current) = source {
        parts.push(current.to_string());
        source = current.source();
    }
    parts.join(": ")
}
