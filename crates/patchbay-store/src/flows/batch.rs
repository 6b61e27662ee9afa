//! Group commit of run writes: a node's runs hand their writes (a run started already leased, each
//! action's record, a `Response`, the end) to one writer, which commits all that arrived meanwhile
//! in one transaction. Every write keeps its own outcome: a fenced write whose lease is no longer
//! the run's comes back [`StoreError::LeaseLost`] and writes nothing, without failing its
//! neighbours. A run that a node started and ended before writing anything is written whole
//! ([`RunWrite::Whole`]): its final row and its records, with no lease to check. The single-write
//! methods ([`Flows::record_action`], [`Flows::set_response`],
//! [`Flows::finish_run`], [`Flows::start_run`]) are batches of one.
//!
//! Writes apply in the order given, so a run's records keep their order when they share a batch.

use serde_json::Value;

use super::journal::ActionEntry;
use super::journal::{check_text, record_sql, replace_record};
use super::queue::{RunLease, fenced};
use super::runs::{Run, RunStatus};
use super::{Flows, opt_json_text};
use crate::dialect::{Backend, Cols, in_tx};
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

/// A run started and ended by this node before anything of it was written: stored in one go,
/// its row already final (its lease spent) and its action records after it.
#[derive(Debug, Clone, PartialEq)]
pub struct WholeRun {
    /// The run as it started; its flow must be enabled.
    pub run: StartRun,
    /// Its creation and start time (epoch ms).
    pub now_ms: i64,
    /// Its action records, in the order they finished.
    pub records: Vec<ActionEntry>,
    /// The response a `Response` action gave, if one did.
    pub response: Option<Value>,
    /// Succeeded, Failed, Cancelled or Skipped.
    pub status: RunStatus,
    /// The run's error.
    pub error: Option<Value>,
    /// The run's outputs.
    pub outputs: Option<Value>,
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
    /// Insert a run this node started and ended in one go, already ended, with its records.
    Whole(Box<WholeRun>),
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// The run was inserted under its lease.
    Started,
    /// The action was recorded; whether a cancel of the run was requested.
    Recorded {
        /// A cancel was requested: finish the run as `Cancelled`.
        cancel_requested: bool,
    },
    /// The response was stored.
    Responded,
    /// The run ended.
    Finished,
}

/// A write with its values serialised and owned, ready for the transaction (on this task or on
/// SQLite's run-write thread).
pub(crate) enum Prepared {
    Start(PreparedStart),
    Record { fence: Fence, row: RecordRow },
    Respond { fence: Fence, response: String },
    Finish { fence: Fence, end: PreparedEnd },
    Whole { start: PreparedStart, end: PreparedEnd, response: Option<String>, records: Vec<RecordRow> },
}

/// The row of a run started under this node's lease.
pub(crate) struct PreparedStart {
    run: RunId,
    flow: FlowId,
    revision: i64,
    trigger: String,
    node: String,
    until: i64,
    now: i64,
}

/// How a run ends.
pub(crate) struct PreparedEnd {
    status: RunStatus,
    error: Option<String>,
    outputs: Option<String>,
    now: i64,
}

/// An action entry's columns, its JSON as text.
pub(crate) struct RecordRow {
    key: String,
    name: String,
    status: String,
    started: i64,
    ended: Option<i64>,
    attempts: i64,
    iteration: String,
    inputs: String,
    outputs: String,
    error: Option<String>,
    pending: Option<String>,
}

/// One value bound to a `$n` placeholder (the n-th of a statement's values).
pub(crate) enum Param<'a> {
    /// TEXT.
    Text(&'a str),
    /// Nullable TEXT.
    OptText(Option<&'a str>),
    /// BIGINT.
    Int(i64),
    /// Nullable BIGINT.
    OptInt(Option<i64>),
}

/// One statement of a write and its values.
pub(crate) type Statement<'a> = (&'static str, Vec<Param<'a>>);

/// Checks and serialises the start of a run.
fn prepare_start(run: &StartRun, now_ms: i64) -> Result<PreparedStart> {
    let (_, until) = lease_terms(&run.node, now_ms, run.lease_ms)?;
    Ok(PreparedStart {
        run: run.id.clone(),
        flow: run.flow_id.clone(),
        revision: run.revision,
        trigger: serde_json::to_string(&run.trigger)?,
        node: run.node.clone(),
        until,
        now: now_ms,
    })
}

/// Checks and serialises an action entry.
fn prepare_record(entry: &ActionEntry) -> Result<RecordRow> {
    check_text("action key", &entry.key, MAX_KEY_CHARS)?;
    check_text("action name", &entry.name, MAX_KEY_CHARS)?;
    check_text("action status", &entry.status, 100)?;
    Ok(RecordRow {
        key: entry.key.clone(),
        name: entry.name.clone(),
        status: entry.status.clone(),
        started: entry.started_ms,
        ended: entry.ended_ms,
        attempts: entry.attempts,
        iteration: serde_json::to_string(&entry.iteration)?,
        inputs: serde_json::to_string(&entry.inputs)?,
        outputs: serde_json::to_string(&entry.outputs)?,
        error: opt_json_text(entry.error.as_ref())?,
        pending: opt_json_text(entry.pending.as_ref())?,
    })
}

/// Checks and serialises how a run ends: only with a finished status.
fn prepare_end(status: RunStatus, error: Option<&Value>, outputs: Option<&Value>) -> Result<PreparedEnd> {
    if !status.is_finished() {
        return Err(StoreError::invalid(
            "status",
            format!("a run finishes as Succeeded, Failed, Cancelled or Skipped, not {}", status.as_str()),
        ));
    }
    Ok(PreparedEnd { status, error: opt_json_text(error)?, outputs: opt_json_text(outputs)?, now: now_ms() })
}

/// Checks and serialises one write before the write lock is taken.
pub(crate) fn prepare(write: &RunWrite) -> Result<Prepared> {
    Ok(match write {
        RunWrite::Start { run, now_ms } => Prepared::Start(prepare_start(run, *now_ms)?),
        RunWrite::Record(fence, entry) => {
            Prepared::Record { fence: fence.clone(), row: prepare_record(entry)? }
        }
        RunWrite::Respond(fence, response) => {
            Prepared::Respond { fence: fence.clone(), response: serde_json::to_string(response)? }
        }
        RunWrite::Finish { fence, status, error, outputs } => Prepared::Finish {
            fence: fence.clone(),
            end: prepare_end(*status, error.as_ref(), outputs.as_ref())?,
        },
        RunWrite::Whole(whole) => Prepared::Whole {
            start: prepare_start(&whole.run, whole.now_ms)?,
            end: prepare_end(whole.status, whole.error.as_ref(), whole.outputs.as_ref())?,
            response: opt_json_text(whole.response.as_ref())?,
            records: whole.records.iter().map(prepare_record).collect::<Result<_>>()?,
        },
    })
}

/// Inserts a run `Running` under a lease, if its flow is enabled and has the revision.
const START_SQL: &str = "INSERT INTO runs (id, flow_id, revision, status, trigger_outputs, lease_owner, \
     lease_until_ms, lease_token, attempts, created_ms, started_ms) \
     SELECT $1, r.flow_id, r.revision, 'Running', $4, $5, $6, 1, 1, $7, $7 FROM flow_revisions r \
     JOIN flows f ON f.id = r.flow_id WHERE r.flow_id = $2 AND r.revision = $3 AND f.enabled RETURNING id";

/// Inserts a run that already ended (its lease token spent), if its flow is enabled and has the
/// revision.
const WHOLE_SQL: &str = "INSERT INTO runs (id, flow_id, revision, status, trigger_outputs, response, \
     error, outputs, lease_token, attempts, created_ms, started_ms, ended_ms) \
     SELECT $1, r.flow_id, r.revision, $4, $5, $6, $7, $8, 1, 1, $9, $9, $10 FROM flow_revisions r \
     JOIN flows f ON f.id = r.flow_id WHERE r.flow_id = $2 AND r.revision = $3 AND f.enabled RETURNING id";

/// Records an action of a run inserted just before in the same transaction.
const NEW_RECORD_SQL: &str = concat!(
    "INSERT INTO run_actions (run_id, action_key, name, iteration, status, inputs, outputs, error, \
     started_ms, ended_ms, attempts, pending) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    replace_record!(),
    " RETURNING run_id"
);

/// Stores the response of a running run.
const RESPOND_SQL: &str = concat!("UPDATE runs SET response = $3", fenced!(), " RETURNING id");

/// Ends a running run.
const FINISH_SQL: &str = concat!(
    "UPDATE runs SET status = $3, error = $4, outputs = $5, ended_ms = $6, wake_ms = NULL, \
     lease_owner = NULL, lease_until_ms = NULL",
    fenced!(),
    " RETURNING id"
);

impl RecordRow {
    /// The record's values after the run id (and, for a fenced record, the lease token).
    fn params<'a>(&'a self, run: &'a RunId, token: Option<i64>) -> Vec<Param<'a>> {
        use Param::{Int, OptInt, OptText, Text};
        let mut params = vec![Text(run.as_str())];
        params.extend(token.map(Int));
        params.extend([
            Text(&self.key),
            Text(&self.name),
            Text(&self.iteration),
            Text(&self.status),
            Text(&self.inputs),
            Text(&self.outputs),
            OptText(self.error.as_deref()),
            Int(self.started),
            OptInt(self.ended),
            Int(self.attempts),
            OptText(self.pending.as_deref()),
        ]);
        params
    }
}

impl Prepared {
    /// The statements, in order, with their values (on PostgreSQL, `pg`, a record locks its run
    /// `FOR SHARE`). The first statement's row tells the outcome; when it has none, the rest are
    /// not run.
    pub(crate) fn statements(&self, pg: bool) -> Vec<Statement<'_>> {
        use Param::{Int, OptText, Text};
        match self {
            Prepared::Start(start) => vec![(
                START_SQL,
                vec![
                    Text(start.run.as_str()),
                    Text(start.flow.as_str()),
                    Int(start.revision),
                    Text(&start.trigger),
                    Text(&start.node),
                    Int(start.until),
                    Int(start.now),
                ],
            )],
            Prepared::Record { fence, row } => {
                let sql = if pg { record_sql!(" FOR SHARE") } else { record_sql!("") };
                vec![(sql, row.params(&fence.run, Some(fence.token)))]
            }
            Prepared::Respond { fence, response } => {
                vec![(RESPOND_SQL, vec![Text(fence.run.as_str()), Int(fence.token), Text(response)])]
            }
            Prepared::Finish { fence, end } => vec![(
                FINISH_SQL,
                vec![
                    Text(fence.run.as_str()),
                    Int(fence.token),
                    Text(end.status.as_str()),
                    OptText(end.error.as_deref()),
                    OptText(end.outputs.as_deref()),
                    Int(end.now),
                ],
            )],
            Prepared::Whole { start, end, response, records } => {
                let run = vec![
                    Text(start.run.as_str()),
                    Text(start.flow.as_str()),
                    Int(start.revision),
                    Text(end.status.as_str()),
                    Text(&start.trigger),
                    OptText(response.as_deref()),
                    OptText(end.error.as_deref()),
                    OptText(end.outputs.as_deref()),
                    Int(start.now),
                    Int(end.now),
                ];
                let mut statements = vec![(WHOLE_SQL, run)];
                statements.extend(records.iter().map(|row| (NEW_RECORD_SQL, row.params(&start.run, None))));
                statements
            }
        }
    }

    /// What the first statement's returned row (`None`: no row matched) means: only a missing row
    /// (lease lost, flow disabled) is a per-write error.
    pub(crate) fn outcome(&self, row: Option<&impl Cols>) -> Result<Written> {
        match (self, row) {
            (Prepared::Start(_), Some(_)) => Ok(Written::Started),
            (Prepared::Record { .. }, Some(row)) => {
                Ok(Written::Recorded { cancel_requested: row.flag("cancel_requested")? })
            }
            (Prepared::Respond { .. }, Some(_)) => Ok(Written::Responded),
            (Prepared::Finish { .. } | Prepared::Whole { .. }, Some(_)) => Ok(Written::Finished),
            (Prepared::Start(start) | Prepared::Whole { start, .. }, None) => Err(StoreError::invalid(
                "flow",
                format!(
                    "`{}` at revision {} is missing or disabled and starts no run",
                    start.flow, start.revision
                ),
            )),
            (
                Prepared::Record { fence, .. }
                | Prepared::Respond { fence, .. }
                | Prepared::Finish { fence, .. },
                None,
            ) => Err(StoreError::LeaseLost { id: fence.run.to_string() }),
        }
    }
}

/// Applies one prepared write in the transaction `$tx`; evaluates to `Result<Written>`, while a
/// database error ends the batch through `?`.
macro_rules! apply {
    ($tx:ident, $pg:expr, $prepared:expr) => {{
        let prepared: &Prepared = $prepared;
        let mut settled = Settled::default();
        for (sql, params) in prepared.statements($pg) {
            let mut query = sqlx::query(sql);
            for param in params {
                query = match param {
                    Param::Text(text) => query.bind(text),
                    Param::OptText(text) => query.bind(text),
                    Param::Int(int) => query.bind(int),
                    Param::OptInt(int) => query.bind(int),
                };
            }
            let row = query.fetch_optional(&mut *$tx).await?;
            if !settled.take(prepared, row.as_ref()) {
                break;
            }
        }
        settled.outcome()
    }};
}

/// A write's outcome as its statements run: the first statement's row decides it, and when that
/// is a per-write error the rest are not run.
#[derive(Default)]
pub(crate) struct Settled(Option<Result<Written>>);

impl Settled {
    /// Takes the row of `write`'s next statement; `false` when its remaining statements must not run.
    pub(crate) fn take(&mut self, write: &Prepared, row: Option<&impl Cols>) -> bool {
        match &self.0 {
            Some(_) => true,
            None => {
                let first = write.outcome(row);
                let go_on = first.is_ok();
                self.0 = Some(first);
                go_on
            }
        }
    }

    /// The write's outcome.
    pub(crate) fn outcome(self) -> Result<Written> {
        self.0.unwrap_or_else(|| Err(not_applied()))
    }
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
            let ready: Vec<Prepared> = prepared.into_iter().flatten().collect();
            let applied = match self.store.run_write_thread() {
                Some(thread) => thread.apply(ready).await?,
                None => {
                    let pg = self.store.backend() == Backend::Postgres;
                    in_tx!(&self.store.db, tx => {
                        let mut applied = Vec::with_capacity(ready.len());
                        for write in &ready {
                            applied.push(apply!(tx, pg, write));
                        }
                        applied
                    })
                }
            };
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
    /// claim): for a run the receiving node executes itself. Returns the lease (its run as
    /// stored).
    pub async fn start_run(self, run: StartRun) -> Result<RunLease> {
        let now = now_ms();
        let lease = run.lease(now);
        match self.write_run(RunWrite::Start { run, now_ms: now }).await? {
            Written::Started => Ok(lease),
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
    /// outputs; the lease is released. Returns the run as it ended.
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
            Written::Finished => self.get_run(&lease.run.id).await,
            other => Err(StoreError::invalid("write", format!("unexpected outcome {other:?}"))),
        }
    }
}
