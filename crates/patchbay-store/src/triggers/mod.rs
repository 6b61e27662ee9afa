//! Triggers: what starts flows. A trigger calls one trigger operation of a connector through a
//! connection, either by polling on a schedule kept in the database ([`schedule`](self)'s due times
//! and time-bound leases, so any node may run a due poll and a dead node's lease runs out) or by
//! receiving webhook callbacks ([`Subscription`]s with a secret in their callback URL). What a
//! trigger receives is kept as durable [`TriggerEvent`]s, written in the same transaction as the
//! polling state that produced them or the batch of callbacks that carried them.

mod events;
mod intake;
mod schedule;
mod subscriptions;

use serde::Serialize;
use serde_json::Value;

use crate::Store;
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{ConnectionId, EnvironmentId, TriggerId, UserId, check_name, now_ms};

pub use events::{EventSource, MAX_EVENTS_PER_PAGE, NewEvent, Stored, TriggerEvent};
pub use intake::Notification;
pub use schedule::{MAX_CLAIM, PollDone, PollLease};
pub use subscriptions::{Subscription, SubscriptionStatus};

/// The columns of a `triggers` row, in the order [`trigger_from`] reads them (plus the lease token).
macro_rules! trigger_columns {
    () => {
        "id, environment_id, owner_id, connection_id, operation_id, kind, inputs, recurrence_ms, split_on, \
         dedup_path, enabled, state, next_due_ms, lease_owner, lease_until_ms, lease_token, last_poll_ms, \
         last_status, last_error, created_ms, updated_ms"
    };
}
use trigger_columns;

/// How a trigger learns about new data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerKind {
    /// The platform calls the trigger operation on a recurrence (spec §5.2).
    Polling,
    /// The backend calls the platform back after a subscribe call (spec §5.3).
    Webhook,
}

impl TriggerKind {
    /// The kind's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Polling => "polling",
            TriggerKind::Webhook => "webhook",
        }
    }

    /// Reads a stored kind name.
    fn parse(text: &str) -> Result<TriggerKind> {
        match text {
            "polling" => Ok(TriggerKind::Polling),
            "webhook" => Ok(TriggerKind::Webhook),
            _ => Err(StoreError::Corrupt { column: "triggers.kind", value: text.to_owned() }),
        }
    }
}

/// The fields of a trigger to create.
#[derive(Debug, Clone)]
pub struct NewTrigger {
    /// The environment; the owner and the connection's connector must be in it.
    pub environment_id: EnvironmentId,
    /// The user the trigger runs as.
    pub owner_id: UserId,
    /// The connection whose connector has the trigger operation.
    pub connection_id: ConnectionId,
    /// The trigger operation (`operationId` with `x-ms-trigger`).
    pub operation_id: String,
    /// Polling or webhook.
    pub kind: TriggerKind,
    /// The operation's inputs, as the runtime takes them.
    pub inputs: Value,
    /// Polling recurrence in milliseconds (positive for polling triggers; ignored for webhooks).
    pub recurrence_ms: i64,
    /// The `splitOn` expression that makes one event per array item, if any.
    pub split_on: Option<String>,
    /// Where in an item the key that de-duplicates events is found, if anywhere.
    pub dedup_path: Option<String>,
}

/// A trigger with its schedule, polling state and lease.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    /// Identifier.
    pub id: TriggerId,
    /// The environment.
    pub environment_id: EnvironmentId,
    /// The user the trigger runs as.
    pub owner_id: UserId,
    /// The connection it calls through.
    pub connection_id: ConnectionId,
    /// The trigger operation.
    pub operation_id: String,
    /// Polling or webhook.
    pub kind: TriggerKind,
    /// The operation's inputs.
    pub inputs: Value,
    /// Polling recurrence in milliseconds.
    pub recurrence_ms: i64,
    /// The `splitOn` expression, if any.
    pub split_on: Option<String>,
    /// The de-duplication key path, if any.
    pub dedup_path: Option<String>,
    /// Whether it runs (a new trigger is disabled).
    pub enabled: bool,
    /// The polling state, `Null` until the first poll (or after a reset).
    pub state: Value,
    /// When the next poll is due (epoch ms); `None` when disabled or not polling.
    pub next_due_ms: Option<i64>,
    /// The node that holds the lease, if any.
    pub lease_owner: Option<String>,
    /// When the lease runs out (epoch ms), if there is one.
    pub lease_until_ms: Option<i64>,
    /// When the last poll completed (epoch ms).
    pub last_poll_ms: Option<i64>,
    /// The outcome of the last poll, as the poller named it.
    pub last_status: Option<String>,
    /// The error of the last poll, if it failed.
    pub last_error: Option<String>,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last change (epoch ms).
    pub updated_ms: i64,
}

/// Triggers, their schedule, events and webhook subscriptions, of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct Triggers<'a> {
    store: &'a Store,
}

/// Maps a row selected with [`trigger_columns!`].
fn trigger_from(row: &impl Cols) -> Result<Trigger> {
    Ok(Trigger {
        id: row.text("id")?.into(),
        environment_id: row.text("environment_id")?.into(),
        owner_id: row.text("owner_id")?.into(),
        connection_id: row.text("connection_id")?.into(),
        operation_id: row.text("operation_id")?,
        kind: TriggerKind::parse(&row.text("kind")?)?,
        inputs: serde_json::from_str(&row.text("inputs")?)?,
        recurrence_ms: row.int("recurrence_ms")?,
        split_on: row.opt_text("split_on")?,
        dedup_path: row.opt_text("dedup_path")?,
        enabled: row.flag("enabled")?,
        state: row
            .opt_text("state")?
            .map(|text| serde_json::from_str(&text))
            .transpose()?
            .unwrap_or(Value::Null),
        next_due_ms: row.opt_int("next_due_ms")?,
        lease_owner: row.opt_text("lease_owner")?,
        lease_until_ms: row.opt_int("lease_until_ms")?,
        last_poll_ms: row.opt_int("last_poll_ms")?,
        last_status: row.opt_text("last_status")?,
        last_error: row.opt_text("last_error")?,
        created_ms: row.int("created_ms")?,
        updated_ms: row.int("updated_ms")?,
    })
}

/// The stored text of a polling state: `None` for `Null`.
fn state_text(state: &Value) -> Result<Option<String>> {
    if state.is_null() { Ok(None) } else { Ok(Some(serde_json::to_string(state)?)) }
}

/// An optional expression or path, checked like a name and trimmed.
fn check_optional<'a>(field: &'static str, value: Option<&'a str>) -> Result<Option<&'a str>> {
    value.map(|value| check_name(field, value, 2000)).transpose()
}

impl<'a> Triggers<'a> {
    /// The triggers of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        Triggers { store }
    }

    /// Creates a trigger, disabled and with no due time. The owner and the connection's connector
    /// must both be in `environment_id`.
    pub async fn create(self, new: &NewTrigger) -> Result<Trigger> {
        let operation_id = check_name("operation id", &new.operation_id, 200)?;
        let split_on = check_optional("splitOn", new.split_on.as_deref())?;
        let dedup_path = check_optional("dedup path", new.dedup_path.as_deref())?;
        let least = match new.kind {
            TriggerKind::Polling => 1,
            TriggerKind::Webhook => 0,
        };
        if new.recurrence_ms < least {
            return Err(StoreError::invalid(
                "recurrence",
                format!("must be at least {least} ms for a {} trigger", new.kind.as_str()),
            ));
        }
        let (id, inputs) = (TriggerId::random()?, serde_json::to_string(&new.inputs)?);
        let created = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!(
                "INSERT INTO triggers (id, environment_id, owner_id, connection_id, operation_id, kind, inputs, \
                 recurrence_ms, split_on, dedup_path, enabled, created_ms, updated_ms) \
                 SELECT $1, k.environment_id, u.id, c.id, $5, $6, $7, $8, $9, $10, FALSE, $11, $11 \
                 FROM connections c JOIN connectors k ON k.id = c.connector_id \
                 JOIN users u ON u.id = $3 AND u.environment_id = k.environment_id \
                 WHERE c.id = $4 AND k.environment_id = $2 RETURNING ",
                trigger_columns!()
            ))
            .bind(id.as_str())
            .bind(new.environment_id.as_str())
            .bind(new.owner_id.as_str())
            .bind(new.connection_id.as_str())
            .bind(operation_id)
            .bind(new.kind.as_str())
            .bind(&inputs)
            .bind(new.recurrence_ms)
            .bind(split_on)
            .bind(dedup_path)
            .bind(now_ms())
            .fetch_optional(pool)
            .await?;
            row.map(|row| trigger_from(&row)).transpose()?
        });
        created.ok_or_else(|| {
            let what = format!(
                "{} (with user {} in environment {})",
                new.connection_id, new.owner_id, new.environment_id
            );
            StoreError::not_found("connection", what)
        })
    }

    /// The trigger `id`.
    pub async fn get(self, id: &TriggerId) -> Result<Trigger> {
        let found = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!("SELECT ", trigger_columns!(), " FROM triggers WHERE id = $1"))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?;
            row.map(|row| trigger_from(&row)).transpose()?
        });
        found.ok_or_else(|| StoreError::not_found("trigger", id))
    }

    /// The triggers of an environment, oldest first.
    pub async fn list_for_environment(self, environment: &EnvironmentId) -> Result<Vec<Trigger>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(concat!(
                "SELECT ", trigger_columns!(), " FROM triggers WHERE environment_id = $1 ORDER BY created_ms, id"
            ))
            .bind(environment.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(trigger_from).collect()
        })
    }

    /// The triggers that call through a connection, oldest first.
    pub async fn list_for_connection(self, connection: &ConnectionId) -> Result<Vec<Trigger>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(concat!(
                "SELECT ", trigger_columns!(), " FROM triggers WHERE connection_id = $1 ORDER BY created_ms, id"
            ))
            .bind(connection.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(trigger_from).collect()
        })
    }

    /// Deletes a trigger with its events and subscriptions (unsubscribe from the backend first).
    pub async fn delete(self, id: &TriggerId) -> Result<()> {
        let deleted = on_db!(&self.store.db, pool => {
            sqlx::query("DELETE FROM triggers WHERE id = $1").bind(id.as_str()).execute(pool).await?.rows_affected()
        });
        if deleted == 0 { Err(StoreError::not_found("trigger", id)) } else { Ok(()) }
    }

    /// Enables a trigger with its first due time, or disables it: that clears the due time and any
    /// lease (a poll in flight may still complete; it then leaves the trigger without a due time).
    pub async fn set_enabled(
        self,
        id: &TriggerId,
        enabled: bool,
        next_due_ms: Option<i64>,
    ) -> Result<Trigger> {
        let updated = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!(
                "UPDATE triggers SET enabled = $2, next_due_ms = CASE WHEN $2 THEN $3 ELSE NULL END, \
                 lease_owner = CASE WHEN $2 THEN lease_owner ELSE NULL END, \
                 lease_until_ms = CASE WHEN $2 THEN lease_until_ms ELSE NULL END, updated_ms = $4 \
                 WHERE id = $1 RETURNING ",
                trigger_columns!()
            ))
            .bind(id.as_str())
            .bind(enabled)
            .bind(next_due_ms)
            .bind(now_ms())
            .fetch_optional(pool)
            .await?;
            row.map(|row| trigger_from(&row)).transpose()?
        });
        updated.ok_or_else(|| StoreError::not_found("trigger", id))
    }

    /// Forgets the polling state: the next poll starts from the operation's inputs again.
    pub async fn reset_state(self, id: &TriggerId) -> Result<Trigger> {
        let updated = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!(
                "UPDATE triggers SET state = NULL, updated_ms = $2 WHERE id = $1 RETURNING ",
                trigger_columns!()
            ))
            .bind(id.as_str())
            .bind(now_ms())
            .fetch_optional(pool)
            .await?;
            row.map(|row| trigger_from(&row)).transpose()?
        });
        updated.ok_or_else(|| StoreError::not_found("trigger", id))
    }
}
