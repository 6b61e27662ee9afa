//! Sharing: the creator owns a connector or connection; grants give a user, or the whole
//! environment, *can use* or *can edit*; published connectors form a catalogue that every user
//! can use. Connections are private to their owner until granted.

use serde::Serialize;

use crate::Store;
use crate::connectors::{Connector, connector_from};
use crate::dialect::{Cols, in_tx, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{ConnectionId, ConnectorId, EnvironmentId, UserId, now_ms};

/// A level that a grant gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Use it (create connections to a connector; call through a connection).
    CanUse,
    /// Use and change it (new connector revisions; connection values).
    CanEdit,
}

impl Level {
    /// The level's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::CanUse => "can_use",
            Level::CanEdit => "can_edit",
        }
    }

    /// Reads a stored level name.
    fn parse(text: &str) -> Result<Level> {
        match text {
            "can_use" => Ok(Level::CanUse),
            "can_edit" => Ok(Level::CanEdit),
            _ => Err(StoreError::Corrupt { column: "grants.level", value: text.to_owned() }),
        }
    }
}

/// What a user may do with a resource, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Granted can-use, or the connector is published.
    CanUse,
    /// Granted can-edit.
    CanEdit,
    /// The creator: everything, including sharing and deleting.
    Owner,
}

impl From<Level> for Access {
    fn from(level: Level) -> Self {
        match level {
            Level::CanUse => Access::CanUse,
            Level::CanEdit => Access::CanEdit,
        }
    }
}

/// Something that can be shared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Resource {
    /// A connector.
    Connector(ConnectorId),
    /// A connection.
    Connection(ConnectionId),
}

impl Resource {
    /// The stored kind and id.
    fn columns(&self) -> (&'static str, &str) {
        match self {
            Resource::Connector(id) => ("connector", id.as_str()),
            Resource::Connection(id) => ("connection", id.as_str()),
        }
    }

    /// Selects `owner_id`, `environment_id` and `published_at` of the resource by id.
    fn facts_sql(&self) -> &'static str {
        match self {
            Resource::Connector(_) => {
                "SELECT owner_id, environment_id, published_at FROM connectors WHERE id = $1"
            }
            Resource::Connection(_) => {
                "SELECT c.owner_id, k.environment_id, CAST(NULL AS BIGINT) AS published_at \
                 FROM connections c JOIN connectors k ON k.id = c.connector_id WHERE c.id = $1"
            }
        }
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Grantee {
    /// One user of the resource's environment.
    User(UserId),
    /// Everyone in the resource's environment.
    Environment(EnvironmentId),
}

impl Grantee {
    /// The stored kind and id.
    fn columns(&self) -> (&'static str, &str) {
        match self {
            Grantee::User(id) => ("user", id.as_str()),
            Grantee::Environment(id) => ("environment", id.as_str()),
        }
    }

    /// Selects the grantee's environment id (as `environment_id`) by id.
    fn environment_sql(&self) -> &'static str {
        match self {
            Grantee::User(_) => "SELECT environment_id FROM users WHERE id = $1",
            Grantee::Environment(_) => "SELECT id AS environment_id FROM environments WHERE id = $1",
        }
    }

    /// Reads the stored kind and id.
    fn from_columns(kind: &str, id: String) -> Result<Grantee> {
        match kind {
            "user" => Ok(Grantee::User(id.into())),
            "environment" => Ok(Grantee::Environment(id.into())),
            _ => Err(StoreError::Corrupt { column: "grants.grantee_kind", value: kind.to_owned() }),
        }
    }
}

/// One grant on a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Who it is for.
    pub grantee: Grantee,
    /// What it allows.
    pub level: Level,
    /// When it was given or last changed (epoch ms).
    pub created_at: i64,
}

/// The owner, environment and publication time of a resource.
struct Facts {
    owner_id: String,
    environment_id: String,
    published_at: Option<i64>,
}

/// Maps a row selected by [`Resource::facts_sql`].
fn facts_from(row: &impl Cols) -> Result<Facts> {
    Ok(Facts {
        owner_id: row.text("owner_id")?,
        environment_id: row.text("environment_id")?,
        published_at: row.opt_int("published_at")?,
    })
}

/// Sharing of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct Sharing<'a> {
    store: &'a Store,
}

impl<'a> Sharing<'a> {
    /// The sharing of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        Sharing { store }
    }

    /// Gives `grantee` the `level` on `resource`, replacing an earlier grant to the same grantee.
    /// The grantee must be in the resource's environment.
    pub async fn grant(self, resource: &Resource, grantee: &Grantee, level: Level) -> Result<()> {
        let ((resource_kind, resource_id), (grantee_kind, grantee_id)) =
            (resource.columns(), grantee.columns());
        in_tx!(&self.store.db, tx => {
            let facts = sqlx::query(resource.facts_sql()).bind(resource_id).fetch_optional(&mut *tx).await?;
            let facts = facts_from(&facts.ok_or_else(|| StoreError::not_found(resource_kind, resource_id))?)?;
            let environment = sqlx::query(grantee.environment_sql()).bind(grantee_id).fetch_optional(&mut *tx).await?;
            let environment = environment.ok_or_else(|| StoreError::not_found(grantee_kind, grantee_id))?;
            if environment.text("environment_id")? != facts.environment_id {
                return Err(StoreError::invalid("grantee", format!("{grantee_kind} `{grantee_id}` is in another environment")));
            }
            sqlx::query(
                "INSERT INTO grants (resource_kind, resource_id, grantee_kind, grantee_id, level, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (resource_kind, resource_id, grantee_kind, grantee_id) \
                 DO UPDATE SET level = excluded.level, created_at = excluded.created_at",
            )
            .bind(resource_kind)
            .bind(resource_id)
            .bind(grantee_kind)
            .bind(grantee_id)
            .bind(level.as_str())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Removes the grant to `grantee` on `resource`; returns whether there was one.
    pub async fn revoke(self, resource: &Resource, grantee: &Grantee) -> Result<bool> {
        let ((resource_kind, resource_id), (grantee_kind, grantee_id)) =
            (resource.columns(), grantee.columns());
        let deleted = on_db!(&self.store.db, pool => {
            sqlx::query(
                "DELETE FROM grants WHERE resource_kind = $1 AND resource_id = $2 \
                 AND grantee_kind = $3 AND grantee_id = $4",
            )
            .bind(resource_kind)
            .bind(resource_id)
            .bind(grantee_kind)
            .bind(grantee_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted > 0)
    }

    /// The grants on `resource`, environment grants first.
    pub async fn grants(self, resource: &Resource) -> Result<Vec<Grant>> {
        let (resource_kind, resource_id) = resource.columns();
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT grantee_kind, grantee_id, level, created_at FROM grants \
                 WHERE resource_kind = $1 AND resource_id = $2 ORDER BY grantee_kind, grantee_id",
            )
            .bind(resource_kind)
            .bind(resource_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(Grant {
                        grantee: Grantee::from_columns(&row.text("grantee_kind")?, row.text("grantee_id")?)?,
                        level: Level::parse(&row.text("level")?)?,
                        created_at: row.int("created_at")?,
                    })
                })
                .collect()
        })
    }

    /// What `user` may do with `resource`: owner, the best grant to the user or their environment,
    /// can-use for a published connector, or `None`.
    pub async fn access(self, user: &UserId, resource: &Resource) -> Result<Option<Access>> {
        let (resource_kind, resource_id) = resource.columns();
        let (facts, user_environment, levels) = on_db!(&self.store.db, pool => {
            let facts = sqlx::query(resource.facts_sql()).bind(resource_id).fetch_optional(pool).await?;
            let facts = facts_from(&facts.ok_or_else(|| StoreError::not_found(resource_kind, resource_id))?)?;
            let user_environment: Option<String> = sqlx::query_scalar("SELECT environment_id FROM users WHERE id = $1")
                .bind(user.as_str())
                .fetch_optional(pool)
                .await?;
            let user_environment = user_environment.ok_or_else(|| StoreError::not_found("user", user))?;
            let levels: Vec<String> = sqlx::query_scalar(
                "SELECT level FROM grants WHERE resource_kind = $1 AND resource_id = $2 \
                 AND ((grantee_kind = 'user' AND grantee_id = $3) OR (grantee_kind = 'environment' AND grantee_id = $4))",
            )
            .bind(resource_kind)
            .bind(resource_id)
            .bind(user.as_str())
            .bind(&user_environment)
            .fetch_all(pool)
            .await?;
            (facts, user_environment, levels)
        });
        if facts.owner_id == user.as_str() {
            return Ok(Some(Access::Owner));
        }
        let mut best = None;
        if user_environment == facts.environment_id {
            for level in &levels {
                best = best.max(Some(Access::from(Level::parse(level)?)));
            }
        }
        if facts.published_at.is_some() {
            best = best.max(Some(Access::CanUse));
        }
        Ok(best)
    }

    /// Publishes a connector to the catalogue: every user, in every environment, can use it.
    pub async fn publish(self, connector: &ConnectorId) -> Result<()> {
        self.set_published(connector, Some(now_ms())).await
    }

    /// Takes a connector out of the catalogue.
    pub async fn unpublish(self, connector: &ConnectorId) -> Result<()> {
        self.set_published(connector, None).await
    }

    /// Sets or clears the publication time; keeps the first time when publishing again.
    async fn set_published(self, connector: &ConnectorId, at: Option<i64>) -> Result<()> {
        let updated = on_db!(&self.store.db, pool => {
            sqlx::query(
                "UPDATE connectors SET published_at = CASE WHEN $2 IS NULL THEN NULL \
                 ELSE COALESCE(published_at, $2) END WHERE id = $1",
            )
            .bind(connector.as_str())
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 { Err(StoreError::not_found("connector", connector)) } else { Ok(()) }
    }

    /// The catalogue: published connectors of all environments, by name.
    pub async fn catalogue(self) -> Result<Vec<Connector>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT id, environment_id, owner_id, name, current_revision, published_at, created_at, \
                 updated_at FROM connectors WHERE published_at IS NOT NULL ORDER BY name_key, id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter().map(connector_from).collect()
        })
    }
}
