//! Trigger events: what a poll or a webhook callback delivered, numbered by a global increasing
//! `seq` that consumers read onward from. Events are only ever written inside the transaction that
//! also records their cause (the advanced polling state, or the accepted callback batch).

use std::ops::Range;
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Triggers;
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{EventId, TriggerId, hex};

/// The most events one call of [`Triggers::events`] returns.
pub const MAX_EVENTS_PER_PAGE: i64 = 1000;

/// Dedup keys longer than this many bytes are stored as `sha256:<hex>` (index entries stay small).
const MAX_DEDUP_KEY_BYTES: usize = 256;

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventSource {
    /// A poll of a polling trigger.
    Poll,
    /// A webhook callback.
    Webhook,
}

impl EventSource {
    /// The source's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Poll => "poll",
            EventSource::Webhook => "webhook",
        }
    }

    /// Reads a stored source name.
    fn parse(text: &str) -> Result<EventSource> {
        match text {
            "poll" => Ok(EventSource::Poll),
            "webhook" => Ok(EventSource::Webhook),
            _ => Err(StoreError::Corrupt { column: "trigger_events.source", value: text.to_owned() }),
        }
    }
}

/// An event to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Where it came from.
    pub source: EventSource,
    /// The response or callback headers, as a JSON object.
    pub headers: Value,
    /// The body (one item when the trigger splits on an array).
    pub body: Value,
    /// A key unique per trigger: an event whose key is already stored is skipped.
    pub dedup_key: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerEvent {
    /// Position in the global order of events (increasing; gaps are possible).
    pub seq: i64,
    /// Identifier.
    pub id: EventId,
    /// The trigger that received it.
    pub trigger_id: TriggerId,
    /// Where it came from.
    pub source: EventSource,
    /// When it was stored (epoch ms).
    pub received_ms: i64,
    /// Headers, as a JSON object.
    pub headers: Value,
    /// Body.
    pub body: Value,
}

/// What storing a batch of events did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// How many events were stored.
    pub stored: usize,
    /// How many were skipped because their dedup key was already stored.
    pub duplicates: usize,
    /// The seqs of the stored events, in the order they were given.
    pub seqs: Vec<i64>,
}

impl Stored {
    /// Sums up per-event outcomes (`None` for a duplicate).
    pub(super) fn from_outcomes(outcomes: &[Option<i64>]) -> Stored {
        let seqs: Vec<i64> = outcomes.iter().flatten().copied().collect();
        Stored { stored: seqs.len(), duplicates: outcomes.len() - seqs.len(), seqs }
    }
}

/// An event ready to insert: id chosen and JSON serialised before the transaction starts.
pub(super) struct EventRow {
    pub(super) id: EventId,
    pub(super) trigger_id: String,
    pub(super) source: &'static str,
    pub(super) received_ms: i64,
    pub(super) headers: String,
    pub(super) body: String,
    pub(super) dedup_key: Option<String>,
}

impl EventRow {
    /// Prepares an event of `source` for `trigger_id`.
    pub(super) fn new(
        trigger_id: String,
        source: EventSource,
        headers: &Value,
        body: &Value,
        dedup_key: Option<&str>,
        received_ms: i64,
    ) -> Result<EventRow> {
        Ok(EventRow {
            id: EventId::ordered(received_ms)?,
            trigger_id,
            source: source.as_str(),
            received_ms,
            headers: serde_json::to_string(headers)?,
            body: serde_json::to_string(body)?,
            dedup_key: dedup_key.map(stored_dedup_key),
        })
    }
}

/// The stored form of a dedup key: itself, or `sha256:<hex>` of it when it is long.
fn stored_dedup_key(key: &str) -> String {
    if key.len() <= MAX_DEDUP_KEY_BYTES {
        key.to_owned()
    } else {
        format!("sha256:{}", hex(&Sha256::digest(key.as_bytes())))
    }
}

/// The distinct triggers of `rows`, sorted (the order in which their event locks are taken).
pub(super) fn distinct_triggers(rows: &[EventRow]) -> Vec<&str> {
    let mut triggers: Vec<&str> = rows.iter().map(|row| row.trigger_id.as_str()).collect();
    triggers.sort_unstable();
    triggers.dedup();
    triggers
}

/// PostgreSQL: a per-trigger lock held to commit, so that the events of one trigger become visible
/// in `seq` order (identity values are taken before commit; concurrent writers could otherwise
/// commit a higher seq first and a reader reading onward from it would miss the lower one).
pub(super) const PG_EVENT_LOCK: &str = "SELECT pg_advisory_xact_lock(1885500530, hashtext($1))";

/// Rows per multi-row `INSERT`, largest first: a batch is cut into chunks of these sizes, so that
/// few statement texts are ever prepared (7 parameters a row stays far below both engines' limits).
const CHUNK_ROWS: [usize; 4] = [256, 32, 4, 1];

/// The `INSERT` statement for each of [`CHUNK_ROWS`]: events whose dedup key is taken are skipped,
/// and the stored ones return their id and seq.
static INSERT_EVENTS: LazyLock<[String; 4]> = LazyLock::new(|| CHUNK_ROWS.map(insert_events_sql));

/// The `INSERT` of `rows` events.
fn insert_events_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=7).map(|column| format!("${}", row * 7 + column)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO trigger_events (id, trigger_id, source, received_ms, headers, body, dedup_key) VALUES {} \
         ON CONFLICT (trigger_id, dedup_key) DO NOTHING RETURNING id, seq",
        values.join(", ")
    )
}

/// How to insert `len` rows: consecutive ranges, each with the statement for its size.
pub(super) fn insert_plan(len: usize) -> Vec<(Range<usize>, &'static str)> {
    let mut plan = Vec::new();
    let mut start = 0;
    for (size, sql) in CHUNK_ROWS.iter().zip(INSERT_EVENTS.iter()) {
        while len - start >= *size {
            plan.push((start..start + size, sql.as_str()));
            start += size;
        }
    }
    plan
}

/// Inserts the [`EventRow`]s `$rows` in the open transaction `$tx`, taking the PostgreSQL event
/// locks first when `$pg`; evaluates to each row's seq, `None` for a duplicate.
macro_rules! insert_events {
    ($tx:ident, $pg:expr, $rows:expr) => {{
        let rows: &[$crate::triggers::events::EventRow] = $rows;
        if $pg {
            for trigger in $crate::triggers::events::distinct_triggers(rows) {
                sqlx::query($crate::triggers::events::PG_EVENT_LOCK).bind(trigger).execute(&mut *$tx).await?;
            }
        }
        let mut stored: std::collections::HashMap<String, i64> =
            std::collections::HashMap::with_capacity(rows.len());
        for (range, sql) in $crate::triggers::events::insert_plan(rows.len()) {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in rows.get(range).unwrap_or_default() {
                query = query
                    .bind(row.id.as_str())
                    .bind(row.trigger_id.as_str())
                    .bind(row.source)
                    .bind(row.received_ms)
                    .bind(row.headers.as_str())
                    .bind(row.body.as_str())
                    .bind(row.dedup_key.as_deref());
            }
            for returned in query.fetch_all(&mut *$tx).await? {
                let id = $crate::dialect::Cols::text(&returned, "id")?;
                stored.insert(id, $crate::dialect::Cols::int(&returned, "seq")?);
            }
        }
        rows.iter().map(|row| stored.get(row.id.as_str()).copied()).collect::<Vec<Option<i64>>>()
    }};
}
pub(super) use insert_events;

/// Maps a `trigger_events` row.
fn event_from(row: &impl Cols) -> Result<TriggerEvent> {
    Ok(TriggerEvent {
        seq: row.int("seq")?,
        id: row.text("id")?.into(),
        trigger_id: row.text("trigger_id")?.into(),
        source: EventSource::parse(&row.text("source")?)?,
        received_ms: row.int("received_ms")?,
        headers: serde_json::from_str(&row.text("headers")?)?,
        body: serde_json::from_str(&row.text("body")?)?,
    })
}

impl Triggers<'_> {
    /// The events of `trigger` after `after_seq` (0 for the first), in seq order, at most `limit`
    /// (capped at [`MAX_EVENTS_PER_PAGE`]). A trigger's events become visible in seq order on both
    /// engines, so reading onward from the last seq seen never skips one.
    pub async fn events(self, trigger: &TriggerId, after_seq: i64, limit: i64) -> Result<Vec<TriggerEvent>> {
        let limit = limit.clamp(0, MAX_EVENTS_PER_PAGE);
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT seq, id, trigger_id, source, received_ms, headers, body FROM trigger_events \
                 WHERE trigger_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(trigger.as_str())
            .bind(after_seq)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter().map(event_from).collect()
        })
    }

    /// How many events `trigger` has stored.
    pub async fn count_events(self, trigger: &TriggerId) -> Result<i64> {
        on_db!(&self.store.db, pool => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM trigger_events WHERE trigger_id = $1")
                .bind(trigger.as_str())
                .fetch_one(pool)
                .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_dedup_keys_are_hashed() {
        assert_eq!(stored_dedup_key("t-17"), "t-17");
        let long = "k".repeat(MAX_DEDUP_KEY_BYTES + 1);
        let stored = stored_dedup_key(&long);
        assert!(stored.starts_with("sha256:") && stored.len() == 7 + 64, "{stored}");
        assert_ne!(stored, stored_dedup_key(&"k".repeat(MAX_DEDUP_KEY_BYTES + 2)));
    }

    #[test]
    fn batches_are_cut_into_prepared_sizes() {
        let sizes = |len| insert_plan(len).into_iter().map(|(range, _)| range.len()).collect::<Vec<_>>();
        assert!(sizes(0).is_empty());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(300), [256, 32, 4, 4, 4]);
        assert_eq!(sizes(7), [4, 1, 1, 1]);
        let ranges: Vec<_> = insert_plan(41).into_iter().map(|(range, _)| range).collect();
        assert_eq!(ranges, [0..32, 32..36, 36..40, 40..41]);
        assert!(
            insert_events_sql(2)
                .contains("($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14) ON")
        );
    }

    #[test]
    fn outcomes_sum_up() {
        let stored = Stored::from_outcomes(&[Some(4), None, Some(5)]);
        assert_eq!(stored, Stored { stored: 2, duplicates: 1, seqs: vec![4, 5] });
    }
}
