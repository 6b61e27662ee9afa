//! The run queue: nodes' workers claim runnable runs ([`claim`](super::claim)) with time-bound
//! leases, like the triggers' polling schedule, then renew, park, answer and finish them here.
//! Every claim increments the run's fencing token, and every write of the worker (journal,
//! response, renew, suspend, finish) presents it: a worker whose run was taken over, suspended or
//! finished gets [`StoreError::LeaseLost`] and writes nothing.

use super::Flows;
use super::runs::{Run, run_columns, run_from};
use crate::dialect::on_db;
use crate::error::{Result, StoreError};
use crate::ids::{RunId, now_ms};

/// A node's claim on a run, valid until `until_ms` (or until renewed).
#[derive(Debug, Clone, PartialEq)]
pub struct RunLease {
    /// The run as it was claimed.
    pub run: Run,
    /// The fencing token: every write of the worker must present it.
    pub token: i64,
    /// The node that holds the lease.
    pub node: String,
    /// When the lease runs out (epoch ms).
    pub until_ms: i64,
}

/// The fence of every write of a worker: `$1` the run, `$2` the token.
macro_rules! fenced {
    () => {
        " WHERE id = $1 AND lease_token = $2 AND status = 'Running'"
    };
}
pub(super) use fenced;

/// The error of a fenced write that matched no row.
fn lost(lease: &RunLease) -> StoreError {
    StoreError::LeaseLost { id: lease.run.id.to_string() }
}

/// Runs the fenced `UPDATE … RETURNING` `$sql` for lease `$lease` with the extra binds; evaluates
/// to the updated run or [`StoreError::LeaseLost`].
macro_rules! fenced_update {
    ($self:ident, $lease:expr, $sql:expr $(, $bind:expr)*) => {{
        let lease: &RunLease = $lease;
        let updated = on_db!(&$self.store.db, pool => {
            let row = sqlx::query($sql)
                .bind(lease.run.id.as_str())
                .bind(lease.token)
                $(.bind($bind))*
                .fetch_optional(pool)
                .await?;
            row.map(|row| run_from(&row)).transpose()?
        });
        updated.ok_or_else(|| lost(lease))
    }};
}

impl Flows<'_> {
    /// Extends a lease to `until_ms`; returns whether a cancel of the run was requested.
    /// [`StoreError::LeaseLost`] when the lease is no longer the run's.
    pub async fn renew_run(self, lease: &RunLease, until_ms: i64) -> Result<bool> {
        let renewed: Option<bool> = on_db!(&self.store.db, pool => {
            sqlx::query_scalar(concat!(
                "UPDATE runs SET lease_owner = $3, lease_until_ms = $4",
                fenced!(),
                " RETURNING cancel_requested"
            ))
            .bind(lease.run.id.as_str())
            .bind(lease.token)
            .bind(lease.node.as_str())
            .bind(until_ms)
            .fetch_optional(pool)
            .await?
        });
        renewed.ok_or_else(|| lost(lease))
    }

    /// Parks the run until `wake_ms` (a long-running action or a `Wait`): it becomes `Waiting` and
    /// the lease is released; any node claims it again once the time has come. A run whose cancel
    /// was requested meanwhile ends `Cancelled` instead, as [`Flows::cancel_run`] does to a waiting
    /// run; the returned run says which.
    pub async fn suspend_run(self, lease: &RunLease, wake_ms: i64) -> Result<Run> {
        fenced_update!(
            self,
            lease,
            concat!(
                "UPDATE runs SET status = CASE WHEN cancel_requested THEN 'Cancelled' ELSE 'Waiting' END, \
                 wake_ms = CASE WHEN cancel_requested THEN NULL ELSE $3 END, \
                 ended_ms = CASE WHEN cancel_requested THEN $4 ELSE NULL END, \
                 lease_owner = NULL, lease_until_ms = NULL",
                fenced!(),
                " RETURNING ",
                run_columns!()
            ),
            wake_ms,
            now_ms()
        )
    }

    /// Cancels a run: a queued or waiting one ends `Cancelled` at once; a running one gets
    /// `cancel_requested`, which its worker sees (from [`Flows::record_action`],
    /// [`Flows::renew_run`] or [`Flows::get_run`]) and then finishes it as `Cancelled`. A finished
    /// run is refused ([`StoreError::Invalid`]).
    pub async fn cancel_run(self, id: &RunId) -> Result<Run> {
        let cancelled = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!(
                "UPDATE runs SET cancel_requested = TRUE, \
                 status = CASE WHEN status = 'Running' THEN status ELSE 'Cancelled' END, \
                 ended_ms = CASE WHEN status = 'Running' THEN ended_ms ELSE $2 END, \
                 wake_ms = CASE WHEN status = 'Running' THEN wake_ms ELSE NULL END \
                 WHERE id = $1 AND status IN ('Queued', 'Waiting', 'Running') RETURNING ",
                run_columns!()
            ))
            .bind(id.as_str())
            .bind(now_ms())
            .fetch_optional(pool)
            .await?;
            row.map(|row| run_from(&row)).transpose()?
        });
        match cancelled {
            Some(run) => Ok(run),
            None => {
                let run = self.get_run(id).await?;
                Err(StoreError::invalid(
                    "run",
                    format!(
                        "`{id}` has already finished ({}); only an unfinished run can be cancelled",
                        run.status.as_str()
                    ),
                ))
            }
        }
    }

    /// When a run may next become claimable, for a worker's sleep: a queued run's creation time
    /// (at or before now: at once), a waiting run's wake time, just after a running run's lease
    /// runs out; for a flow at its concurrency limit, just after the first lease of its running
    /// runs runs out. `None` when no run is unfinished. A run finishing on another node frees a
    /// slot without notice: cap the sleep.
    pub async fn earliest_runnable(self) -> Result<Option<i64>> {
        on_db!(&self.store.db, pool => {
            Ok(sqlx::query_scalar(
                "WITH per_flow AS (SELECT flow_id, \
                 SUM(CASE WHEN status = 'Running' THEN 1 ELSE 0 END) AS running, \
                 MIN(CASE WHEN status = 'Running' THEN lease_until_ms + 1 END) AS first_expiry, \
                 MIN(CASE WHEN status = 'Queued' THEN created_ms WHEN status = 'Waiting' THEN wake_ms \
                 ELSE lease_until_ms + 1 END) AS due \
                 FROM runs WHERE status IN ('Queued', 'Waiting', 'Running') GROUP BY flow_id) \
                 SELECT MIN(CASE WHEN f.concurrency IS NOT NULL AND p.running >= f.concurrency \
                 THEN p.first_expiry ELSE p.due END) FROM per_flow p JOIN flows f ON f.id = p.flow_id",
            )
            .fetch_one(pool)
            .await?)
        })
    }
}
