//! Callers waiting for runs on this node (`POST /api/flows/{id}/run` until the `Response`), woken
//! per run: a run that stores its response or finishes wakes only its own callers, which then read
//! it once. (One wake for all waiters made every waiting caller re-read its run whenever any run
//! changed: at 32 callers, about 8 reads of the run per run, a third of a run's statements.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use patchbay_store::RunId;
use tokio::sync::Notify;

/// The runs that callers on this node wait for, each with its wake and number of callers.
#[derive(Default)]
pub struct RunWaiters {
    waiting: Mutex<HashMap<String, (Arc<Notify>, usize)>>,
}

/// One caller's interest in a run; it ends when this is dropped.
pub struct Watch<'a> {
    waiters: &'a RunWaiters,
    run: String,
    wake: Arc<Notify>,
}

impl RunWaiters {
    /// Starts watching `run`: [`Watch::wake`] is woken by every [`RunWaiters::changed`] of it.
    pub fn watch(&self, run: &RunId) -> Watch<'_> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = waiting.entry(run.as_str().to_owned()).or_insert_with(|| (Arc::new(Notify::new()), 0));
        entry.1 += 1;
        Watch { waiters: self, run: run.as_str().to_owned(), wake: entry.0.clone() }
    }

    /// Wakes the callers watching `run` (its response was stored, or it finished), if any.
    pub fn changed(&self, run: &RunId) {
        let waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((wake, _)) = waiting.get(run.as_str()) {
            wake.notify_waiters();
        }
    }

    /// How many runs are watched (for tests).
    pub fn len(&self) -> usize {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no run is watched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Watch<'_> {
    /// The wake of the watched run: take `notified()` before reading the run, await it after.
    pub fn wake(&self) -> &Notify {
        &self.wake
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        let mut waiting = self.waiters.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = waiting.get_mut(&self.run) {
            entry.1 -= 1;
            if entry.1 == 0 {
                waiting.remove(&self.run);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_change_wakes_only_the_callers_of_that_run() {
        let waiters = RunWaiters::default();
        let (a, b) = (RunId::from("run-a"), RunId::from("run-b"));
        let watch_a = waiters.watch(&a);
        let watch_b = waiters.watch(&b);
        let (woken_a, woken_b) = (watch_a.wake().notified(), watch_b.wake().notified());
        waiters.changed(&a);
        tokio::time::timeout(Duration::from_secs(1), woken_a).await.expect("run-a's caller is woken");
        let slept = tokio::time::timeout(Duration::from_millis(50), woken_b).await;
        assert!(slept.is_err(), "run-b's caller sleeps on");
    }

    #[test]
    fn a_run_is_forgotten_when_its_last_caller_leaves() {
        let waiters = RunWaiters::default();
        let run = RunId::from("run-a");
        let first = waiters.watch(&run);
        let second = waiters.watch(&run);
        drop(first);
        assert_eq!(waiters.len(), 1, "one caller still waits");
        drop(second);
        assert!(waiters.is_empty());
        waiters.changed(&run);
    }
}
