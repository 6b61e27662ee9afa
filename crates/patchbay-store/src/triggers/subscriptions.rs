//! Webhook subscriptions: one per subscribe call to a backend. Its callback URL carries the
//! subscription id and a random secret of which only the SHA-256 is stored; the backend's
//! `Location` is kept for the unsubscribe call. Pending and active subscriptions accept callbacks;
//! removed ones (and ones whose removal failed) never again: their secret hash is forgotten.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::Triggers;
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{SubscriptionId, TriggerId, now_ms, random_bytes};
use crate::people::token_hash;

/// Errors longer than this are kept truncated.
const MAX_ERROR_CHARS: usize = 2000;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Created; the subscribe call is under way (callbacks are accepted: backends often ping first).
    Pending,
    /// The backend accepted the subscription.
    Active,
    /// Unsubscribed; the callback URL is dead.
    Removed,
    /// The unsubscribe call failed; the callback URL is dead and removal may be retried.
    RemoveFailed,
}

impl SubscriptionStatus {
    /// The status's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Pending => "pending",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Removed => "removed",
            SubscriptionStatus::RemoveFailed => "remove_failed",
        }
    }

    /// Reads a stored status name.
    pub(super) fn parse(text: &str) -> Result<SubscriptionStatus> {
        match text {
            "pending" => Ok(SubscriptionStatus::Pending),
            "active" => Ok(SubscriptionStatus::Active),
            "removed" => Ok(SubscriptionStatus::Removed),
            "remove_failed" => Ok(SubscriptionStatus::RemoveFailed),
            _ => Err(StoreError::Corrupt { column: "trigger_subscriptions.status", value: text.to_owned() }),
        }
    }

    /// Whether callbacks to this subscription are accepted.
    pub fn accepts_callbacks(self) -> bool {
        matches!(self, SubscriptionStatus::Pending | SubscriptionStatus::Active)
    }
}

/// A webhook subscription, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    /// Identifier (in the callback URL).
    pub id: SubscriptionId,
    /// The webhook trigger it feeds.
    pub trigger_id: TriggerId,
    /// The backend's URL of the subscription (its `Location`), for the unsubscribe call.
    pub location: Option<String>,
    /// Where it stands.
    pub status: SubscriptionStatus,
    /// How many unsubscribe calls failed.
    pub attempts: i64,
    /// The error of the last failed unsubscribe call.
    pub last_error: Option<String>,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last change (epoch ms).
    pub updated_ms: i64,
}

/// The columns [`subscription_from`] reads.
macro_rules! subscription_columns {
    () => {
        "id, trigger_id, location, status, attempts, last_error, created_ms, updated_ms"
    };
}

/// Maps a row selected with [`subscription_columns!`].
fn subscription_from(row: &impl Cols) -> Result<Subscription> {
    Ok(Subscription {
        id: row.text("id")?.into(),
        trigger_id: row.text("trigger_id")?.into(),
        location: row.opt_text("location")?,
        status: SubscriptionStatus::parse(&row.text("status")?)?,
        attempts: row.int("attempts")?,
        last_error: row.opt_text("last_error")?,
        created_ms: row.int("created_ms")?,
        updated_ms: row.int("updated_ms")?,
    })
}

/// A new callback secret: 32 random bytes in URL-safe base64 (a path segment as it is).
fn new_secret() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// Runs the `UPDATE … RETURNING` `$sql` on subscription `$id` with the extra binds, mapping the row.
macro_rules! update_subscription {
    ($self:ident, $id:expr, $sql:expr $(, $bind:expr)*) => {{
        let updated = on_db!(&$self.store.db, pool => {
            let row = sqlx::query($sql).bind($id.as_str()).bind(now_ms())$(.bind($bind))*.fetch_optional(pool).await?;
            row.map(|row| subscription_from(&row)).transpose()?
        });
        updated.ok_or_else(|| StoreError::not_found("subscription", $id))
    }};
}

impl Triggers<'_> {
    /// Creates a pending subscription for a webhook trigger; returns it with its secret, which is
    /// shown this once (only its SHA-256 is stored).
    pub async fn new_subscription(self, trigger: &TriggerId) -> Result<(Subscription, String)> {
        let (id, secret) = (SubscriptionId::random()?, new_secret()?);
        let (created, kind) = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!(
                "INSERT INTO trigger_subscriptions (id, trigger_id, secret_hash, status, created_ms, updated_ms) \
                 SELECT $1, t.id, $3, 'pending', $4, $4 FROM triggers t WHERE t.id = $2 AND t.kind = 'webhook' \
                 RETURNING ",
                subscription_columns!()
            ))
            .bind(id.as_str())
            .bind(trigger.as_str())
            .bind(token_hash(&secret))
            .bind(now_ms())
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => (Some(subscription_from(&row)?), None),
                None => {
                    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM triggers WHERE id = $1")
                        .bind(trigger.as_str())
                        .fetch_optional(pool)
                        .await?;
                    (None, kind)
                }
            }
        });
        match (created, kind) {
            (Some(created), _) => Ok((created, secret)),
            (None, Some(kind)) => Err(StoreError::invalid(
                "trigger",
                format!("`{trigger}` is a {kind} trigger; only webhook triggers have subscriptions"),
            )),
            (None, None) => Err(StoreError::not_found("trigger", trigger)),
        }
    }

    /// Marks a pending (or active) subscription active, with the backend's `Location` of it.
    /// A removed subscription cannot come back: create a new one.
    pub async fn activate_subscription(
        self,
        id: &SubscriptionId,
        location: Option<&str>,
    ) -> Result<Subscription> {
        let updated = update_subscription!(
            self,
            id,
            concat!(
                "UPDATE trigger_subscriptions SET status = CASE WHEN status IN ('pending', 'active') \
                 THEN 'active' ELSE status END, location = CASE WHEN status IN ('pending', 'active') \
                 THEN $3 ELSE location END, updated_ms = $2 WHERE id = $1 RETURNING ",
                subscription_columns!()
            ),
            location
        )?;
        if updated.status == SubscriptionStatus::Active {
            Ok(updated)
        } else {
            Err(StoreError::invalid(
                "subscription",
                format!(
                    "`{id}` is {} and its callback URL is dead; create a new subscription instead",
                    updated.status.as_str()
                ),
            ))
        }
    }

    /// The subscription `id`.
    pub async fn subscription(self, id: &SubscriptionId) -> Result<Subscription> {
        let found = on_db!(&self.store.db, pool => {
            let row = sqlx::query(concat!("SELECT ", subscription_columns!(), " FROM trigger_subscriptions WHERE id = $1"))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?;
            row.map(|row| subscription_from(&row)).transpose()?
        });
        found.ok_or_else(|| StoreError::not_found("subscription", id))
    }

    /// The subscriptions of a trigger, oldest first.
    pub async fn subscriptions(self, trigger: &TriggerId) -> Result<Vec<Subscription>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(concat!(
                "SELECT ", subscription_columns!(), " FROM trigger_subscriptions WHERE trigger_id = $1 \
                 ORDER BY created_ms, id"
            ))
            .bind(trigger.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(subscription_from).collect()
        })
    }

    /// Records that the backend subscription is gone; the secret hash is forgotten, so the callback
    /// URL is dead forever.
    pub async fn mark_removed(self, id: &SubscriptionId) -> Result<Subscription> {
        update_subscription!(
            self,
            id,
            concat!(
                "UPDATE trigger_subscriptions SET status = 'removed', secret_hash = NULL, updated_ms = $2 \
                 WHERE id = $1 RETURNING ",
                subscription_columns!()
            )
        )
    }

    /// Records a failed unsubscribe call (`attempts` + 1, the error kept); the callback URL is dead
    /// from now on. A subscription already removed stays removed.
    pub async fn mark_remove_failed(self, id: &SubscriptionId, error: &str) -> Result<Subscription> {
        update_subscription!(
            self,
            id,
            concat!(
                "UPDATE trigger_subscriptions SET status = CASE WHEN status = 'removed' THEN 'removed' \
                 ELSE 'remove_failed' END, secret_hash = NULL, attempts = attempts + 1, last_error = $3, \
                 updated_ms = $2 WHERE id = $1 RETURNING ",
                subscription_columns!()
            ),
            error.chars().take(MAX_ERROR_CHARS).collect::<String>()
        )
    }
}
