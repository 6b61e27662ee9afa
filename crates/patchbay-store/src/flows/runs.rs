//! Runs: one execution of a flow, on the revision it started with, from its trigger's outputs to its
//! end. A run is queued, then claimed by a node's worker ([`queue`](super::queue)), which records
//! each action in the run's journal and then suspends the run (`Waiting` until a stored wake time)
//! or finishes it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Flows, opt_json};
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{FlowId, RunId, now_ms};

/// The most runs one call of [`Flows::list_runs`] returns.
pub const MAX_RUNS_PER_PAGE: i64 = 1000;

/// The longest idempotency key, in bytes.
const MAX_IDEMPOTENCY_KEY_BYTES: usize = 512;

/// Where a run stands (named as in Logic Apps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RunStatus {
    /// Waiting for a worker to claim it.
    Queued,
    /// A worker holds its lease and executes it.
    Running,
    /// Parked (a long-running action or a `Wait`) until its wake time; no worker holds it.
    Waiting,
    /// Finished: it succeeded.
    Succeeded,
    /// Finished: it failed.
    Failed,
    /// Finished: it was cancelled.
    Cancelled,
    /// Finished: its trigger conditions were not met, nothing ran.
    Skipped,
}

impl RunStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Skipped,
    ];

    /// The status's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "Queued",
            RunStatus::Running => "Running",
            RunStatus::Waiting => "Waiting",
            RunStatus::Succeeded => "Succeeded",
            RunStatus::Failed => "Failed",
            RunStatus::Cancelled => "Cancelled",
            RunStatus::Skipped => "Skipped",
        }
    }

    /// Reads a stored status name.
    pub(super) fn parse(text: &str) -> Result<RunStatus> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt { column: "runs.status", value: text.to_owned() })
    }

    /// Whether the run has ended (succeeded, failed, cancelled or skipped).
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled | RunStatus::Skipped)
    }
}

/// A run of a flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// Identifier (sorts by creation time).
    pub id: RunId,
    /// The flow.
    pub flow_id: FlowId,
    /// The flow revision it runs (kept when the flow is updated meanwhile).
    pub revision: i64,
    /// Where it stands.
    pub status: RunStatus,
    /// The trigger outputs: `{"headers": …, "body": …}`.
    pub trigger: Value,
    /// The trigger event it came from, if it came from one.
    pub event_seq: Option<i64>,
    /// The caller's key that makes enqueueing idempotent, if any.
    pub idempotency_key: Option<String>,
    /// When a `Waiting` run may be claimed again (epoch ms).
    pub wake_ms: Option<i64>,
    /// The node that holds the lease, if any.
    pub lease_owner: Option<String>,
    /// When the lease runs out (epoch ms), if there is one.
    pub lease_until_ms: Option<i64>,
    /// How many times it was claimed.
    pub attempts: i64,
    /// Whether a cancel was asked for while it was `Running`.
    pub cancel_requested: bool,
    /// The run's error, when it failed.
    pub error: Option<Value>,
    /// The `Response` action's response, stored as soon as that action ran.
    pub response: Option<Value>,
    /// The run's outputs, when it finished.
    pub outputs: Option<Value>,
    /// When it was queued (epoch ms).
    pub created_ms: i64,
    /// When it was first claimed (epoch ms).
    pub started_ms: Option<i64>,
    /// When it finished (epoch ms).
    pub ended_ms: Option<i64>,
}

/// The columns of a `runs` row, as [`run_from`] reads them (plus the lease token).
macro_rules! run_columns {
    () => {
        "id, flow_id, revision, status, trigger_outputs, event_seq, idempotency_key, wake_ms, lease_owner, \
         lease_until_ms, lease_token, attempts, cancel_requested, error, response, outputs, created_ms, \
         started_ms, ended_ms"
    };
}
pub(super) use run_columns;

/// Maps a row selected with [`run_columns!`].
pub(super) fn run_from(row: &impl Cols) -> Result<Run> {
    Ok(Run {
        id: row.text("id")?.into(),
        flow_id: row.text("flow_id")?.into(),
        revision: row.int("revision")?,
        status: RunStatus::parse(&row.text("status")?)?,
        trigger: serde_json::from_str(&row.text("trigger_outputs")?)?,
        event_seq: row.opt_int("event_seq")?,
        idempotency_key: row.opt_text("idempotency_key")?,
        wake_ms: row.opt_int("wake_ms")?,
        lease_owner: row.opt_text("lease_owner")?,
        lease_until_ms: row.opt_int("lease_until_ms")?,
        attempts: row.int("attempts")?,
        cancel_requested: row.flag("cancel_requested")?,
        error: opt_json(row.opt_text("error")?)?,
        response: opt_json(row.opt_text("response")?)?,
        outputs: opt_json(row.opt_text("outputs")?)?,
        created_ms: row.int("created_ms")?,
        started_ms: row.opt_int("started_ms")?,
        ended_ms: row.opt_int("ended_ms")?,
    })
}

/// An idempotency key, refused when empty or too long.
fn check_idempotency_key(key: Option<&str>) -> Result<Option<&str>> {
    match key {
        Some(key) if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_BYTES => Err(StoreError::invalid(
            "idempotency key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes"),
        )),
        other => Ok(other),
    }
}

impl Flows<'_> {
    /// Queues a run of revision `revision` of an enabled flow with the trigger's outputs
    /// (`{"headers", "body"}`); returns it and `true`. With an idempotency key that this flow has
    /// seen before, nothing is queued: the earlier run comes back with `false` (resubmits, a
    /// Request trigger's client tracking id). A disabled flow starts no run
    /// ([`StoreError::Invalid`]).
    pub async fn enqueue(
        self,
        flow: &FlowId,
        revision: i64,
        trigger: &Value,
        idempotency_key: Option<&str>,
    ) -> Result<(Run, bool)> {
        let key = check_idempotency_key(idempotency_key)?;
        let now = now_ms();
        let (id, trigger) = (RunId::ordered(now)?, serde_json::to_string(trigger)?);
        let (created, existing) = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!(
                "INSERT INTO runs (id, flow_id, revision, status, trigger_outputs, idempotency_key, created_ms) \
                 SELECT $1, r.flow_id, r.revision, 'Queued', $4, $5, $6 FROM flow_revisions r \
                 JOIN flows f ON f.id = r.flow_id WHERE r.flow_id = $2 AND r.revision = $3 AND f.enabled \
                 ON CONFLICT (flow_id, idempotency_key) DO NOTHING RETURNING ",
                run_columns!()
            ))
            .bind(id.as_str())
            .bind(flow.as_str())
            .bind(revision)
            .bind(&trigger)
            .bind(key)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            match (row, key) {
                (Some(row), _) => (Some(run_from(&row)?), None),
                (None, Some(key)) => {
                    let row = sqlx::query(concat!(
                        "SELECT ", run_columns!(), " FROM runs WHERE flow_id = $1 AND idempotency_key = $2"
                    ))
                    .bind(flow.as_str())
                    .bind(key)
                    .fetch_optional(pool)
                    .await?;
                    (None, row.map(|row| run_from(&row)).transpose()?)
                }
                (None, None) => (None, None),
            }
        });
        match (created, existing) {
            (Some(run), _) => Ok((run, true)),
            (None, Some(run)) => Ok((run, false)),
            (None, None) => Err(self.why_not_enqueued(flow, revision).await),
        }
    }

    /// Why a run of `flow` at `revision` could not be queued: the flow or revision is missing, or
    /// the flow is disabled.
    async fn why_not_enqueued(self, flow: &FlowId, revision: i64) -> StoreError {
        match self.revision(flow, revision).await {
            Err(error) => error,
            Ok(_) => StoreError::invalid(
                "flow",
                format!("`{flow}` is disabled and starts no run; enable it first"),
            ),
        }
    }

    /// The run `id`.
    pub async fn get_run(self, id: &RunId) -> Result<Run> {
        let found = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1"))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?;
            row.map(|row| run_from(&row)).transpose()?
        });
        found.ok_or_else(|| StoreError::not_found("run", id))
    }

    /// The runs of a flow, newest first, at most `limit` (capped at [`MAX_RUNS_PER_PAGE`]); with
    /// `before`, only those queued before that run (the last one of the previous page), so that
    /// paging never skips nor repeats a run, even among runs queued in the same millisecond.
    pub async fn list_runs(self, flow: &FlowId, before: Option<&RunId>, limit: i64) -> Result<Vec<Run>> {
        let limit = limit.clamp(0, MAX_RUNS_PER_PAGE);
        let cursor = match before {
            Some(before) => {
                let run = self.get_run(before).await?;
                if run.flow_id != *flow {
                    return Err(StoreError::invalid(
                        "before",
                        format!("run `{before}` is not a run of flow `{flow}`"),
                    ));
                }
                Some((run.created_ms, run.id))
            }
            None => None,
        };
        let (before_ms, before_id) = cursor.map_or((None, None), |(ms, id)| (Some(ms), Some(id)));
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(concat!(
                "SELECT ", run_columns!(), " FROM runs WHERE flow_id = $1 AND ($2 IS NULL OR created_ms < $2 \
                 OR (created_ms = $2 AND id < $3)) ORDER BY created_ms DESC, id DESC LIMIT $4"
            ))
            .bind(flow.as_str())
            .bind(before_ms)
            .bind(before_id.as_ref().map(RunId::as_str))
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter().map(run_from).collect()
        })
    }

    /// How many runs of a flow are in each status (statuses without runs left out), in lifecycle
    /// order.
    pub async fn count_runs_by_status(self, flow: &FlowId) -> Result<Vec<(RunStatus, i64)>> {
        let rows: Vec<(String, i64)> = on_db!(&self.store.db, pool => {
            sqlx::query_as("SELECT status, COUNT(*) FROM runs WHERE flow_id = $1 GROUP BY status")
                .bind(flow.as_str())
                .fetch_all(pool)
                .await?
        });
        let mut counts = rows
            .into_iter()
            .map(|(status, count)| Ok((RunStatus::parse(&status)?, count)))
            .collect::<Result<Vec<_>>>()?;
        counts.sort_unstable();
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_and_serialise_as_in_logic_apps() {
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::parse(status.as_str()).unwrap(), status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!(RunStatus::parse("queued").is_err());
        let finished: Vec<_> = RunStatus::ALL.into_iter().filter(|status| status.is_finished()).collect();
        assert_eq!(
            finished,
            [RunStatus::Succeeded, RunStatus::Failed, RunStatus::Cancelled, RunStatus::Skipped]
        );
    }

    #[test]
    fn idempotency_keys_are_bounded() {
        assert_eq!(check_idempotency_key(None).unwrap(), None);
        assert_eq!(check_idempotency_key(Some("client-1")).unwrap(), Some("client-1"));
        assert!(check_idempotency_key(Some("")).is_err());
        assert!(check_idempotency_key(Some(&"k".repeat(MAX_IDEMPOTENCY_KEY_BYTES + 1))).is_err());
    }
}
