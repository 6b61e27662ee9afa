//! The asynchronous (202) pattern: a `202 Accepted` with a `Location` means "ask there later".
//!
//! [`classify_async`] turns such an answer into a [`Pending`] value — the status URL and the wait
//! the server asked for — which is plain data: an engine can store it and resume on any node
//! with [`Transport::poll_once`]. [`Transport::poll_until_done`] is the in-process loop.
//!
//! Rules (spec §6.1): a 202 without a valid http(s) `Location` on the *first* answer is final;
//! while polling, a 202 without `Location` keeps the previous status URL (a new `Location`
//! replaces it, resolved against the URL polled). Any non-202 answer is the result, whatever its
//! status. The kept headers (e.g. `Authorization`) go only to status URLs on the origin of the
//! original request; on another origin the poll carries none.

use super::origin::{headers_for, location_header};
use super::retry::{RetryPolicy, parse_retry_after};
use super::{Transport, TransportError};
use crate::wire::{WireRequest, WireResponse};
use http::{HeaderMap, Method, StatusCode};
use std::time::{Duration, Instant, SystemTime};
use url::Url;

/// A long-running operation still in progress: where to ask next, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The status URL (the `Location`, resolved against the URL that answered).
    pub location: Url,
    /// The wait the server asked for (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
}

impl Pending {
    /// The wait before the next poll: the server's, or `default`.
    pub fn wait(&self, default: Duration) -> Duration {
        self.retry_after.unwrap_or(default)
    }
}

/// The outcome of one status poll.
#[derive(Debug, Clone)]
pub enum PollStep {
    /// The operation finished; this (non-202) answer is its result.
    Done(WireResponse),
    /// Still running.
    Pending(Pending),
}

/// Bounds for [`Transport::poll_until_done`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongRunningOptions {
    /// Most status polls before giving up.
    pub max_polls: u32,
    /// Longest total time spent waiting and polling.
    pub max_duration: Duration,
    /// The wait when the server sends no `Retry-After` (spec default: 20 s).
    pub default_interval: Duration,
    /// The retry policy for each status poll (retries happen per HTTP call).
    pub retry: RetryPolicy,
}

impl Default for LongRunningOptions {
    /// 500 polls, one hour, 20 s between polls, the default retry policy.
    fn default() -> Self {
        LongRunningOptions {
            max_polls: 500,
            max_duration: Duration::from_secs(60 * 60),
            default_interval: Duration::from_secs(20),
            retry: RetryPolicy::default(),
        }
    }
}

/// Why polling stopped without a result; each case carries the [`Pending`] state to resume from.
#[derive(Debug, thiserror::Error)]
pub enum LongRunningError {
    /// A status poll failed.
    #[error("polling {} failed: {source}", pending.location)]
    Transport {
        /// The failure.
        source: TransportError,
        /// Where polling stood.
        pending: Pending,
    },
    /// The poll count bound was reached.
    #[error("still running after {polls} status polls")]
    TooManyPolls {
        /// Polls made.
        polls: u32,
        /// Where polling stood.
        pending: Pending,
    },
    /// The duration bound would be exceeded.
    #[error("still running after {elapsed:?} (bound reached)")]
    TimedOut {
        /// Time spent.
        elapsed: Duration,
        /// Where polling stood.
        pending: Pending,
    },
}

/// The pending operation an answer starts, when it is a 202 with a valid http(s) `Location`.
pub fn classify_async(response: &WireResponse, base: &Url) -> Option<Pending> {
    if response.status != StatusCode::ACCEPTED {
        return None;
    }
    let location = location(response, base)?;
    Some(Pending { location, retry_after: parse_retry_after(&response.headers, SystemTime::now()) })
}

/// The `Location` header resolved against `base`, when present and http(s).
fn location(response: &WireResponse, base: &Url) -> Option<Url> {
    location_header(&response.headers, base)
}

/// The step a status answer means: still running (202) or done.
fn step_from(response: WireResponse, polled: &Pending) -> PollStep {
    if response.status != StatusCode::ACCEPTED {
        return PollStep::Done(response);
    }
    let location = location(&response, &polled.location).unwrap_or_else(|| polled.location.clone());
    let retry_after = parse_retry_after(&response.headers, SystemTime::now());
    PollStep::Pending(Pending { location, retry_after })
}

impl Transport {
    /// Polls the status URL once, now (no waiting, no retries), sending `headers` as given.
    pub async fn poll_once(&self, pending: &Pending, headers: HeaderMap) -> Result<PollStep, TransportError> {
        self.poll_with(pending, headers, &RetryPolicy::None).await
    }

    /// One status GET under a retry policy.
    async fn poll_with(
        &self,
        pending: &Pending,
        headers: HeaderMap,
        retry: &RetryPolicy,
    ) -> Result<PollStep, TransportError> {
        let mut request = WireRequest::new(Method::GET, pending.location.clone());
        request.headers = headers;
        let response = self.send_with_retry(request, retry).await?;
        Ok(step_from(response, pending))
    }

    /// Follows a 202 answer to its result: waits (`Retry-After`, or the default interval), GETs the
    /// status URL, and repeats until a non-202 answer, which is returned. An answer that starts
    /// no long-running operation is returned as it is.
    pub async fn poll_until_done(
        &self,
        first: WireResponse,
        request_url: &Url,
        headers_to_keep: HeaderMap,
        bound: &LongRunningOptions,
    ) -> Result<WireResponse, LongRunningError> {
        let Some(mut pending) = classify_async(&first, request_url) else {
            return Ok(first);
        };
        let started = Instant::now();
        let mut polls: u32 = 0;
        loop {
            if polls >= bound.max_polls {
                return Err(LongRunningError::TooManyPolls { polls, pending });
            }
            let wait = pending.wait(bound.default_interval);
            let elapsed = started.elapsed();
            if elapsed.saturating_add(wait) > bound.max_duration {
                return Err(LongRunningError::TimedOut { elapsed, pending });
            }
            tokio::time::sleep(wait).await;
            let remaining = bound.max_duration.saturating_sub(started.elapsed());
            let headers = headers_for(&pending.location, request_url, &headers_to_keep);
            let poll = self.poll_with(&pending, headers, &bound.retry);
            let step = match tokio::time::timeout(remaining, poll).await {
                Err(_) => return Err(LongRunningError::TimedOut { elapsed: started.elapsed(), pending }),
                Ok(Err(source)) => return Err(LongRunningError::Transport { source, pending }),
                Ok(Ok(step)) => step,
            };
            polls += 1;
            match step {
                PollStep::Done(response) => return Ok(response),
                PollStep::Pending(next) => pending = next,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::LOCATION;

    fn answer(code: u16, location: Option<&'static str>, retry_after: Option<&'static str>) -> WireResponse {
        let mut headers = HeaderMap::new();
        if let Some(value) = location {
            headers.insert(LOCATION, HeaderValue::from_static(value));
        }
        if let Some(value) = retry_after {
            headers.insert("retry-after", HeaderValue::from_static(value));
        }
        WireResponse { status: StatusCode::from_u16(code).unwrap(), headers, body: Default::default() }
    }

    #[test]
    fn only_a_202_with_a_valid_location_is_pending() {
        let base = Url::parse("https://api.example/v1/exports?x=1").unwrap();
        let pending = classify_async(&answer(202, Some("status/9"), Some("30")), &base).unwrap();
        assert_eq!(pending.location.as_str(), "https://api.example/v1/status/9");
        assert_eq!(pending.retry_after, Some(Duration::from_secs(30)));
        let absolute = classify_async(&answer(202, Some("https://other.example/s"), None), &base).unwrap();
        assert_eq!(absolute.location.as_str(), "https://other.example/s");
        assert_eq!(absolute.wait(Duration::from_secs(20)), Duration::from_secs(20));
        assert_eq!(classify_async(&answer(202, None, Some("5")), &base), None);
        assert_eq!(classify_async(&answer(202, Some("ftp://x.example/"), None), &base), None);
        assert_eq!(classify_async(&answer(202, Some("http://[bad"), None), &base), None);
        assert_eq!(classify_async(&answer(200, Some("/status/9"), None), &base), None);
        assert_eq!(classify_async(&answer(201, Some("/status/9"), None), &base), None);
    }

    #[test]
    fn a_poll_without_location_keeps_the_status_url() {
        let polled = Pending { location: Url::parse("https://api.example/s/1").unwrap(), retry_after: None };
        let PollStep::Pending(next) = step_from(answer(202, None, Some("2")), &polled) else { panic!() };
        assert_eq!(next.location, polled.location);
        assert_eq!(next.retry_after, Some(Duration::from_secs(2)));
        let PollStep::Pending(moved) = step_from(answer(202, Some("2"), None), &polled) else { panic!() };
        assert_eq!(moved.location.as_str(), "https://api.example/s/2");
        assert!(matches!(step_from(answer(500, None, None), &polled), PollStep::Done(r) if r.status == 500));
    }
}
