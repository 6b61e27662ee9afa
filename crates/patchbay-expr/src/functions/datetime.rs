//! Date and time functions. Results are strings in the .NET round-trip format `o`
//! (`2018-03-25T00:00:00.0000000Z`) unless a format is given; inputs with an offset are converted to
//! UTC; inputs without a zone stay zone-less (and print without `Z`).

use chrono::{Datelike, Months, TimeDelta, TimeZone, Timelike, Utc};
use serde_json::Value;

use super::{int_arg, number_arg, opt_string_arg, string_arg};
use crate::error::{EvalError, EvalErrorKind};
use crate::scope::Scope;
use crate::time::{self, Kind, Stamp, midnight};
use crate::value::Num;

/// Argument `i` as a timestamp.
fn stamp_arg(args: &[Value], i: usize) -> Result<Stamp, EvalError> {
    let text = string_arg(args, i)?;
    time::parse_timestamp(text).ok_or_else(|| {
        EvalError::invalid(format!(
            "the value provided for date time string '{text}' was not valid. The datetime string must match \
             ISO 8601 format"
        ))
    })
}

/// Formats a result with the optional format argument `i` (default `o`).
fn output(stamp: Stamp, args: &[Value], i: usize) -> Result<Value, EvalError> {
    let format = opt_string_arg(args, i)?.unwrap_or("o");
    time::format(&stamp, if format.is_empty() { "o" } else { format }).map(Value::String)
}

fn range_error() -> EvalError {
    EvalError::new(EvalErrorKind::Arithmetic, "the resulting date is outside the supported range")
}

/// The current time as a UTC stamp.
fn now(scope: &dyn Scope) -> Stamp {
    Stamp::new(scope.now().naive_utc(), Kind::Utc)
}

/// Adds `amount` (integer or fractional) of a fixed-length unit given in nanoseconds.
fn add_fixed(stamp: Stamp, amount: Num, unit_nanos: i64) -> Result<Stamp, EvalError> {
    let delta = match amount {
        Num::Int(n) => n.checked_mul(unit_nanos).map(TimeDelta::nanoseconds),
        Num::Float(f) => {
            let nanos = (f * unit_nanos as f64 / 100.0).round() * 100.0;
            (nanos.abs() < 9.2e18).then(|| TimeDelta::nanoseconds(nanos as i64))
        }
    };
    delta.and_then(|d| stamp.plus(d)).ok_or_else(range_error)
}

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn add_unit(args: &[Value], unit_nanos: i64) -> Result<Value, EvalError> {
    let stamp = add_fixed(stamp_arg(args, 0)?, number_arg(args, 1)?, unit_nanos)?;
    output(stamp, args, 2)
}

pub(super) fn add_days(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    add_unit(args, DAY)
}

pub(super) fn add_hours(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    add_unit(args, HOUR)
}

pub(super) fn add_minutes(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    add_unit(args, MINUTE)
}

pub(super) fn add_seconds(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    add_unit(args, SECOND)
}

/// Adds `interval` of the named unit (`Second` … `Year`, singular or plural, any case).
fn add_interval(stamp: Stamp, interval: i64, unit: &str) -> Result<Stamp, EvalError> {
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.strip_suffix('s').unwrap_or(&unit);
    let fixed = match unit {
        "second" => Some(SECOND),
        "minute" => Some(MINUTE),
        "hour" => Some(HOUR),
        "day" => Some(DAY),
        "week" => Some(7 * DAY),
        _ => None,
    };
    if let Some(nanos) = fixed {
        return add_fixed(stamp, Num::Int(interval), nanos);
    }
    let months = match unit {
        "month" => interval,
        "year" => interval.checked_mul(12).ok_or_else(range_error)?,
        _ => {
            return Err(EvalError::invalid(format!(
                "the time unit '{unit}' is not valid: use Second, Minute, Hour, Day, Week, Month or Year"
            )));
        }
    };
    let magnitude = Months::new(u32::try_from(months.unsigned_abs()).map_err(|_| range_error())?);
    let local = if months >= 0 {
        stamp.local.checked_add_months(magnitude)
    } else {
        stamp.local.checked_sub_months(magnitude)
    };
    local.map(|l| stamp.with_local(l)).ok_or_else(range_error)
}

pub(super) fn add_to_time(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = add_interval(stamp_arg(args, 0)?, int_arg(args, 1)?, string_arg(args, 2)?)?;
    output(stamp, args, 3)
}

pub(super) fn subtract_from_time(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let interval = int_arg(args, 1)?.checked_neg().ok_or_else(range_error)?;
    let stamp = add_interval(stamp_arg(args, 0)?, interval, string_arg(args, 2)?)?;
    output(stamp, args, 3)
}

pub(super) fn get_future_time(scope: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = add_interval(now(scope), int_arg(args, 0)?, string_arg(args, 1)?)?;
    output(stamp, args, 2)
}

pub(super) fn get_past_time(scope: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let interval = int_arg(args, 0)?.checked_neg().ok_or_else(range_error)?;
    let stamp = add_interval(now(scope), interval, string_arg(args, 1)?)?;
    output(stamp, args, 2)
}

pub(super) fn utc_now(scope: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    output(now(scope), args, 0)
}

pub(super) fn start_of_day(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = stamp_arg(args, 0)?;
    output(stamp.with_local(midnight(stamp.local.date())), args, 1)
}

pub(super) fn start_of_hour(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = stamp_arg(args, 0)?;
    let local = midnight(stamp.local.date()) + TimeDelta::hours(i64::from(stamp.local.hour()));
    output(stamp.with_local(local), args, 1)
}

pub(super) fn start_of_month(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = stamp_arg(args, 0)?;
    let first = stamp.local.date().with_day(1).ok_or_else(range_error)?;
    output(stamp.with_local(midnight(first)), args, 1)
}

pub(super) fn day_of_month(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::from(stamp_arg(args, 0)?.local.day()))
}

pub(super) fn day_of_week(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::from(stamp_arg(args, 0)?.local.weekday().num_days_from_sunday()))
}

pub(super) fn day_of_year(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::from(stamp_arg(args, 0)?.local.ordinal()))
}

pub(super) fn ticks(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    Ok(Value::from(stamp_arg(args, 0)?.ticks()))
}

/// Checks a locale argument: only English (United States) names and patterns are available.
fn check_locale(locale: Option<&str>) -> Result<(), EvalError> {
    match locale {
        None => Ok(()),
        Some(l) if l.is_empty() || l.eq_ignore_ascii_case("en-us") => Ok(()),
        Some(l) => Err(EvalError::new(
            EvalErrorKind::NotImplemented,
            format!("date and time formatting for the locale '{l}' is not supported yet"),
        )),
    }
}

pub(super) fn format_date_time(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = stamp_arg(args, 0)?;
    check_locale(opt_string_arg(args, 2)?)?;
    output(stamp, args, 1)
}

/// Cultures that write dates day first (`dd/MM/yyyy`).
const DAY_FIRST: &[&str] =
    &["en-gb", "en-au", "en-nz", "en-in", "fr", "de", "es", "it", "nl", "pt", "ru", "pl"];

pub(super) fn parse_date_time(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let text = string_arg(args, 0)?;
    let locale = opt_string_arg(args, 1)?.unwrap_or("en-us").to_ascii_lowercase();
    let parsed = match opt_string_arg(args, 2)? {
        Some(format) => time::parse_exact(text, format),
        None if DAY_FIRST.iter().any(|p| locale == *p || locale.starts_with(&format!("{p}-"))) => {
            ["d/M/yyyy H:mm:ss", "d/M/yyyy H:mm", "d/M/yyyy", "d.M.yyyy H:mm:ss", "d.M.yyyy", "d-M-yyyy"]
                .iter()
                .find_map(|f| time::parse_exact(text, f))
                .or_else(|| time::parse_timestamp(text))
        }
        None => time::parse_timestamp(text),
    };
    let stamp =
        parsed.ok_or_else(|| EvalError::invalid(format!("could not parse '{text}' as a date and time")))?;
    output(stamp, &[], 0)
}

pub(super) fn date_difference(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let (start, end) = (stamp_arg(args, 0)?, stamp_arg(args, 1)?);
    let ticks = end.ticks() - start.ticks();
    let sign = if ticks < 0 { "-" } else { "" };
    let ticks = ticks.unsigned_abs();
    let (days, rest) = (ticks / 864_000_000_000, ticks % 864_000_000_000);
    let (hours, rest) = (rest / 36_000_000_000, rest % 36_000_000_000);
    let (minutes, rest) = (rest / 600_000_000, rest % 600_000_000);
    let (seconds, fraction) = (rest / 10_000_000, rest % 10_000_000);
    let mut text = String::from(sign);
    if days > 0 {
        text.push_str(&format!("{days}."));
    }
    text.push_str(&format!("{hours:02}:{minutes:02}:{seconds:02}"));
    if fraction > 0 {
        text.push_str(&format!(".{fraction:07}"));
    }
    Ok(Value::String(text))
}

/// The zone named by argument `i`.
fn zone_arg(args: &[Value], i: usize) -> Result<chrono_tz::Tz, EvalError> {
    let name = string_arg(args, i)?;
    time::zone(name).ok_or_else(|| {
        EvalError::new(EvalErrorKind::NotImplemented, format!("the time zone '{name}' is not known"))
    })
}

/// Reads the wall-clock time of `stamp` in `from` and returns the wall-clock time in `to`.
fn convert(stamp: Stamp, from: chrono_tz::Tz, to: chrono_tz::Tz) -> Result<Stamp, EvalError> {
    let instant = from.from_local_datetime(&stamp.local).earliest().ok_or_else(|| {
        EvalError::invalid(format!(
            "the time {} does not exist in the time zone '{}'",
            stamp.local,
            from.name()
        ))
    })?;
    let kind =
        if to == chrono_tz::Tz::UTC || to == chrono_tz::Tz::Etc__UTC { Kind::Utc } else { Kind::Unspecified };
    let local = instant.with_timezone(&Utc).with_timezone(&to).naive_local();
    Ok(Stamp::new(local, kind))
}

pub(super) fn convert_time_zone(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = convert(stamp_arg(args, 0)?, zone_arg(args, 1)?, zone_arg(args, 2)?)?;
    output(stamp, args, 3)
}

pub(super) fn convert_from_utc(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = convert(stamp_arg(args, 0)?, chrono_tz::Tz::UTC, zone_arg(args, 1)?)?;
    output(stamp, args, 2)
}

pub(super) fn convert_to_utc(_: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
    let stamp = convert(stamp_arg(args, 0)?, zone_arg(args, 1)?, chrono_tz::Tz::UTC)?;
    output(stamp, args, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn midnight_is_the_start_of_the_date() {
        let date = NaiveDate::from_ymd_opt(2020, 2, 29).unwrap_or_default();
        assert_eq!(midnight(date).hour(), 0);
    }
}
