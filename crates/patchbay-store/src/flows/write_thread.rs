//! SQLite's run-write thread: one OS thread with its own connection to the database file applies
//! each batch of run writes ([`super::Flows::write_runs`]) in one `BEGIN IMMEDIATE` transaction.
//!
//! Why a thread of its own: the SQLite driver of the rest of the store hands every statement to
//! its connection's thread and the answer back, two thread switches per statement, which cost a
//! run more than SQLite itself (a batch of 30 runs is about 150 statements). Here a batch crosses
//! threads once each way, its statements run back to back, and the commit's fsync (`synchronous =
//! FULL`, as on the pool) blocks this thread, never the async runtime. Writers from the pool and
//! this thread share SQLite's one write lock through the same busy timeout.
//!
//! An in-memory database (no file) has no thread: its writes go through the pool.

use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::Written;
use super::batch::{Param, Prepared, Settled};
use crate::dialect::sqlite_side_connection;
use crate::error::{Result, StoreError};

/// The placeholders of the statements' values, in order (SQLite numbers named parameters by first
/// appearance, so they are bound by name).
const PLACEHOLDERS: [&str; 13] =
    ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13"];

/// The outcomes of one batch, or the error that rolled it back.
type BatchOutcome = Result<Vec<Result<Written>>>;

/// A batch for the thread and where its outcomes go.
struct Job {
    writes: Vec<Prepared>,
    done: oneshot::Sender<BatchOutcome>,
}

/// A handle on the run-write thread; the thread ends when the handle is dropped or closed.
pub(crate) struct WriteThread {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

impl std::fmt::Debug for WriteThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteThread")
    }
}

impl WriteThread {
    /// Opens a connection to the database file at `path` (which the pool has created and migrated)
    /// and starts the thread that owns it.
    pub(crate) fn start(path: &Path) -> Result<WriteThread> {
        let connection = open(path)?;
        let (jobs, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("patchbay-run-writes".into())
            .spawn(move || serve(connection, receiver))
            .map_err(|error| {
                StoreError::invalid("store", format!("cannot start the run-write thread: {error}"))
            })?;
        Ok(WriteThread { jobs: Mutex::new(Some(jobs)) })
    }

    /// Applies `writes` in order in one transaction on the thread.
    pub(crate) async fn apply(&self, writes: Vec<Prepared>) -> BatchOutcome {
        let (done, outcome) = oneshot::channel();
        let sent = match &*self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
            Some(jobs) => jobs.send(Job { writes, done }).is_ok(),
            None => false,
        };
        if !sent {
            return Err(stopped());
        }
        outcome.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Lets the thread finish the batches it has and end, closing its connection.
    pub(crate) fn close(&self) {
        self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    }
}

/// The error once the thread is gone.
fn stopped() -> StoreError {
    StoreError::invalid("store", "the run-write thread has stopped (the store was closed)")
}

/// A connection with the pool's settings: its busy timeout, FULL sync, foreign keys.
fn open(path: &Path) -> Result<Connection> {
    let connection = sqlite_side_connection(path)?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    Ok(connection)
}

/// The thread's loop: one transaction per batch, until every handle is gone.
fn serve(mut connection: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        let _ = job.done.send(apply_batch(&mut connection, &job.writes));
    }
}

/// Applies a batch in one transaction; a database error rolls it all back.
fn apply_batch(connection: &mut Connection, writes: &[Prepared]) -> BatchOutcome {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes {
        outcomes.push(apply_one(&tx, write)?);
    }
    tx.commit()?;
    Ok(outcomes)
}

/// Applies one write; `Err` only for a database error, the write's own outcome otherwise.
fn apply_one(connection: &Connection, write: &Prepared) -> Result<Result<Written>> {
    let mut settled = Settled::default();
    for (sql, params) in write.statements(false) {
        let mut statement = connection.prepare_cached(sql)?;
        for (name, param) in PLACEHOLDERS.iter().zip(&params) {
            let Some(position) = statement.parameter_index(name)? else { continue };
            match param {
                Param::Text(text) => statement.raw_bind_parameter(position, text)?,
                Param::OptText(text) => statement.raw_bind_parameter(position, text)?,
                Param::Int(int) => statement.raw_bind_parameter(position, int)?,
                Param::OptInt(int) => statement.raw_bind_parameter(position, int)?,
            }
        }
        let mut rows = statement.raw_query();
        if !settled.take(write, rows.next()?) {
            break;
        }
    }
    Ok(settled.outcome())
}

crate::dialect::impl_cols!(rusqlite::Row<'_>, get);
