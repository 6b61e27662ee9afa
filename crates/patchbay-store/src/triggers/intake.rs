//! Webhook intake: a batch of callbacks checked against their subscriptions and stored as events in
//! one transaction, so that the server can answer many concurrent callbacks with one commit.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use super::Triggers;
use super::events::{EventRow, EventSource, insert_events};
use super::subscriptions::SubscriptionStatus;
use crate::dialect::{Backend, in_tx};
use crate::error::Result;
use crate::ids::{SubscriptionId, now_ms};
use crate::people::token_hash;

/// One webhook callback as the server received it; `Debug` hides the secret.
#[derive(Clone, PartialEq)]
pub struct Notification {
    /// The subscription named in the callback URL.
    pub subscription_id: SubscriptionId,
    /// The secret from the callback URL.
    pub secret: String,
    /// The callback's headers, as a JSON object.
    pub headers: Value,
    /// The callback's body.
    pub body: Value,
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("subscription_id", &self.subscription_id)
            .field("secret", &"<redacted>")
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

/// Whether two hashes are equal, in time that does not depend on where they differ.
fn same_hash(stored: &str, given: &str) -> bool {
    let (stored, given) = (stored.as_bytes(), given.as_bytes());
    if stored.len() != given.len() {
        return false;
    }
    let difference = stored.iter().zip(given).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}

/// Reads the trigger and secret hash of a subscription that accepts callbacks.
const LIVE_SUBSCRIPTION: &str =
    "SELECT trigger_id, secret_hash, status FROM trigger_subscriptions WHERE id = $1";

impl Triggers<'_> {
    /// Stores a batch of webhook callbacks in one transaction. Each one whose subscription exists,
    /// accepts callbacks (pending or active) and whose secret matches becomes a webhook event of the
    /// subscription's trigger: its seq is returned in its place; the others give `None` and store
    /// nothing. Each distinct subscription is read once.
    pub async fn accept_notifications(self, batch: &[Notification]) -> Result<Vec<Option<i64>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        // Hashing and serialising happen before the write lock is taken.
        let mut prepared = batch
            .iter()
            .map(|note| {
                let row =
                    EventRow::new(String::new(), EventSource::Webhook, &note.headers, &note.body, None, now)?;
                Ok((token_hash(&note.secret), Some(row)))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut distinct: Vec<&str> = batch.iter().map(|note| note.subscription_id.as_str()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let pg = self.store.backend() == Backend::Postgres;
        let (positions, seqs) = in_tx!(&self.store.db, tx => {
            let mut live: HashMap<&str, (String, String)> = HashMap::with_capacity(distinct.len());
            for id in &distinct {
                let row: Option<(String, Option<String>, String)> =
                    sqlx::query_as(LIVE_SUBSCRIPTION).bind(*id).fetch_optional(&mut *tx).await?;
                if let Some((trigger, Some(hash), status)) = row
                    && SubscriptionStatus::parse(&status)?.accepts_callbacks()
                {
                    live.insert(*id, (trigger, hash));
                }
            }
            let (mut positions, mut rows) = (Vec::new(), Vec::new());
            for (position, (note, (hash, row))) in batch.iter().zip(prepared.iter_mut()).enumerate() {
                if let Some((trigger, stored)) = live.get(note.subscription_id.as_str())
                    && same_hash(stored, hash)
                    && let Some(mut row) = row.take()
                {
                    row.trigger_id.clone_from(trigger);
                    positions.push(position);
                    rows.push(row);
                }
            }
            (positions, insert_events!(tx, pg, &rows))
        });
        let mut accepted = vec![None; batch.len()];
        for (position, seq) in positions.into_iter().zip(seqs) {
            if let Some(slot) = accepted.get_mut(position) {
                *slot = seq;
            }
        }
        Ok(accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_compare_whole() {
        assert!(same_hash("abcd", "abcd"));
        assert!(!same_hash("abcd", "abce"));
        assert!(!same_hash("abcd", "abc"));
        assert!(!same_hash("", "a"));
    }

    #[test]
    fn debug_hides_the_secret() {
        let note = Notification {
            subscription_id: "sub_1".into(),
            secret: "very-secret-value".into(),
            headers: Value::Null,
            body: Value::Null,
        };
        let shown = format!("{note:?}");
        assert!(!shown.contains("very-secret-value") && shown.contains("sub_1"), "{shown}");
    }
}
