//! ISO 8601 durations (`PT1H`, `P1DT2H30M`, `PT0.5S`), as `limit.timeout` and retry intervals use.

use std::time::Duration;

/// Parses an ISO 8601 duration; years and months count as 365 and 30 days.
pub fn parse(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix(['P', 'p'])?;
    let mut seconds = 0f64;
    let mut in_time = false;
    let mut number = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            'T' | 't' if number.is_empty() && !in_time => in_time = true,
            '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
            unit => {
                let n: f64 = number.parse().ok()?;
                number.clear();
                let factor = match (in_time, unit.to_ascii_uppercase()) {
                    (false, 'Y') => 365.0 * 86400.0,
                    (false, 'M') => 30.0 * 86400.0,
                    (false, 'W') => 7.0 * 86400.0,
                    (false, 'D') => 86400.0,
                    (true, 'H') => 3600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return None,
                };
                seconds += n * factor;
                any = true;
            }
        }
    }
    (any && number.is_empty() && seconds.is_finite()).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("PT1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse("P1DT2H30M"), Some(Duration::from_secs(86400 + 9000)));
        assert_eq!(parse("PT0.5S"), Some(Duration::from_millis(500)));
        assert_eq!(parse("PT"), None);
        assert_eq!(parse("1H"), None);
        assert_eq!(parse("PT5X"), None);
    }
}
