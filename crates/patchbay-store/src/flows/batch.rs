//! Group commit of run writes: a node's runs hand their writes (a run started already leased, each
//! action's record, a `Response`, the end) to one writer, which commits all that arrived meanwhile
//! in one transaction. Every write keeps its own outcome: a fenced write whose lease is no longer
//! the run's comes back [`StoreError::LeaseLost`] and writes nothing, without failing its
//! neighbours. The single-write methods ([`Flows::record_action`], [`Flows::set_response`],
//! [`Flows::finish_run`], [`Flows::start_run`]) are batches of one.
//!
//! Writes apply in the order given, so a run's records keep their order when they share a batch.

use serde_json::Value;

use super::journal::ActionEntry;
use super::journal::{check_text, record_sql};
use super::queue::{RunLease, fenced};
use super::runs::{Run, RunStatus, run_columns, run_from};
use super::{Flows, opt_json_text};
use crate::dialect::{Backend, in_tx};
use crate::error::{Result, StoreError};
use crate::ids::{FlowId, RunId, now_ms};
use crate::leases::lease_terms;

/// The longest action key or name, in characters.
const MAX_KEY_CHARS: usize = 1000;

/// A run to start on this node at once, without queueing: inserted `Running` with its lease.
#[derive(Debug, Clone, PartialEq)]
pub struct StartRun {
    /// The run's id (see [`RunId::ordered`]).
    pub id: RunId,
    /// The flow; it must be enabled.
    pub flow_id: FlowId,
    /// The revision the run executes.
    pub revision: i64,
    /// The trigger outputs: `{"headers": …, "body": …}`.
    pub trigger: Value,
    /// The node that executes it.
    pub node: String,
    /// How long the first lease lasts, in ms.
    pub lease_ms: i64,
}

impl StartRun {
    /// The lease the node holds on the run once the start is written (token 1, first attempt).
    pub fn lease(&self, now_ms: i64) -> RunLease {
        let until = now_ms.saturating_add(self.lease_ms);
        RunLease {
            run: Run {
                id: self.id.clone(),
                flow_id: self.flow_id.clone(),
                revision: self.revision,
                status: RunStatus::Running,
                trigger: self.trigger.clone(),
                event_seq: None,
                idempotency_key: None,
                wake_ms: None,
                lease_owner: Some(self.node.clone()),
                lease_until_ms: Some(until),
                attempts: 1,
                cancel_requested: false,
                error: None,
                response: None,
                outputs: None,
                created_ms: now_ms,
                started_ms: Some(now_ms),
                ended_ms: None,
            },
            token: 1,
            node: self.node.clone(),
            until_ms: until,
        }
    }
}

/// What a fenced write presents: the run and the lease token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The run.
    pub run: RunId,
    /// The lease token the write must present.
    pub token: i64,
}

impl From<&RunLease> for Fence {
    fn from(lease: &RunLease) -> Self {
        Fence { run: lease.run.id.clone(), token: lease.token }
    }
}

/// One write of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunWrite {
    /// Insert a run `Running` under this node's lease, started at `now_ms`.
    Start {
        /// The run.
        run: StartRun,
        /// Its creation and start time (epoch ms): the lease runs from it.
        now_ms: i64,
    },
    /// Record an action in the run's journal.
    Record(Fence, Box<ActionEntry>),
    /// Store the run's `Response`.
    Respond(Fence, Value),
    /// End the run with a finished status, its error and outputs; the lease is released.
    Finish {
        /// The run and its lease token.
        fence: Fence,
        /// Succeeded, Failed, Cancelled or Skipped.
        status: RunStatus,
        /// The run's error.
        error: Option<Value>,
        /// The run's outputs.
        outputs: Option<Value>,
    },
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// The run was inserted under its lease.
    Started(Run),
    /// The action was recorded; whether a cancel of the run was requested.
    Recorded {
        /// A cancel was requested: finish the run as `Cancelled`.
        cancel_requested: bool,
    },
    /// The response was stored.
    Responded,
    /// The run ended.
    Finished(Run),
}

/// A write with its values serialised, ready for the transaction.
enum Prepared<'a> {
    Start { run: &'a StartRun, trigger: String, until: i64, now: i64 },
    Record { fence: &'a Fence, entry: &'a ActionEntry, texts: RecordTexts },
    Respond { fence: &'a Fence, response: String },
    Finish { fence: &'a Fence, status: RunStatus, error: Option<String>, outputs: Option<String> },
}

/// An action entry's JSON columns as text.
struct RecordTexts {
    iteration: String,
    inputs: String,
    outputs: String,
    error: Option<String>,
    pending: Option<String>,
}

/// Checks and serialises one write before the write lock is taken.
fn prepare(write: &RunWrite) -> Result<Prepared<'_>> {
    Ok(match write {
        RunWrite::Start { run, now_ms } => {
            let (_, until) = lease_terms(&run.node, *now_ms, run.lease_ms)?;
            Prepared::Start { run, trigger: serde_json::to_string(&run.trigger)?, until, now: *now_ms }
        }
        RunWrite::Record(fence, entry) => {
            check_text("action key", &entry.key, MAX_KEY_CHARS)?;
            check_text("action name", &entry.name, MAX_KEY_CHARS)?;
            check_text("action status", &entry.status, 100)?;
            let texts = RecordTexts {
                iteration: serde_json::to_string(&entry.iteration)?,
                inputs: serde_json::to_string(&entry.inputs)?,
                outputs: serde_json::to_string(&entry.outputs)?,
                error: opt_json_text(entry.error.as_ref())?,
                pending: opt_json_text(entry.pending.as_ref())?,
            };
            Prepared::Record { fence, entry, texts }
        }
        RunWrite::Respond(fence, response) => {
            Prepared::Respond { fence, response: serde_json::to_string(response)? }
        }
        RunWrite::Finish { fence, status, error, outputs } => {
            if !status.is_finished() {
                return Err(StoreError::invalid(
                    "status",
                    format!(
                        "a run finishes as Succeeded, Failed, Cancelled or Skipped, not {}",
                        status.as_str()
                    ),
                ));
            }
            Prepared::Finish {
                fence,
                status: *status,
                error: opt_json_text(error.as_ref())?,
                outputs: opt_json_text(outputs.as_ref())?,
            }
        }
    })
}

/// Inserts a run `Running` under a lease, if its flow is enabled and has the revision.
const START_SQL: &str = concat!(
    "INSERT INTO runs (id, flow_id, revision, status, trigger_outputs, lease_owner, lease_until_ms, \
     lease_token, attempts, created_ms, started_ms) \
     SELECT $1, r.flow_id, r.revision, 'Running', $4, $5, $6, 1, 1, $7, $7 FROM flow_revisions r \
     JOIN flows f ON f.id = r.flow_id WHERE r.flow_id = $2 AND r.revision = $3 AND f.enabled RETURNING ",
    run_columns!()
);

/// Stores the response of a running run.
const RESPOND_SQL: &str = concat!("UPDATE runs SET response = $3", fenced!(), " RETURNING id");

/// Ends a running run.
const FINISH_SQL: &str = concat!(
    "UPDATE runs SET status = $3, error = $4, outputs = $5, ended_ms = $6, wake_ms = NULL, \
     lease_owner = NULL, lease_until_ms = NULL",
    fenced!(),
    " RETURNING ",
    run_columns!()
);

/// Applies one prepared write in the transaction `$tx`; evaluates to `Result<Written>` where only
/// a missing row (lease lost, flow disabled) is a per-write error, and a database error ends the
/// batch through `?`.
macro_rules! apply {
    ($tx:ident, $pg:expr, $prepared:expr) => {
        match $prepared {
            Prepared::Start { run, trigger, until, now } => {
                let row = sqlx::query(START_SQL)
                    .bind(run.id.as_str())
                    .bind(run.flow_id.as_str())
                    .bind(run.revision)
                    .bind(trigger.as_str())
                    .bind(run.node.as_str())
                    .bind(*until)
                    .bind(*now)
                    .fetch_optional(&mut *$tx)
                    .await?;
                match row {
                    Some(row) => Ok(Written::Started(run_from(&row)?)),
                    None => Err(StoreError::invalid(
                        "flow",
                        format!(
                            "`{}` at revision {} is missing or disabled and starts no run",
                            run.flow_id, run.revision
                        ),
                    )),
                }
            }
            Prepared::Record { fence, entry, texts } => {
                let sql = if $pg { record_sql!(" FOR SHARE") } else { record_sql!("") };
                let recorded: Option<bool> = sqlx::query_scalar(sql)
                    .bind(fence.run.as_str())
                    .bind(fence.token)
                    .bind(entry.key.as_str())
                    .bind(entry.name.as_str())
                    .bind(texts.iteration.as_str())
                    .bind(entry.status.as_str())
                    .bind(texts.inputs.as_str())
                    .bind(texts.outputs.as_str())
                    .bind(texts.error.as_deref())
                    .bind(entry.started_ms)
                    .bind(entry.ended_ms)
                    .bind(entry.attempts)
                    .bind(texts.pending.as_deref())
                    .fetch_optional(&mut *$tx)
                    .await?;
                recorded
                    .map(|cancel_requested| Written::Recorded { cancel_requested })
                    .ok_or_else(|| lost(fence))
            }
            Prepared::Respond { fence, response } => {
                let row: Option<String> = sqlx::query_scalar(RESPOND_SQL)
                    .bind(fence.run.as_str())
                    .bind(fence.token)
                    .bind(response.as_str())
                    .fetch_optional(&mut *$tx)
                    .await?;
                row.map(|_| Written::Responded).ok_or_else(|| lost(fence))
            }
            Prepared::Finish { fence, status, error, outputs } => {
                let row = sqlx::query(FINISH_SQL)
                    .bind(fence.run.as_str())
                    .bind(fence.token)
                    .bind(status.as_str())
                    .bind(error.as_deref())
                    .bind(outputs.as_deref())
                    .bind(now_ms())
                    .fetch_optional(&mut *$tx)
                    .await?;
                match row {
                    Some(row) => Ok(Written::Finished(run_from(&row)?)),
                    None => Err(lost(fence)),
                }
            }
        }
    };
}

/// The error of a fenced write that matched no row.
fn lost(fence: &Fence) -> StoreError {
    StoreError::LeaseLost { id: fence.run.to_string() }
}

/// The error of a write the transaction did not reach (never expected).
fn not_applied() -> StoreError {
    StoreError::invalid("write", "was not applied")
}

impl Flows<'_> {
    /// Applies `writes` in order in one transaction (one commit for all). Each write has its own
    /// outcome; a write that could not be prepared (an invalid key, a non-final status) or whose
    /// row is gone (lease lost, flow disabled) fails alone. `Err` means the transaction failed and
    /// nothing was written.
    pub async fn write_runs(self, writes: &[RunWrite]) -> Result<Vec<Result<Written>>> {
        let mut outcomes: Vec<Option<Result<Written>>> = Vec::with_capacity(writes.len());
        let mut prepared = Vec::with_capacity(writes.len());
        for write in writes {
            match prepare(write) {
                Ok(ready) => {
                    prepared.push(Some(ready));
                    outcomes.push(None);
                }
                Err(error) => {
                    prepared.push(None);
                    outcomes.push(Some(Err(error)));
                }
            }
        }
        if prepared.iter().any(Option::is_some) {
            let pg = self.store.backend() == Backend::Postgres;
            let applied = in_tx!(&self.store.db, tx => {
                let mut applied = Vec::with_capacity(prepared.len());
                for ready in prepared.iter().flatten() {
                    applied.push(apply!(tx, pg, ready));
                }
                applied
            });
            let mut applied = applied.into_iter();
            for slot in outcomes.iter_mut().filter(|slot| slot.is_none()) {
                *slot = applied.next();
            }
        }
        Ok(outcomes.into_iter().map(|outcome| outcome.unwrap_or_else(|| Err(not_applied()))).collect())
    }

    /// Applies one write in its own transaction.
    pub async fn write_run(self, write: RunWrite) -> Result<Written> {
        self.write_runs(std::slice::from_ref(&write)).await?.pop().unwrap_or_else(|| Err(not_applied()))
    }

    /// Inserts a run of an enabled flow `Running` under this node's lease at once (no queue, no
    /// claim): for a run the receiving node executes itself. Returns the lease.
    pub async fn start_run(self, run: StartRun) -> Result<RunLease> {
        let now = now_ms();
        let mut lease = run.lease(now);
        match self.write_run(RunWrite::Start { run, now_ms: now }).await? {
            Written::Started(stored) => {
                lease.run = stored;
                Ok(lease)
            }
            other => Err(StoreError::invalid("write", format!("unexpected outcome {other:?}"))),
        }
    }

    /// Records an action of the leased run: inserted the first time its key is seen (which fixes
    /// its place in the journal), replaced after that. Returns whether a cancel of the run was
    /// requested (finish it as `Cancelled`). [`StoreError::LeaseLost`], with nothing written, when
    /// the lease is no longer the run's.
    pub async fn record_action(self, lease: &RunLease, entry: &ActionEntry) -> Result<bool> {
        match self.write_run(RunWrite::Record(lease.into(), Box::new(entry.clone()))).await? {
            Written::Recorded { cancel_requested } => Ok(cancel_requested),
            other => Err(StoreError::invalid("write", format!("unexpected outcome {other:?}"))),
        }
    }

    /// Stores the run's HTTP response (a `Response` action ran) before the run finishes, so that
    /// the caller waiting on a Request trigger can be answered.
    pub async fn set_response(self, lease: &RunLease, response: &Value) -> Result<()> {
        self.write_run(RunWrite::Respond(lease.into(), response.clone())).await.map(drop)
    }

    /// Ends the run with a finished `status` (not queued, running or waiting), its error and
    /// outputs; the lease is released.
    pub async fn finish_run(
        self,
        lease: &RunLease,
        status: RunStatus,
        error: Option<&Value>,
        outputs: Option<&Value>,
    ) -> Result<Run> {
        let write = RunWrite::Finish {
            fence: lease.into(),
            status,
            error: error.cloned(),
            outputs: outputs.cloned(),
        };
        match self.write_run(write).await? {
            Written::Finished(run) => Ok(run),
            other => Err(StoreError::invalid("write", format!("unexpected outcome {other:?}"))),
        }
    }
}
