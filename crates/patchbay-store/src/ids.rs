//! Record identifiers, timestamps, randomness and the checks on names shared by the aggregates.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::TryRng;
use rand::rngs::SysRng;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new random identifier.
            #[allow(dead_code, reason = "event and run ids are time-ordered instead")]
            pub(crate) fn random() -> Result<Self> {
                Ok(Self(format!("{}{}", $prefix, hex(&random_bytes::<16>()?))))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// Identifies an environment.
    EnvironmentId,
    "env_"
);
id_type!(
    /// Identifies a user.
    UserId,
    "usr_"
);
id_type!(
    /// Identifies an API token (not the token itself).
    TokenId,
    "tok_"
);
id_type!(
    /// Identifies a custom connector across all of its revisions.
    ConnectorId,
    "ctr_"
);
id_type!(
    /// Identifies a connection.
    ConnectionId,
    "cxn_"
);
id_type!(
    /// Identifies a trigger (a polling schedule or a webhook subscription owner).
    TriggerId,
    "trg_"
);
id_type!(
    /// Identifies a webhook subscription (part of its callback URL).
    SubscriptionId,
    "sub_"
);
id_type!(
    /// Identifies a stored trigger event.
    EventId,
    "evt_"
);

id_type!(
    /// Identifies an on-premises gateway (a cluster of agents sharing one token).
    GatewayId,
    "gw_"
);
id_type!(
    /// Identifies a flow across all of its revisions.
    FlowId,
    "flw_"
);
id_type!(
    /// Identifies a run of a flow.
    RunId,
    "run_"
);

/// Identifiers that sort by creation time (millisecond prefix, then 80 random bits), so that the
/// index on them grows at its end instead of at random places.
macro_rules! ordered_id {
    ($name:ident, $prefix:literal) => {
        impl $name {
            /// A new identifier that sorts after those made in earlier milliseconds.
            pub fn ordered(now_ms: i64) -> Result<Self> {
                let millis = now_ms.clamp(0, (1 << 48) - 1);
                Ok(Self(format!(concat!($prefix, "{:012x}{}"), millis, hex(&random_bytes::<10>()?))))
            }
        }
    };
}
ordered_id!(EventId, "evt_");
ordered_id!(RunId, "run_");

/// Milliseconds since the Unix epoch, the store's one time representation.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `N` bytes from the operating system's random number generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    SysRng.try_fill_bytes(&mut bytes).map_err(|error| StoreError::Random(error.to_string()))?;
    Ok(bytes)
}

/// Lowercase hexadecimal text of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// `value` trimmed, refused when empty, longer than `max` characters or holding control characters.
pub(crate) fn check_name<'a>(field: &'static str, value: &'a str, max: usize) -> Result<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(StoreError::invalid(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(StoreError::invalid(field, "must not contain control characters"));
    }
    Ok(value)
}

/// The key under which names are unique: case-insensitive.
pub(crate) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_distinct() {
        let first = ConnectorId::random().unwrap();
        let second = ConnectorId::random().unwrap();
        assert!(first.as_str().starts_with("ctr_"));
        assert_eq!(first.as_str().len(), 4 + 32);
        assert_ne!(first, second);
    }

    #[test]
    fn event_ids_sort_by_time() {
        let earlier = EventId::ordered(1_700_000_000_000).unwrap();
        let later = EventId::ordered(1_700_000_000_001).unwrap();
        assert!(earlier < later, "{earlier} {later}");
        assert_eq!(earlier.as_str().len(), 4 + 32);
        assert_ne!(EventId::ordered(5).unwrap(), EventId::ordered(5).unwrap());
        assert!(EventId::ordered(-1).unwrap().as_str().starts_with("evt_000000000000"));
        let run = RunId::ordered(1_700_000_000_000).unwrap();
        assert!(run.as_str().starts_with("run_018bcfe56800") && run.as_str().len() == 4 + 32, "{run}");
    }

    #[test]
    fn hex_encodes_every_nibble() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("name", "  Tasks ", 10).unwrap(), "Tasks");
        assert!(check_name("name", "   ", 10).is_err());
        assert!(check_name("name", "a\nb", 10).is_err());
        assert!(check_name("name", "abcdefghijk", 10).is_err());
    }
}
