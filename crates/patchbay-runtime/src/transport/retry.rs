//! Retry policies with Logic Apps semantics, and the classifier that decides whether to retry.
//!
//! Three pure pieces — [`classify`] (retry or done), [`parse_retry_after`] (what the server
//! asked for) and [`next_delay`] (how long to wait) — and one loop built on them,
//! [`Transport::send_with_retry`]. A durable engine calls the pure pieces and stores the delay.
//!
//! Retried: 408, 429, every 5xx, and failures to connect, broken connections and timeouts
//! (the classifier does not know whether a timed-out non-idempotent request reached the server;
//! callers that care choose [`RetryPolicy::None`] for it).
//!
//! Delays, for retry number `n` (1-based), as documented for Logic Apps' exponential policy: a
//! uniform random value in `[max(0, min), min(interval, max)]` for `n = 1`, and in
//! `[max(interval·2^(n-2), min), min(interval·2^(n-1), max)]` for `n ≥ 2`. When the minimum
//! exceeds the computed upper bound the wait is the minimum; the maximum bounds everything.
//! A fixed policy waits `interval` each time. A `Retry-After` from the server replaces the
//! computed delay, bounded by the policy's maximum ([`RetryPolicy::maximum_wait`]).

use super::{Transport, TransportError};
use crate::wire::{WireRequest, WireResponse};
use http::HeaderMap;
use http::header::RETRY_AFTER;
use rand::rngs::{SmallRng, SysRng};
use rand::{Rng, RngExt, SeedableRng};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest wait a fixed policy accepts from `Retry-After` (Logic Apps' largest fixed interval).
pub const MAX_FIXED_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// How a failed call is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryPolicy {
    /// Growing random delays (Logic Apps' `exponential`, also its default).
    Exponential {
        /// Retries after the first attempt.
        count: u32,
        /// The base interval.
        interval: Duration,
        /// The shortest wait.
        minimum_interval: Duration,
        /// The longest wait.
        maximum_interval: Duration,
    },
    /// The same delay every time (Logic Apps' `fixed`).
    Fixed {
        /// Retries after the first attempt.
        count: u32,
        /// The delay.
        interval: Duration,
    },
    /// No retries.
    None,
}

impl Default for RetryPolicy {
    /// Logic Apps' default: exponential, 4 retries, interval 7 s, waits between 5 s and 1 h.
    fn default() -> Self {
        RetryPolicy::Exponential {
            count: 4,
            interval: Duration::from_secs(7),
            minimum_interval: Duration::from_secs(5),
            maximum_interval: Duration::from_secs(60 * 60),
        }
    }
}

impl RetryPolicy {
    /// How many retries the policy allows.
    pub fn count(&self) -> u32 {
        match self {
            RetryPolicy::Exponential { count, .. } | RetryPolicy::Fixed { count, .. } => *count,
            RetryPolicy::None => 0,
        }
    }

    /// The longest wait, which also bounds a server's `Retry-After`.
    pub fn maximum_wait(&self) -> Duration {
        match self {
            RetryPolicy::Exponential { maximum_interval, .. } => *maximum_interval,
            RetryPolicy::Fixed { interval, .. } => (*interval).max(MAX_FIXED_WAIT),
            RetryPolicy::None => Duration::ZERO,
        }
    }
}

/// What to do with the outcome of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Keep the outcome: success, or a failure retrying cannot fix.
    Done,
    /// Retry, after the server's `Retry-After` when it gave one.
    RetryAfter(Option<Duration>),
}

/// Classifies an outcome at the current time.
pub fn classify(outcome: &Result<WireResponse, TransportError>) -> Decision {
    classify_at(outcome, SystemTime::now())
}

/// Classifies an outcome, reading an HTTP-date `Retry-After` relative to `now`.
pub fn classify_at(outcome: &Result<WireResponse, TransportError>, now: SystemTime) -> Decision {
    match outcome {
        Ok(response) => {
            let code = response.status.as_u16();
            if code == 408 || code == 429 || (500..=599).contains(&code) {
                Decision::RetryAfter(parse_retry_after(&response.headers, now))
            } else {
                Decision::Done
            }
        }
        Err(TransportError::Connect(_) | TransportError::Timeout(_) | TransportError::Interrupted(_)) => {
            Decision::RetryAfter(None)
        }
        Err(_) => Decision::Done,
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds (fractions tolerated) or an HTTP-date
/// (a date in the past means no wait). `None` when absent or unreadable.
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(text.parse::<u64>().map_or(Duration::MAX, Duration::from_secs));
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds: f64 = text.parse().ok()?;
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait before retry number `attempt` (1 for the first retry), or `None` when the policy
/// allows no more; `retry_after` (from the server) replaces the computed delay, bounded by the
/// policy's maximum.
pub fn next_delay<R: Rng + ?Sized>(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
    rng: &mut R,
) -> Option<Duration> {
    if attempt == 0 || attempt > policy.count() {
        return None;
    }
    if let Some(asked) = retry_after {
        return Some(asked.min(policy.maximum_wait()));
    }
    match policy {
        RetryPolicy::None => None,
        RetryPolicy::Fixed { interval, .. } => Some(*interval),
        RetryPolicy::Exponential { interval, minimum_interval, maximum_interval, .. } => {
            let (low, high) = if attempt == 1 {
                (*minimum_interval, (*interval).min(*maximum_interval))
            } else {
                let low = scaled(*interval, attempt - 2).max(*minimum_interval);
                (low, scaled(*interval, attempt - 1).min(*maximum_interval))
            };
            if low >= high {
                return Some(low.min(*maximum_interval));
            }
            Some(uniform(low, high, rng))
        }
    }
}

/// `interval · 2^exponent`, saturating.
fn scaled(interval: Duration, exponent: u32) -> Duration {
    match 1u32.checked_shl(exponent) {
        Some(factor) => interval.saturating_mul(factor),
        _ if interval.is_zero() => Duration::ZERO,
        _ => Duration::MAX,
    }
}

/// A uniform random duration in `[low, high]`, to the nanosecond (saturating at ~584 years).
fn uniform<R: Rng + ?Sized>(low: Duration, high: Duration, rng: &mut R) -> Duration {
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let (low, high) = (nanos(low), nanos(high));
    Duration::from_nanos(rng.random_range(low..=high.max(low)))
}

/// A fast generator for jitter, seeded by the system (or the clock when that fails).
pub(crate) fn jitter_rng() -> SmallRng {
    SmallRng::try_from_rng(&mut SysRng).unwrap_or_else(|_| {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        SmallRng::seed_from_u64(nanos as u64)
    })
}

impl Transport {
    /// Sends a request, retrying per `policy` on what [`classify`] calls retryable; the last
    /// outcome is returned when retries run out.
    pub async fn send_with_retry(
        &self,
        request: WireRequest,
        policy: &RetryPolicy,
    ) -> Result<WireResponse, TransportError> {
        if matches!(policy, RetryPolicy::None) {
            return self.send(request).await;
        }
        let mut rng = None;
        let mut attempt: u32 = 1;
        loop {
            let outcome = self.send(request.clone()).await;
            let Decision::RetryAfter(asked) = classify(&outcome) else {
                return outcome;
            };
            let Some(wait) = next_delay(policy, attempt, asked, rng.get_or_insert_with(jitter_rng)) else {
                return outcome;
            };
            tokio::time::sleep(wait).await;
            attempt = attempt.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, StatusCode};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn response(code: u16, retry_after: Option<&'static str>) -> Result<WireResponse, TransportError> {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
        }
        let status = StatusCode::from_u16(code).unwrap();
        Ok(WireResponse { status, headers, body: Default::default() })
    }

    #[test]
    fn classifier_retries_408_429_5xx_and_connectivity_only() {
        for code in [408, 429, 500, 502, 503, 504, 599] {
            assert_eq!(classify(&response(code, None)), Decision::RetryAfter(None), "{code}");
        }
        for code in [200, 201, 202, 204, 301, 400, 401, 403, 404, 409, 422] {
            assert_eq!(classify(&response(code, None)), Decision::Done, "{code}");
        }
        assert_eq!(classify(&response(429, Some("3"))), Decision::RetryAfter(Some(secs(3))));
        let retried = [
            TransportError::Connect("x".into()),
            TransportError::Timeout(secs(1)),
            TransportError::Interrupted("x".into()),
        ];
        for err in retried {
            assert_eq!(classify(&Err(err)), Decision::RetryAfter(None));
        }
        let forbidden = TransportError::Forbidden { host: "h".into(), reason: "r".into() };
        for err in [forbidden, TransportError::TooLarge(1), TransportError::Other("x".into())] {
            assert_eq!(classify(&Err(err)), Decision::Done);
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = UNIX_EPOCH + secs(1_700_000_000);
        let headers = |value: &str| {
            let mut map = HeaderMap::new();
            map.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            map
        };
        assert_eq!(parse_retry_after(&headers("120"), now), Some(secs(120)));
        assert_eq!(parse_retry_after(&headers(" 0 "), now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&headers("1.5"), now), Some(Duration::from_millis(1500)));
        let date = httpdate::fmt_http_date(now + secs(90));
        assert_eq!(parse_retry_after(&headers(&date), now), Some(secs(90)));
        let past = httpdate::fmt_http_date(now - secs(90));
        assert_eq!(parse_retry_after(&headers(&past), now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&headers("99999999999999999999999"), now), Some(Duration::MAX));
        for junk in ["", "soon", "-1", "1e3", "..", "NaN"] {
            assert_eq!(parse_retry_after(&headers(junk), now), None, "{junk:?}");
        }
        assert_eq!(parse_retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn default_exponential_delays_follow_the_documented_ranges() {
        let policy = RetryPolicy::default();
        let mut rng = SmallRng::seed_from_u64(7);
        let ranges = [(1, 5, 7), (2, 7, 14), (3, 14, 28), (4, 28, 56)];
        for _ in 0..200 {
            for (attempt, low, high) in ranges {
                let wait = next_delay(&policy, attempt, None, &mut rng).unwrap();
                assert!(wait >= secs(low) && wait <= secs(high), "retry {attempt}: {wait:?}");
            }
        }
        assert_eq!(next_delay(&policy, 5, None, &mut rng), None);
        assert_eq!(next_delay(&policy, 0, None, &mut rng), None);
    }

    #[test]
    fn exponential_bounds_win_over_the_doubling() {
        let policy = RetryPolicy::Exponential {
            count: 90,
            interval: secs(10),
            minimum_interval: secs(30),
            maximum_interval: secs(60),
        };
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(next_delay(&policy, 1, None, &mut rng), Some(secs(30)));
        assert_eq!(next_delay(&policy, 2, None, &mut rng), Some(secs(30)));
        assert_eq!(next_delay(&policy, 20, None, &mut rng), Some(secs(60)));
        assert_eq!(next_delay(&policy, 90, None, &mut rng), Some(secs(60)));
        let inverted = RetryPolicy::Exponential {
            count: 1,
            interval: secs(10),
            minimum_interval: secs(100),
            maximum_interval: secs(50),
        };
        assert_eq!(next_delay(&inverted, 1, None, &mut rng), Some(secs(50)));
    }

    #[test]
    fn fixed_none_and_retry_after() {
        let mut rng = SmallRng::seed_from_u64(3);
        let fixed = RetryPolicy::Fixed { count: 2, interval: secs(5) };
        assert_eq!(next_delay(&fixed, 1, None, &mut rng), Some(secs(5)));
        assert_eq!(next_delay(&fixed, 2, None, &mut rng), Some(secs(5)));
        assert_eq!(next_delay(&fixed, 3, None, &mut rng), None);
        assert_eq!(next_delay(&fixed, 1, Some(secs(1)), &mut rng), Some(secs(1)));
        assert_eq!(next_delay(&fixed, 1, Some(secs(1 << 40)), &mut rng), Some(MAX_FIXED_WAIT));
        assert_eq!(next_delay(&RetryPolicy::None, 1, Some(secs(1)), &mut rng), None);
        let default = RetryPolicy::default();
        assert_eq!(next_delay(&default, 1, Some(Duration::ZERO), &mut rng), Some(Duration::ZERO));
        assert_eq!(next_delay(&default, 4, Some(secs(7200)), &mut rng), Some(secs(3600)));
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let mut rng = SmallRng::seed_from_u64(5);
        let huge = RetryPolicy::Exponential {
            count: u32::MAX,
            interval: Duration::MAX,
            minimum_interval: Duration::ZERO,
            maximum_interval: Duration::MAX,
        };
        for attempt in [1, 2, 33, 64, u32::MAX] {
            assert!(next_delay(&huge, attempt, None, &mut rng).is_some());
        }
        let zero = RetryPolicy::Exponential {
            count: 3,
            interval: Duration::ZERO,
            minimum_interval: Duration::ZERO,
            maximum_interval: Duration::ZERO,
        };
        assert_eq!(next_delay(&zero, 3, None, &mut rng), Some(Duration::ZERO));
    }
}
