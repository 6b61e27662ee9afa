//! The run journal: the action records a host stored, looked up by action and iteration.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::exec::lock;
use super::{ActionRecord, RunObserver};

/// The records stored for one run, as [`super::resume_flow`] consults them.
pub trait RunJournal: Send + Sync {
    /// The latest record of action `name` in loop iteration `iteration` (outermost first; empty
    /// outside loops), if one was stored.
    fn recorded(&self, name: &str, iteration: &[usize]) -> Option<ActionRecord>;

    /// When the run first started (`trigger().startTime`, the run record's start), if the host
    /// knows it; otherwise the resume's start is used.
    fn run_started(&self) -> Option<DateTime<Utc>> {
        None
    }
}

type Key = (String, Vec<usize>);

/// A journal in memory; it is also an observer, so it can collect a run's records as they come.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    records: Mutex<HashMap<Key, ActionRecord>>,
    started: Option<DateTime<Utc>>,
}

impl MemoryJournal {
    /// A journal of `records`, in the order they were reported (a later record of the same action
    /// and iteration replaces an earlier one, e.g. `Waiting` then `Succeeded`).
    pub fn new(records: impl IntoIterator<Item = ActionRecord>) -> Self {
        let journal = MemoryJournal::default();
        for record in records {
            journal.add(record);
        }
        journal
    }

    /// Sets the run's first start.
    pub fn with_run_started(mut self, started: DateTime<Utc>) -> Self {
        self.started = Some(started);
        self
    }

    /// Adds (or replaces) a record.
    pub fn add(&self, record: ActionRecord) {
        lock(&self.records).insert((record.name.clone(), record.iteration.clone()), record);
    }

    /// How many actions (per iteration) have a record.
    pub fn len(&self) -> usize {
        lock(&self.records).len()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<ActionRecord>> for MemoryJournal {
    fn from(records: Vec<ActionRecord>) -> Self {
        MemoryJournal::new(records)
    }
}

impl RunJournal for MemoryJournal {
    fn recorded(&self, name: &str, iteration: &[usize]) -> Option<ActionRecord> {
        lock(&self.records).get(&(name.to_string(), iteration.to_vec())).cloned()
    }

    fn run_started(&self) -> Option<DateTime<Utc>> {
        self.started
    }
}

impl RunObserver for MemoryJournal {
    fn action_finished(&self, record: &ActionRecord) {
        self.add(record.clone());
    }
}

/// Two journals: the first's record wins.
pub(crate) struct Layered<'a>(pub &'a dyn RunJournal, pub &'a dyn RunJournal);

impl RunJournal for Layered<'_> {
    fn recorded(&self, name: &str, iteration: &[usize]) -> Option<ActionRecord> {
        self.0.recorded(name, iteration).or_else(|| self.1.recorded(name, iteration))
    }

    fn run_started(&self) -> Option<DateTime<Utc>> {
        self.0.run_started().or_else(|| self.1.run_started())
    }
}

/// Two observers, told in turn.
pub(crate) struct Both<'a>(pub &'a dyn RunObserver, pub &'a dyn RunObserver);

impl RunObserver for Both<'_> {
    fn action_finished(&self, record: &ActionRecord) {
        self.0.action_finished(record);
        self.1.action_finished(record);
    }
}

/// An observer that ignores everything.
pub(crate) struct NoObserver;

impl RunObserver for NoObserver {
    fn action_finished(&self, _record: &ActionRecord) {}
}
