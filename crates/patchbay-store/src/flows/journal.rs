//! The run journal: every action's inputs, outputs, status and timing, one row per action (or loop
//! iteration), upserted as the action goes. A run resumed on any node is replayed with its journal,
//! so that the actions that finished are not executed again.

use serde::Serialize;
use serde_json::Value;

use super::{Flows, opt_json};
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError};
use crate::ids::RunId;

/// One action of a run, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionEntry {
    /// The action's name, and for a loop iteration its indexes: `Name` or `Name#0.2`.
    pub key: String,
    /// The action's name in the definition.
    pub name: String,
    /// The loop indexes, outermost first (empty outside loops).
    pub iteration: Vec<i64>,
    /// Its status (`Running`, `Waiting`, `Succeeded`, `Failed`, `Skipped`, `TimedOut`, …).
    pub status: String,
    /// Its inputs.
    pub inputs: Value,
    /// Its outputs.
    pub outputs: Value,
    /// Its error, if it failed.
    pub error: Option<Value>,
    /// When it started (epoch ms).
    pub started_ms: i64,
    /// When it ended (epoch ms).
    pub ended_ms: Option<i64>,
    /// How many times it was tried.
    pub attempts: i64,
    /// The state of a waiting action (a 202's `Location`, its wake time), to resume it from.
    pub pending: Option<Value>,
}

/// The upsert of an action, written only while `$2` is the lease token of the running run `$1`;
/// returns whether a cancel was requested. `$lock` makes PostgreSQL hold the run row against a
/// concurrent claim until the write commits.
macro_rules! record_sql {
    ($lock:literal) => {
        concat!(
            "INSERT INTO run_actions (run_id, action_key, name, iteration, status, inputs, outputs, error, \
             started_ms, ended_ms, attempts, pending) \
             SELECT $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 WHERE EXISTS (SELECT 1 FROM runs \
             WHERE id = $1 AND lease_token = $2 AND status = 'Running'",
            $lock,
            ")",
            replace_record!(),
            " RETURNING (SELECT cancel_requested FROM runs WHERE id = $1) AS cancel_requested"
        )
    };
}
pub(super) use record_sql;

/// What a record whose key the run's journal holds already does: it replaces the earlier one.
macro_rules! replace_record {
    () => {
        " ON CONFLICT (run_id, action_key) DO UPDATE SET name = excluded.name, \
         iteration = excluded.iteration, status = excluded.status, inputs = excluded.inputs, \
         outputs = excluded.outputs, error = excluded.error, started_ms = excluded.started_ms, \
         ended_ms = excluded.ended_ms, attempts = excluded.attempts, pending = excluded.pending"
    };
}
pub(super) use replace_record;

/// `value` as it is (keys must match exactly), refused when empty or longer than `max` characters.
pub(super) fn check_text<'a>(field: &'static str, value: &'a str, max: usize) -> Result<&'a str> {
    if value.is_empty() || value.chars().count() > max {
        return Err(StoreError::invalid(field, format!("must be 1 to {max} characters")));
    }
    Ok(value)
}

/// Maps a `run_actions` row.
fn entry_from(row: &impl Cols) -> Result<ActionEntry> {
    Ok(ActionEntry {
        key: row.text("action_key")?,
        name: row.text("name")?,
        iteration: serde_json::from_str(&row.text("iteration")?)?,
        status: row.text("status")?,
        inputs: serde_json::from_str(&row.text("inputs")?)?,
        outputs: serde_json::from_str(&row.text("outputs")?)?,
        error: opt_json(row.opt_text("error")?)?,
        started_ms: row.int("started_ms")?,
        ended_ms: row.opt_int("ended_ms")?,
        attempts: row.int("attempts")?,
        pending: opt_json(row.opt_text("pending")?)?,
    })
}

impl Flows<'_> {
    /// The journal of a run: its actions in the order they were first recorded.
    pub async fn journal(self, run: &RunId) -> Result<Vec<ActionEntry>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT action_key, name, iteration, status, inputs, outputs, error, started_ms, ended_ms, \
                 attempts, pending FROM run_actions WHERE run_id = $1 ORDER BY seq",
            )
            .bind(run.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(entry_from).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_kept_exactly_and_bounded() {
        assert_eq!(check_text("key", " Compose#0 ", 20).unwrap(), " Compose#0 ");
        assert!(check_text("key", "", 20).is_err());
        assert!(check_text("key", &"k".repeat(21), 20).is_err());
    }
}
