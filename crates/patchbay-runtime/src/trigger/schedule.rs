//! When to poll next, from the last answer (the scheduling table of spec §5.2.1).

use std::time::Duration;

/// The operator's default floor between two polls of one trigger.
pub const DEFAULT_MINIMUM_DELAY: Duration = Duration::from_secs(1);

/// The wait before the next poll, never below `minimum`:
///
/// | status | `Retry-After` | next poll |
/// |--------|---------------|-----------|
/// | 200    | none          | the recurrence |
/// | 200    | given         | that wait, even when shorter than the recurrence (draining a backlog) |
/// | 202    | none          | the recurrence |
/// | 202    | given         | the longer of the recurrence and that wait |
/// | other  | any           | the recurrence (the retry policy already ran inside the poll) |
pub fn next_poll_delay(
    status: u16,
    retry_after: Option<Duration>,
    recurrence: Duration,
    minimum: Duration,
) -> Duration {
    let wait = match (status, retry_after) {
        (200, Some(asked)) => asked,
        (202, Some(asked)) => asked.max(recurrence),
        _ => recurrence,
    };
    wait.max(minimum)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_rows_of_the_scheduling_table() {
        let min = DEFAULT_MINIMUM_DELAY;
        assert_eq!(next_poll_delay(200, None, S(60), min), S(60));
        assert_eq!(next_poll_delay(200, Some(S(10)), S(60), min), S(10));
        assert_eq!(next_poll_delay(200, Some(S(120)), S(60), min), S(120));
        assert_eq!(next_poll_delay(202, Some(S(60)), S(30), min), S(60));
        assert_eq!(next_poll_delay(202, Some(S(60)), S(300), min), S(300));
        assert_eq!(next_poll_delay(202, None, S(30), min), S(30));
        assert_eq!(next_poll_delay(500, None, S(30), min), S(30));
        assert_eq!(next_poll_delay(429, Some(S(5)), S(30), min), S(30));
    }

    #[test]
    fn never_below_the_minimum() {
        assert_eq!(next_poll_delay(200, Some(S(0)), S(60), S(1)), S(1));
        assert_eq!(next_poll_delay(202, None, Duration::ZERO, S(2)), S(2));
        assert_eq!(next_poll_delay(500, None, Duration::from_millis(10), S(1)), S(1));
    }
}
