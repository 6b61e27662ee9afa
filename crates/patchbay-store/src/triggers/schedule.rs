//! The polling schedule: due times and time-bound leases in the `triggers` rows. A node claims due
//! triggers (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so nodes never wait on or share a row; SQLite:
//! the one write lock), polls them, and completes each poll in one transaction that advances the
//! state and stores the events. Every claim increments the trigger's fencing token; a completion
//! whose token has moved on (its lease ran out and another node claimed the trigger) is refused.

use serde_json::Value;

use super::events::{EventRow, Stored, insert_events};
use super::{NewEvent, Trigger, TriggerKind, Triggers, state_text, trigger_columns, trigger_from};
use crate::dialect::{Backend, Cols, in_tx, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{TriggerId, now_ms};
use crate::leases::lease_terms;

/// The most triggers one call of [`Triggers::claim_due`] claims.
pub const MAX_CLAIM: i64 = 1000;

/// A node's claim on one poll of a trigger, valid until `until_ms` (or until renewed).
#[derive(Debug, Clone, PartialEq)]
pub struct PollLease {
    /// The trigger as it was claimed (its state is the one to poll from).
    pub trigger: Trigger,
    /// The fencing token: the completion must present it.
    pub token: i64,
    /// The node that holds the lease.
    pub node: String,
    /// When the lease runs out (epoch ms).
    pub until_ms: i64,
}

/// The outcome of a poll, to store with [`Triggers::complete_poll`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollDone {
    /// The new polling state (`Null` to start over next time).
    pub state: Value,
    /// When to poll next; kept only while the trigger is enabled.
    pub next_due_ms: Option<i64>,
    /// The outcome in a word (e.g. `fired`, `nothing_new`, `failed`), shown to people.
    pub status: String,
    /// The error, when the poll failed.
    pub error: Option<String>,
    /// The events the poll produced.
    pub events: Vec<NewEvent>,
}

/// The claim of up to `$4` due triggers for node `$1` until `$2` at time `$3`, oldest due first;
/// `$lock` is the row-locking clause of the engine.
macro_rules! claim_due_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE triggers SET lease_owner = $1, lease_until_ms = $2, lease_token = lease_token + 1 \
             WHERE id IN (SELECT id FROM triggers WHERE enabled AND kind = 'polling' AND next_due_ms <= $3 \
             AND (lease_until_ms IS NULL OR lease_until_ms < $3) ORDER BY next_due_ms, id LIMIT $4",
            $lock,
            ") RETURNING ",
            trigger_columns!()
        )
    };
}

/// Maps a claimed row to a lease.
fn lease_from(row: &impl Cols, node: &str, until_ms: i64) -> Result<PollLease> {
    Ok(PollLease {
        trigger: trigger_from(row)?,
        token: row.int("lease_token")?,
        node: node.to_owned(),
        until_ms,
    })
}

impl Triggers<'_> {
    /// Claims up to `limit` (at most [`MAX_CLAIM`]) enabled polling triggers that are due at `now_ms`
    /// and not leased, oldest due first, for `node` for `lease_ms`.
    pub async fn claim_due(
        self,
        node: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<PollLease>> {
        let (node, until) = lease_terms(node, now_ms, lease_ms)?;
        let limit = limit.min(MAX_CLAIM);
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let sql = match self.store.backend() {
            Backend::Sqlite => claim_due_sql!(""),
            Backend::Postgres => claim_due_sql!(" FOR UPDATE SKIP LOCKED"),
        };
        let mut leases = in_tx!(&self.store.db, tx => {
            let rows = sqlx::query(sql)
                .bind(node)
                .bind(until)
                .bind(now_ms)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            rows.iter().map(|row| lease_from(row, node, until)).collect::<Result<Vec<_>>>()?
        });
        leases.sort_by(|a, b| {
            (a.trigger.next_due_ms, &a.trigger.id).cmp(&(b.trigger.next_due_ms, &b.trigger.id))
        });
        Ok(leases)
    }

    /// Claims one polling trigger now, due or not, enabled or not ("poll now"); `None` when another
    /// live lease holds it.
    pub async fn claim_one(
        self,
        id: &TriggerId,
        node: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<PollLease>> {
        let (node, until) = lease_terms(node, now_ms, lease_ms)?;
        let (claimed, kind) = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!(
                "UPDATE triggers SET lease_owner = $2, lease_until_ms = $3, lease_token = lease_token + 1 \
                 WHERE id = $1 AND kind = 'polling' AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
                 RETURNING ",
                trigger_columns!()
            ))
            .bind(id.as_str())
            .bind(node)
            .bind(until)
            .bind(now_ms)
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => (Some(lease_from(&row, node, until)?), None),
                None => {
                    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM triggers WHERE id = $1")
                        .bind(id.as_str())
                        .fetch_optional(pool)
                        .await?;
                    (None, Some(kind.ok_or_else(|| StoreError::not_found("trigger", id))?))
                }
            }
        });
        if kind.as_deref() == Some(TriggerKind::Webhook.as_str()) {
            return Err(StoreError::invalid(
                "trigger",
                format!("`{id}` is a webhook trigger; only polling triggers are polled"),
            ));
        }
        Ok(claimed)
    }

    /// Stores a poll's outcome in one transaction: the new state, next due time (only while the
    /// trigger is enabled) and last status, the lease released, and the events (those whose dedup
    /// key is already stored are skipped). [`StoreError::LeaseLost`], with nothing written, when
    /// the lease's token is no longer the trigger's.
    pub async fn complete_poll(self, lease: &PollLease, done: &PollDone) -> Result<Stored> {
        let id = &lease.trigger.id;
        let state = state_text(&done.state)?;
        let now = now_ms();
        let rows = done
            .events
            .iter()
            .map(|event| {
                let trigger = id.as_str().to_owned();
                EventRow::new(
                    trigger,
                    event.source,
                    &event.headers,
                    &event.body,
                    event.dedup_key.as_deref(),
                    now,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let pg = self.store.backend() == Backend::Postgres && !rows.is_empty();
        let outcomes = in_tx!(&self.store.db, tx => {
            let updated = sqlx::query(
                "UPDATE triggers SET state = $3, next_due_ms = CASE WHEN enabled THEN $4 ELSE NULL END, \
                 last_poll_ms = $5, last_status = $6, last_error = $7, lease_owner = NULL, lease_until_ms = NULL, \
                 updated_ms = $5 WHERE id = $1 AND lease_token = $2",
            )
            .bind(id.as_str())
            .bind(lease.token)
            .bind(state.as_deref())
            .bind(done.next_due_ms)
            .bind(now)
            .bind(done.status.as_str())
            .bind(done.error.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::LeaseLost { id: id.to_string() });
            }
            insert_events!(tx, pg, &rows)
        });
        Ok(Stored::from_outcomes(&outcomes))
    }

    /// Extends a lease to `until_ms`; [`StoreError::LeaseLost`] when its token has moved on.
    pub async fn renew(self, lease: &PollLease, until_ms: i64) -> Result<()> {
        let updated = on_db!(&self.store.db, pool => {
            sqlx::query("UPDATE triggers SET lease_owner = $3, lease_until_ms = $4 WHERE id = $1 AND lease_token = $2")
                .bind(lease.trigger.id.as_str())
                .bind(lease.token)
                .bind(lease.node.as_str())
                .bind(until_ms)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 { Err(StoreError::LeaseLost { id: lease.trigger.id.to_string() }) } else { Ok(()) }
    }

    /// When the scheduler should look again: the earliest time an enabled polling trigger becomes
    /// claimable (its due time, or just after its lease runs out when it is leased), if any.
    pub async fn earliest_due(self) -> Result<Option<i64>> {
        on_db!(&self.store.db, pool => {
            Ok(sqlx::query_scalar(
                "SELECT MIN(CASE WHEN lease_until_ms IS NOT NULL AND lease_until_ms >= next_due_ms \
                 THEN lease_until_ms + 1 ELSE next_due_ms END) FROM triggers \
                 WHERE enabled AND kind = 'polling' AND next_due_ms IS NOT NULL",
            )
            .fetch_one(pool)
            .await?)
        })
    }
}
