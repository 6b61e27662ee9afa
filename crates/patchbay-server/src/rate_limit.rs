//! The per-connection rate limit of the invoke API (Power Platform's default: 500 calls a minute):
//! a token bucket per connection; a call that finds the bucket empty waits briefly in line, and is
//! answered 429 with `Retry-After` when its turn is further away than that.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a call may wait in line before it is refused.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Token buckets by connection.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    /// Calls available now; negative when calls are waiting in line.
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// A limiter of `per_minute` calls per connection; 0 turns it off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter { per_minute, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a slot for a call on `key`, waiting up to `max_wait` in line; `Err(retry_after)` when
    /// the next free slot is further away.
    pub async fn acquire(&self, key: &str, max_wait: Duration) -> Result<(), Duration> {
        let wait = self.reserve(key, max_wait, Instant::now())?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// Reserves a slot at `now` and says how long to wait for it.
    fn reserve(&self, key: &str, max_wait: Duration, now: Instant) -> Result<Duration, Duration> {
        if self.per_minute == 0 {
            return Ok(Duration::ZERO);
        }
        let capacity = f64::from(self.per_minute);
        let rate = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket { tokens: capacity, updated: now });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        let wait = if bucket.tokens >= 1.0 { 0.0 } else { (1.0 - bucket.tokens) / rate };
        let wait = Duration::from_secs_f64(wait);
        if wait > max_wait {
            return Err(wait);
        }
        bucket.tokens -= 1.0;
        Ok(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_the_limit_waits_then_is_refused() {
        let limiter = RateLimiter::new(60); // one call a second
        let now = Instant::now();
        for _ in 0..60 {
            assert_eq!(limiter.reserve("c", Duration::from_secs(2), now), Ok(Duration::ZERO));
        }
        // The next two wait in line (1 s, then 2 s); the one after is refused with its wait.
        assert_eq!(limiter.reserve("c", Duration::from_secs(2), now), Ok(Duration::from_secs(1)));
        assert_eq!(limiter.reserve("c", Duration::from_secs(2), now), Ok(Duration::from_secs(2)));
        let refused = limiter.reserve("c", Duration::from_secs(2), now).unwrap_err();
        assert_eq!(refused, Duration::from_secs(3));
        // Another connection has its own bucket; time refills this one.
        assert_eq!(limiter.reserve("d", Duration::ZERO, now), Ok(Duration::ZERO));
        let later = now + Duration::from_secs(10);
        assert_eq!(limiter.reserve("c", Duration::from_secs(2), later), Ok(Duration::ZERO));
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..10_000 {
            assert_eq!(limiter.reserve("c", Duration::ZERO, Instant::now()), Ok(Duration::ZERO));
        }
    }
}
