//! Trigger events → runs: each event of a flow's trigger becomes exactly one queued run. The flow's
//! event cursor (the last seq consumed) advances in the transaction that queues the runs, under the
//! flow row's lock on PostgreSQL and the write lock on SQLite, so that neither a crash nor two
//! consumers at once lose an event or make two runs of it; a unique `(flow, event seq)` guards it
//! as well.

use super::Flows;
use super::runs::{Run, run_columns, run_from};
use crate::dialect::{Backend, in_tx, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{FlowId, RunId, now_ms};

/// The most events one call of [`Flows::enqueue_from_events`] turns into runs.
pub const MAX_EVENTS_PER_CALL: i64 = 1000;

/// The flow's state that decides what to consume; `$lock` is the engine's row-locking clause.
macro_rules! flow_cursor_sql {
    ($lock:literal) => {
        concat!("SELECT enabled, trigger_id, event_cursor, revision FROM flows WHERE id = $1", $lock)
    };
}

/// Queues the run of one event (skipped if that event already made a run of this flow).
const INSERT_EVENT_RUN: &str = concat!(
    "INSERT INTO runs (id, flow_id, revision, status, trigger_outputs, event_seq, created_ms) \
     VALUES ($1, $2, $3, 'Queued', $4, $5, $6) ON CONFLICT (flow_id, event_seq) DO NOTHING RETURNING ",
    run_columns!()
);

impl Flows<'_> {
    /// Turns the flow's trigger events after its cursor, oldest first and at most `limit` (capped
    /// at [`MAX_EVENTS_PER_CALL`]), into queued runs of its current revision (trigger outputs
    /// `{"headers", "body"}` of the event, `event_seq` its seq) and advances the cursor, all in one
    /// transaction. A disabled flow, or one without a trigger, queues nothing.
    pub async fn enqueue_from_events(self, flow: &FlowId, limit: i64) -> Result<Vec<Run>> {
        let limit = limit.min(MAX_EVENTS_PER_CALL);
        let sql = match self.store.backend() {
            Backend::Sqlite => flow_cursor_sql!(""),
            Backend::Postgres => flow_cursor_sql!(" FOR NO KEY UPDATE"),
        };
        let now = now_ms();
        let runs = in_tx!(&self.store.db, tx => {
            let state: Option<(bool, Option<String>, i64, i64)> =
                sqlx::query_as(sql).bind(flow.as_str()).fetch_optional(&mut *tx).await?;
            let Some((enabled, trigger, cursor, revision)) = state else {
                return Err(StoreError::not_found("flow", flow));
            };
            let trigger = match trigger {
                Some(trigger) if enabled && limit > 0 => trigger,
                _ => return Ok(Vec::new()),
            };
            let events: Vec<(i64, String, String)> = sqlx::query_as(
                "SELECT seq, headers, body FROM trigger_events WHERE trigger_id = $1 AND seq > $2 \
                 ORDER BY seq LIMIT $3",
            )
            .bind(&trigger)
            .bind(cursor)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let mut runs = Vec::with_capacity(events.len());
            for (seq, headers, body) in &events {
                // Both are JSON texts the store wrote.
                let outputs = format!("{{\"headers\":{headers},\"body\":{body}}}");
                let row = sqlx::query(INSERT_EVENT_RUN)
                    .bind(RunId::ordered(now)?.as_str())
                    .bind(flow.as_str())
                    .bind(revision)
                    .bind(&outputs)
                    .bind(*seq)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = row {
                    runs.push(run_from(&row)?);
                }
            }
            if let Some((last, ..)) = events.last() {
                sqlx::query("UPDATE flows SET event_cursor = $2 WHERE id = $1")
                    .bind(flow.as_str())
                    .bind(*last)
                    .execute(&mut *tx)
                    .await?;
            }
            runs
        });
        Ok(runs)
    }

    /// The enabled flows whose trigger has events after their cursor, for the consumer loop.
    pub async fn flows_with_pending_events(self) -> Result<Vec<FlowId>> {
        let ids: Vec<String> = on_db!(&self.store.db, pool => {
            sqlx::query_scalar(
                "SELECT f.id FROM flows f WHERE f.enabled AND f.trigger_id IS NOT NULL AND EXISTS \
                 (SELECT 1 FROM trigger_events e WHERE e.trigger_id = f.trigger_id AND e.seq > f.event_cursor) \
                 ORDER BY f.id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(ids.into_iter().map(FlowId::from).collect())
    }
}
