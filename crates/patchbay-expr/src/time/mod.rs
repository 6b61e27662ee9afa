//! Timestamps the way Logic Apps (.NET `DateTime`) sees them: a wall-clock time with 100 ns
//! precision and a kind (UTC, printed with `Z`, or unspecified, printed without a zone).

mod format;
mod parse;
mod zones;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

pub(crate) use format::format;
pub(crate) use parse::{parse_exact, parse_timestamp};
pub(crate) use zones::zone;

/// Whether a timestamp is UTC (`Z`) or has no zone (.NET `DateTimeKind.Unspecified`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// UTC; `o` prints a trailing `Z`.
    Utc,
    /// No zone; `o` prints no designator.
    Unspecified,
}

/// A .NET-style `DateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The wall-clock date and time (truncated to 100 ns).
    pub local: NaiveDateTime,
    /// UTC or unspecified.
    pub kind: Kind,
}

/// Ticks (100 ns) from 0001-01-01T00:00:00 to the Unix epoch.
const EPOCH_TICKS: i64 = 621_355_968_000_000_000;

impl Stamp {
    /// A stamp, truncated to 100 ns.
    pub fn new(local: NaiveDateTime, kind: Kind) -> Self {
        let nanos = local.nanosecond() % 1_000_000_000;
        let local = local.with_nanosecond(nanos - nanos % 100).unwrap_or(local);
        Self { local, kind }
    }

    /// .NET ticks: 100 ns intervals since 0001-01-01T00:00:00.
    pub fn ticks(&self) -> i64 {
        let utc = self.local.and_utc();
        let secs = utc.timestamp();
        EPOCH_TICKS + secs * 10_000_000 + i64::from(utc.timestamp_subsec_nanos() / 100)
    }

    /// Adds a duration (`None` outside the supported range).
    pub fn plus(&self, delta: TimeDelta) -> Option<Stamp> {
        self.local.checked_add_signed(delta).map(|local| Stamp::new(local, self.kind))
    }

    /// The same stamp with a new wall-clock time.
    pub fn with_local(&self, local: NaiveDateTime) -> Stamp {
        Stamp::new(local, self.kind)
    }
}

/// Midnight of `date`.
pub(crate) fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_time(NaiveTime::MIN)
}
