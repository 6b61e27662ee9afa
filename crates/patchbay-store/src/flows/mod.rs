//! Flows: workflow definitions (Logic Apps JSON) whose every revision is kept, so that a run goes
//! on with the revision it started with; their durable [`Run`]s; the run queue that any node's
//! worker claims from with time-bound leases and fencing tokens ([`RunLease`]); each run's journal
//! of actions ([`ActionEntry`]), which lets a resumed run skip the actions that already finished;
//! and the step that turns a flow's trigger events into runs exactly once.

mod batch;
mod claim;
mod events;
mod journal;
mod queue;
mod runs;
mod write_thread;

use serde::Serialize;
use serde_json::Value;

use crate::Store;
use crate::dialect::{Cols, in_tx, on_db};
use crate::error::{Result, StoreError, unique_as_exists};
use crate::ids::{EnvironmentId, FlowId, TriggerId, UserId, check_name, name_key, now_ms};

pub use batch::{Fence, RunWrite, StartRun, WholeRun, Written};
pub use claim::MAX_CLAIM_RUNS;
pub use events::MAX_EVENTS_PER_CALL;
pub use journal::ActionEntry;
pub use queue::RunLease;
pub use runs::{MAX_RUNS_PER_PAGE, Run, RunStatus};
pub(crate) use write_thread::WriteThread;

/// The most characters of a flow name.
const MAX_NAME_CHARS: usize = 200;

/// A flow to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFlow {
    /// The environment; the owner must be in it.
    pub environment_id: EnvironmentId,
    /// The user the flow belongs to.
    pub owner_id: UserId,
    /// Its name, unique (case-insensitively) in the environment.
    pub name: String,
    /// The workflow definition (a JSON object, Logic Apps schema).
    pub definition: Value,
    /// Connection reference name → connection id (a JSON object of strings).
    pub connections: Value,
    /// The most runs Running at once; `None` for no limit.
    pub concurrency: Option<i64>,
}

/// A flow, with its current revision's definition and connections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    /// Identifier.
    pub id: FlowId,
    /// The environment.
    pub environment_id: EnvironmentId,
    /// The owner.
    pub owner_id: UserId,
    /// Name, unique in the environment.
    pub name: String,
    /// The current revision (1 for a new flow, + 1 by each update).
    pub revision: i64,
    /// The current revision's workflow definition.
    pub definition: Value,
    /// The current revision's connection references.
    pub connections: Value,
    /// The most runs Running at once; `None` for no limit.
    pub concurrency: Option<i64>,
    /// Whether new runs may start (a new flow is disabled).
    pub enabled: bool,
    /// The trigger whose events start runs, for a connector-triggered flow.
    pub trigger_id: Option<TriggerId>,
    /// The seq of the last trigger event that became a run (0 before the first).
    pub event_cursor: i64,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last change (epoch ms).
    pub updated_ms: i64,
}

/// One stored revision of a flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRevision {
    /// The revision number.
    pub revision: i64,
    /// Its workflow definition.
    pub definition: Value,
    /// Its connection references.
    pub connections: Value,
}

/// Flows, their runs, the run queue and the run journal, of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct Flows<'a> {
    store: &'a Store,
}

/// The `SELECT` of a flow joined with its current revision, as [`flow_from`] reads it.
macro_rules! flow_select {
    () => {
        "SELECT f.id, f.environment_id, f.owner_id, f.name, f.revision, r.definition, r.connections, \
         f.concurrency, f.enabled, f.trigger_id, f.event_cursor, f.created_ms, f.updated_ms \
         FROM flows f JOIN flow_revisions r ON r.flow_id = f.id AND r.revision = f.revision"
    };
}

/// Reads the flow `$id` with `$executor`; evaluates to `Option<Flow>`.
macro_rules! select_flow {
    ($executor:expr, $id:expr) => {{
        let row = sqlx::query(concat!(flow_select!(), " WHERE f.id = $1"))
            .bind($id)
            .fetch_optional($executor)
            .await?;
        row.map(|row| flow_from(&row)).transpose()?
    }};
}

/// Stores a revision: `$1` flow, `$2` revision, `$3` definition, `$4` connections, `$5` time.
const INSERT_REVISION: &str = "INSERT INTO flow_revisions (flow_id, revision, definition, connections, created_ms) \
     VALUES ($1, $2, $3, $4, $5)";

/// Maps a row selected with [`flow_select!`].
fn flow_from(row: &impl Cols) -> Result<Flow> {
    Ok(Flow {
        id: row.text("id")?.into(),
        environment_id: row.text("environment_id")?.into(),
        owner_id: row.text("owner_id")?.into(),
        name: row.text("name")?,
        revision: row.int("revision")?,
        definition: serde_json::from_str(&row.text("definition")?)?,
        connections: serde_json::from_str(&row.text("connections")?)?,
        concurrency: row.opt_int("concurrency")?,
        enabled: row.flag("enabled")?,
        trigger_id: row.opt_text("trigger_id")?.map(TriggerId::from),
        event_cursor: row.int("event_cursor")?,
        created_ms: row.int("created_ms")?,
        updated_ms: row.int("updated_ms")?,
    })
}

/// A nullable JSON column's value.
fn opt_json(text: Option<String>) -> Result<Option<Value>> {
    Ok(text.map(|text| serde_json::from_str(&text)).transpose()?)
}

/// The stored text of an optional JSON value.
fn opt_json_text(value: Option<&Value>) -> Result<Option<String>> {
    Ok(value.map(serde_json::to_string).transpose()?)
}

/// A definition and connections, checked and serialised.
fn revision_texts(definition: &Value, connections: &Value) -> Result<(String, String)> {
    if !definition.is_object() {
        return Err(StoreError::invalid(
            "definition",
            "must be a JSON object (a Logic Apps workflow definition)",
        ));
    }
    let all_ids = connections.as_object().is_some_and(|map| map.values().all(Value::is_string));
    if !all_ids {
        return Err(StoreError::invalid(
            "connections",
            "must be a JSON object mapping each connection reference name to a connection id (a string)",
        ));
    }
    Ok((serde_json::to_string(definition)?, serde_json::to_string(connections)?))
}

/// A concurrency limit: `None`, or at least 1.
fn check_concurrency(concurrency: Option<i64>) -> Result<Option<i64>> {
    match concurrency {
        Some(limit) if limit < 1 => {
            Err(StoreError::invalid("concurrency", "must be at least 1 run, or none for no limit"))
        }
        other => Ok(other),
    }
}

impl<'a> Flows<'a> {
    /// The flows of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        Flows { store }
    }

    /// Creates a flow at revision 1, disabled and without a trigger. The owner must be in the
    /// environment; the name must be free there ([`StoreError::AlreadyExists`]).
    pub async fn create(self, new: &NewFlow) -> Result<Flow> {
        let name = check_name("flow name", &new.name, MAX_NAME_CHARS)?;
        let (definition, connections) = revision_texts(&new.definition, &new.connections)?;
        let concurrency = check_concurrency(new.concurrency)?;
        let (id, now) = (FlowId::random()?, now_ms());
        let created = in_tx!(&self.store.db, tx => {
            let inserted = sqlx::query(
                "INSERT INTO flows (id, environment_id, owner_id, name, name_key, revision, concurrency, enabled, \
                 event_cursor, created_ms, updated_ms) \
                 SELECT $1, u.environment_id, u.id, $4, $5, 1, $6, FALSE, 0, $7, $7 FROM users u \
                 WHERE u.id = $3 AND u.environment_id = $2",
            )
            .bind(id.as_str())
            .bind(new.environment_id.as_str())
            .bind(new.owner_id.as_str())
            .bind(name)
            .bind(name_key(name))
            .bind(concurrency)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(unique_as_exists("flow", name))?
            .rows_affected();
            if inserted == 0 {
                let what = format!("{} in environment {}", new.owner_id, new.environment_id);
                return Err(StoreError::not_found("user", what));
            }
            sqlx::query(INSERT_REVISION)
                .bind(id.as_str())
                .bind(1_i64)
                .bind(&definition)
                .bind(&connections)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            select_flow!(&mut *tx, id.as_str())
        });
        created.ok_or_else(|| StoreError::not_found("flow", &id))
    }

    /// The flow `id`, with its current revision.
    pub async fn get(self, id: &FlowId) -> Result<Flow> {
        let found = on_db!(&self.store.db, pool => select_flow!(pool, id.as_str()));
        found.ok_or_else(|| StoreError::not_found("flow", id))
    }

    /// The flows of a user, oldest first.
    pub async fn list_for_owner(self, owner: &UserId) -> Result<Vec<Flow>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(concat!(flow_select!(), " WHERE f.owner_id = $1 ORDER BY f.created_ms, f.id"))
                .bind(owner.as_str())
                .fetch_all(pool)
                .await?;
            rows.iter().map(flow_from).collect()
        })
    }

    /// Every enabled flow, oldest first (the run worker looks for due `Recurrence` triggers).
    pub async fn list_enabled(self) -> Result<Vec<Flow>> {
        on_db!(&self.store.db, pool => {
            let sql = concat!(flow_select!(), " WHERE f.enabled = $1 ORDER BY f.created_ms, f.id");
            let rows = sqlx::query(sql).bind(true).fetch_all(pool).await?;
            rows.iter().map(flow_from).collect()
        })
    }

    /// Stores a new revision (the current one + 1) with this definition and these connections, and
    /// sets the concurrency limit. Earlier revisions stay readable with [`Flows::revision`]: runs
    /// that started on them go on with them.
    pub async fn update(
        self,
        id: &FlowId,
        definition: &Value,
        connections: &Value,
        concurrency: Option<i64>,
    ) -> Result<Flow> {
        let (definition, connections) = revision_texts(definition, connections)?;
        let concurrency = check_concurrency(concurrency)?;
        let now = now_ms();
        let updated = in_tx!(&self.store.db, tx => {
            let revision: Option<i64> = sqlx::query_scalar(
                "UPDATE flows SET revision = revision + 1, concurrency = $2, updated_ms = $3 WHERE id = $1 \
                 RETURNING revision",
            )
            .bind(id.as_str())
            .bind(concurrency)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(revision) = revision else {
                return Err(StoreError::not_found("flow", id));
            };
            sqlx::query(INSERT_REVISION)
                .bind(id.as_str())
                .bind(revision)
                .bind(&definition)
                .bind(&connections)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            select_flow!(&mut *tx, id.as_str())
        });
        updated.ok_or_else(|| StoreError::not_found("flow", id))
    }

    /// Revision `revision` of a flow.
    pub async fn revision(self, id: &FlowId, revision: i64) -> Result<FlowRevision> {
        let found = on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "SELECT revision, definition, connections FROM flow_revisions WHERE flow_id = $1 AND revision = $2",
            )
            .bind(id.as_str())
            .bind(revision)
            .fetch_optional(pool)
            .await?;
            row.map(|row| -> Result<FlowRevision> {
                Ok(FlowRevision {
                    revision: row.int("revision")?,
                    definition: serde_json::from_str(&row.text("definition")?)?,
                    connections: serde_json::from_str(&row.text("connections")?)?,
                })
            })
            .transpose()?
        });
        found.ok_or_else(|| StoreError::not_found("flow revision", format!("{id} revision {revision}")))
    }

    /// Enables or disables a flow. A disabled flow starts no new run (neither
    /// [`Flows::enqueue`] nor [`Flows::enqueue_from_events`]); its runs already queued, waiting or
    /// running still go on to their end.
    pub async fn set_enabled(self, id: &FlowId, enabled: bool) -> Result<Flow> {
        let now = now_ms();
        let updated = in_tx!(&self.store.db, tx => {
            sqlx::query("UPDATE flows SET enabled = $2, updated_ms = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(enabled)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            select_flow!(&mut *tx, id.as_str())
        });
        updated.ok_or_else(|| StoreError::not_found("flow", id))
    }

    /// Sets (or, with `None`, clears) the trigger whose events start runs of the flow; it must be in
    /// the flow's environment. A different trigger than before starts from its first stored event
    /// (the event cursor goes back to 0); setting the same one again keeps the cursor.
    pub async fn set_trigger(self, id: &FlowId, trigger: Option<&TriggerId>) -> Result<Flow> {
        let now = now_ms();
        let trigger = trigger.map(TriggerId::as_str);
        let updated = in_tx!(&self.store.db, tx => {
            let changed = sqlx::query(
                "UPDATE flows SET event_cursor = CASE WHEN trigger_id IS NOT DISTINCT FROM $2 THEN event_cursor \
                 ELSE 0 END, trigger_id = $2, updated_ms = $3 WHERE id = $1 AND ($2 IS NULL OR EXISTS \
                 (SELECT 1 FROM triggers t WHERE t.id = $2 AND t.environment_id = flows.environment_id))",
            )
            .bind(id.as_str())
            .bind(trigger)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let flow = select_flow!(&mut *tx, id.as_str());
            if changed == 0
                && let (Some(flow), Some(trigger)) = (&flow, trigger)
            {
                let what = format!("{trigger} in environment {}", flow.environment_id);
                return Err(StoreError::not_found("trigger", what));
            }
            flow
        });
        updated.ok_or_else(|| StoreError::not_found("flow", id))
    }

    /// Deletes a flow with its revisions, runs and their journals.
    pub async fn delete(self, id: &FlowId) -> Result<()> {
        let deleted = on_db!(&self.store.db, pool => {
            sqlx::query("DELETE FROM flows WHERE id = $1").bind(id.as_str()).execute(pool).await?.rows_affected()
        });
        if deleted == 0 { Err(StoreError::not_found("flow", id)) } else { Ok(()) }
    }
}
