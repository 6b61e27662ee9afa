//! Reconnection delays: exponential from half a second up to 30 s, with jitter so that many
//! agents cut off together do not come back together.

use rand::TryRng;
use rand::rngs::SysRng;
use std::time::Duration;

/// The first delay.
const FIRST: Duration = Duration::from_millis(500);
/// The longest delay.
const MAX: Duration = Duration::from_secs(30);

/// The delay before reconnection attempt `attempt` (0 for the first): a random point in the
/// upper half of `min(FIRST * 2^attempt, MAX)`.
pub fn delay(attempt: u32) -> Duration {
    let ceiling = FIRST.saturating_mul(1u32 << attempt.min(16)).min(MAX);
    let mut byte = [0u8; 1];
    let fraction = match SysRng.try_fill_bytes(&mut byte) {
        Ok(()) => f64::from(byte[0]) / 255.0,
        Err(_) => 0.5,
    };
    ceiling.mul_f64(0.5 + fraction / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_bounded() {
        for attempt in 0..40 {
            let ceiling = FIRST.saturating_mul(1u32 << attempt.min(16)).min(MAX);
            let delay = delay(attempt);
            assert!(delay >= ceiling / 2 && delay <= ceiling, "{attempt}: {delay:?}");
        }
        assert!(delay(0) <= FIRST);
        assert!(delay(30) >= MAX / 2);
    }
}
