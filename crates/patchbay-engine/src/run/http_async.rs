//! The asynchronous (202) pattern of `Http` actions (spec §6.1): an answer `202 Accepted` with an
//! http(s) `Location` means "ask there later". The action parks (durable runs) or waits, then GETs
//! the status URL until an answer other than 202, which is the action's result. A first 202
//! without a usable `Location` is final; while polling, a 202 without one keeps the status URL
//! polled. The wait is the answer's `Retry-After` in seconds, 20 s without one. The action's
//! headers (its credentials included) go only to status URLs on the request's own origin.
//!
//! The pending state stored with the run is `{"kind": "http", "location": <status URL>}`: the
//! headers are taken again from the action's inputs when the poll is made.

use std::time::Duration;

use serde_json::{Map, Value, json};
use url::Url;

use super::{ActionResult, Invocation};

/// The wait when a 202 carries no `Retry-After` in seconds (the documented default).
const DEFAULT_WAIT: Duration = Duration::from_secs(20);

/// What an answer from `answered` (the URL called, `None` when it did not parse) means: pending
/// when it is a 202 with a status URL (`polling`: the URL polled is kept when it names none).
pub(crate) fn classify(result: ActionResult, answered: Option<&Url>, polling: bool) -> Invocation {
    let Some(answered) = answered.filter(|_| result.status_code == 202) else {
        return Invocation::Done(result);
    };
    let named = header(&result.headers, "location")
        .and_then(|location| answered.join(location).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https"));
    let location = match named {
        Some(location) => location,
        None if polling => answered.clone(),
        None => return Invocation::Done(result),
    };
    let wait = header(&result.headers, "retry-after")
        .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        .map_or(DEFAULT_WAIT, Duration::from_secs);
    Invocation::Pending { state: json!({"kind": "http", "location": location.as_str()}), wait }
}

/// The status URL of a pending `Http` action.
pub(crate) fn status_url(state: &Value) -> Result<Url, String> {
    let location = state["location"].as_str().ok_or("the pending `Http` action has no status URL")?;
    Url::parse(location).map_err(|error| format!("the status URL `{location}` is not a URL: {error}"))
}

/// The headers a poll of `status` carries: the action's own on the request's origin, none elsewhere.
pub(crate) fn poll_headers(
    headers: &Map<String, Value>,
    request: Option<&Url>,
    status: &Url,
) -> Map<String, Value> {
    match request {
        Some(request) if request.origin() == status.origin() => headers.clone(),
        _ => Map::new(),
    }
}

/// A header's value (names compare case-insensitively; a list gives its first value).
fn header<'a>(headers: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    let (_, value) = headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name))?;
    match value {
        Value::Array(values) => values.first().and_then(Value::as_str),
        other => other.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status_code: u16, headers: Value) -> ActionResult {
        ActionResult {
            status_code,
            headers: headers.as_object().cloned().unwrap_or_default(),
            body: json!({}),
        }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn a_202_with_a_location_is_pending_with_its_wait() {
        let base = url("https://api.example/v1/exports");
        let pending =
            classify(answer(202, json!({"Location": "/v1/jobs/9", "Retry-After": "3"})), Some(&base), false);
        let Invocation::Pending { state, wait } = pending else { panic!("not pending") };
        assert_eq!(state, json!({"kind": "http", "location": "https://api.example/v1/jobs/9"}));
        assert_eq!(wait, Duration::from_secs(3));
    }

    #[test]
    fn a_first_202_without_a_location_and_every_other_answer_are_final() {
        let base = url("https://api.example/v1/exports");
        assert!(matches!(classify(answer(202, json!({})), Some(&base), false), Invocation::Done(_)));
        assert!(matches!(
            classify(answer(200, json!({"location": "/x"})), Some(&base), false),
            Invocation::Done(_)
        ));
        let ftp = answer(202, json!({"location": "ftp://files.example/x"}));
        assert!(matches!(classify(ftp, Some(&base), false), Invocation::Done(_)));
        assert!(matches!(classify(answer(202, json!({"location": "/x"})), None, false), Invocation::Done(_)));
    }

    #[test]
    fn while_polling_a_202_without_a_location_keeps_the_status_url_and_the_default_wait() {
        let status = url("https://api.example/v1/jobs/9");
        let Invocation::Pending { state, wait } = classify(answer(202, json!({})), Some(&status), true)
        else {
            panic!("not pending");
        };
        assert_eq!((status_url(&state).unwrap(), wait), (status, DEFAULT_WAIT));
    }

    #[test]
    fn credentials_go_only_to_the_requests_origin() {
        let headers = json!({"Authorization": "Bearer x"}).as_object().cloned().unwrap();
        let request = url("https://api.example/v1/exports");
        let same = poll_headers(&headers, Some(&request), &url("https://api.example/jobs/1"));
        let other = poll_headers(&headers, Some(&request), &url("https://status.example/jobs/1"));
        assert_eq!((same.len(), other.len()), (1, 0));
    }
}
