//! Claiming runs. Runnable is `Queued`, `Waiting` whose wake time has come, or `Running` whose lease
//! ran out (its node died: another node takes the run over and resumes it from its journal).
//!
//! One claim, in one transaction: the flows that have runnable runs, oldest first, each with its
//! live runs counted; from each, by index, its oldest runnable runs up to its free slots (a flow
//! without a limit: up to the claim's size); the oldest of those claimed together. The cost
//! follows the number of flows with runnable runs, not the length of their queues.
//!
//! A flow's concurrency limit holds across nodes: PostgreSQL first locks the rows of the limited
//! flows that have runnable runs (`FOR NO KEY UPDATE`, which enqueueing's foreign key check, a
//! key-share lock, does not wait for), counts their live runs after that, and claims the runs
//! themselves with `FOR UPDATE SKIP LOCKED`; SQLite's one write lock serialises claims.
//!
//! Runs of a disabled flow are still claimed: disabling a flow stops new runs, not those under way.

use std::collections::HashSet;

use super::Flows;
use super::queue::RunLease;
use super::runs::{run_columns, run_from};
use crate::dialect::{Backend, Cols, in_tx};
use crate::error::Result;
use crate::leases::lease_terms;

/// The most runs one call of [`Flows::claim_runs`] claims.
pub const MAX_CLAIM_RUNS: i64 = 100;

/// The condition that a `runs` row (with the partial index's status filter, so that the index on
/// unfinished runs serves it) may be claimed at time `$now`.
macro_rules! runnable {
    ($now:literal) => {
        concat!(
            "status IN ('Queued', 'Waiting', 'Running') AND (status = 'Queued' OR (status = 'Waiting' \
             AND wake_ms <= ",
            $now,
            ") OR (status = 'Running' AND lease_until_ms < ",
            $now,
            "))"
        )
    };
}

/// PostgreSQL: locks the limited flows that have runnable runs at `$1`, in id order.
const PG_LOCK_LIMITED_FLOWS: &str = concat!(
    "SELECT f.id FROM flows f WHERE f.concurrency IS NOT NULL AND EXISTS (SELECT 1 FROM runs ",
    "WHERE runs.flow_id = f.id AND ",
    runnable!("$1"),
    ") ORDER BY f.id FOR NO KEY UPDATE"
);

/// The flows with runnable runs at `$1`, by their oldest runnable run: id, limit, that run's
/// creation time, and (limited flows) how many runs are `Running` with a live lease.
const RUNNABLE_FLOWS: &str = concat!(
    "SELECT id, concurrency, oldest, live FROM (SELECT f.id, f.concurrency, ",
    "(SELECT created_ms FROM runs WHERE runs.flow_id = f.id AND ",
    runnable!("$1"),
    " ORDER BY created_ms, id LIMIT 1) AS oldest, ",
    "CASE WHEN f.concurrency IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM runs WHERE runs.flow_id = f.id ",
    "AND status = 'Running' AND lease_until_ms >= $1) END AS live FROM flows f) candidates ",
    "WHERE oldest IS NOT NULL ORDER BY oldest, id"
);

/// The oldest runnable runs of flow `$1` at `$2`, at most `$3`.
const OLDEST_RUNNABLE: &str = concat!(
    "SELECT id, created_ms FROM runs WHERE flow_id = $1 AND ",
    runnable!("$2"),
    " ORDER BY created_ms, id LIMIT $3"
);

/// The claim, for node `$1` until `$2` at time `$3`, of the runs whose ids `$4` lists as a JSON
/// array (`$list` turns it into rows), those still runnable; `$lock` is the engine's row-locking
/// clause.
macro_rules! claim_sql {
    ($list:literal, $lock:literal) => {
        concat!(
            "UPDATE runs SET status = 'Running', started_ms = COALESCE(started_ms, $3), wake_ms = NULL, \
             lease_owner = $1, lease_until_ms = $2, lease_token = lease_token + 1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM runs WHERE id IN (",
            $list,
            ") AND ",
            runnable!("$3"),
            $lock,
            ") RETURNING ",
            run_columns!()
        )
    };
}

/// A flow with runnable runs: id, concurrency limit, oldest runnable run's time, live runs.
type RunnableFlow = (String, Option<i64>, i64, i64);

/// How many runs to take from `flow`: its free slots (none for a limited flow whose row this
/// claim did not lock, on PostgreSQL), or for a flow without a limit, the whole claim.
fn slots(flow: &RunnableFlow, locked: Option<&HashSet<String>>, limit: i64) -> i64 {
    let (id, concurrency, _, live) = flow;
    match concurrency {
        None => limit,
        Some(_) if locked.is_some_and(|locked| !locked.contains(id)) => 0,
        Some(concurrency) => (concurrency - live).clamp(0, limit),
    }
}

/// Whether the picks (sorted, at most `limit`) are complete before a flow whose oldest runnable run
/// was created at `oldest`: they are `limit` runs all older than it.
fn complete_before(picked: &[(i64, String)], limit: i64, oldest: i64) -> bool {
    usize::try_from(limit).is_ok_and(|limit| picked.len() >= limit)
        && picked.last().is_some_and(|(created, _)| *created < oldest)
}

/// Keeps the `limit` oldest picks, sorted.
fn keep_oldest(picked: &mut Vec<(i64, String)>, limit: i64) {
    picked.sort_unstable();
    picked.truncate(usize::try_from(limit).unwrap_or(0));
}

/// Maps a claimed row to a lease.
fn lease_from(row: &impl Cols, node: &str, until_ms: i64) -> Result<RunLease> {
    Ok(RunLease { run: run_from(row)?, token: row.int("lease_token")?, node: node.to_owned(), until_ms })
}

impl Flows<'_> {
    /// Claims up to `limit` (at most [`MAX_CLAIM_RUNS`]) runnable runs at `now_ms`, oldest first,
    /// for `node` for `lease_ms`: each becomes `Running` (started now if it never ran), with the
    /// lease, its token + 1 and its attempts + 1. A flow never has more `Running` runs with a live
    /// lease than its concurrency limit, however many nodes claim at once.
    pub async fn claim_runs(
        self,
        node: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<RunLease>> {
        let (node, until) = lease_terms(node, now_ms, lease_ms)?;
        let limit = limit.min(MAX_CLAIM_RUNS);
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let pg = self.store.backend() == Backend::Postgres;
        let claim = if pg {
            claim_sql!("SELECT json_array_elements_text($4::json)", " ORDER BY id FOR UPDATE SKIP LOCKED")
        } else {
            claim_sql!("SELECT value FROM json_each($4)", "")
        };
        let mut leases = in_tx!(&self.store.db, tx => {
            let locked: Option<HashSet<String>> = if pg {
                let ids: Vec<String> =
                    sqlx::query_scalar(PG_LOCK_LIMITED_FLOWS).bind(now_ms).fetch_all(&mut *tx).await?;
                Some(ids.into_iter().collect())
            } else {
                None
            };
            let flows: Vec<RunnableFlow> = sqlx::query_as(RUNNABLE_FLOWS).bind(now_ms).fetch_all(&mut *tx).await?;
            let mut picked: Vec<(i64, String)> = Vec::new();
            for flow in &flows {
                let take = slots(flow, locked.as_ref(), limit);
                if take == 0 {
                    continue;
                }
                keep_oldest(&mut picked, limit);
                if complete_before(&picked, limit, flow.2) {
                    break;
                }
                let rows: Vec<(String, i64)> = sqlx::query_as(OLDEST_RUNNABLE)
                    .bind(flow.0.as_str())
                    .bind(now_ms)
                    .bind(take)
                    .fetch_all(&mut *tx)
                    .await?;
                picked.extend(rows.into_iter().map(|(id, created)| (created, id)));
            }
            keep_oldest(&mut picked, limit);
            if picked.is_empty() {
                Vec::new()
            } else {
                let ids = serde_json::to_string(&picked.iter().map(|(_, id)| id).collect::<Vec<_>>())?;
                let rows = sqlx::query(claim)
                    .bind(node)
                    .bind(until)
                    .bind(now_ms)
                    .bind(ids)
                    .fetch_all(&mut *tx)
                    .await?;
                rows.iter().map(|row| lease_from(row, node, until)).collect::<Result<Vec<_>>>()?
            }
        });
        leases.sort_by(|a, b| (a.run.created_ms, &a.run.id).cmp(&(b.run.created_ms, &b.run.id)));
        Ok(leases)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(id: &str, concurrency: Option<i64>, live: i64) -> RunnableFlow {
        (id.to_owned(), concurrency, 0, live)
    }

    #[test]
    fn slots_are_the_free_part_of_the_limit() {
        assert_eq!(slots(&flow("a", None, 0), None, 10), 10);
        assert_eq!(slots(&flow("a", Some(3), 1), None, 10), 2);
        assert_eq!(slots(&flow("a", Some(3), 1), None, 1), 1);
        assert_eq!(slots(&flow("a", Some(2), 5), None, 10), 0, "a lowered limit leaves no slot");
        let locked: HashSet<String> = ["a".to_owned()].into();
        assert_eq!(slots(&flow("a", Some(3), 0), Some(&locked), 10), 3);
        assert_eq!(slots(&flow("b", Some(3), 0), Some(&locked), 10), 0, "not locked: not claimed");
        assert_eq!(slots(&flow("b", None, 0), Some(&locked), 10), 10, "no limit, no lock needed");
    }

    #[test]
    fn picks_stop_once_the_oldest_are_known() {
        let mut picked = vec![(5, "e".to_owned()), (1, "a".to_owned()), (3, "c".to_owned())];
        keep_oldest(&mut picked, 2);
        assert_eq!(picked, [(1, "a".to_owned()), (3, "c".to_owned())]);
        assert!(complete_before(&picked, 2, 4));
        assert!(!complete_before(&picked, 2, 3), "a run of the same millisecond may sort first");
        assert!(!complete_before(&picked, 3, 9), "not enough yet");
    }

    #[test]
    fn the_claim_differs_between_engines_only_in_its_list_and_locking() {
        let sqlite = claim_sql!("SELECT value FROM json_each($4)", "");
        let postgres =
            claim_sql!("SELECT json_array_elements_text($4::json)", " ORDER BY id FOR UPDATE SKIP LOCKED");
        let same = postgres
            .replace("SELECT json_array_elements_text($4::json)", "SELECT value FROM json_each($4)")
            .replace(" ORDER BY id FOR UPDATE SKIP LOCKED", "");
        assert_eq!(same, sqlite);
        assert!(sqlite.contains("wake_ms <= $3") && sqlite.contains("lease_until_ms < $3"));
        assert!(PG_LOCK_LIMITED_FLOWS.contains("wake_ms <= $1") && OLDEST_RUNNABLE.contains("wake_ms <= $2"));
    }
}
