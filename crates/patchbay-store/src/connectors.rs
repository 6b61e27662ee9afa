//! Custom connectors: a name fixed at creation and a chain of immutable revisions, each holding the
//! package files verbatim (API definition, API properties, optional script and icon).

use serde::Serialize;

use crate::Store;
use crate::dialect::{Cols, in_tx, on_db};
use crate::error::{Result, StoreError, unique_as_exists};
use crate::ids::{ConnectorId, EnvironmentId, UserId, check_name, name_key, now_ms};

/// The files of a connector package, stored exactly as uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ConnectorPackage {
    /// `apiDefinition.swagger.json` (or the imported OpenAPI / Postman document).
    pub api_definition: String,
    /// `apiProperties.json`.
    pub api_properties: String,
    /// `script.csx` or a script of ours, if any.
    pub script: Option<String>,
    /// `icon.png`, if any.
    pub icon: Option<Vec<u8>>,
}

/// A connector's record; its content is in its revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connector {
    /// Identifier.
    pub id: ConnectorId,
    /// The owner's environment.
    pub environment_id: EnvironmentId,
    /// The user who created it.
    pub owner_id: UserId,
    /// Name, unique (case-insensitively) in the environment; it never changes.
    pub name: String,
    /// Number of the current (latest) revision; the first is 1.
    pub current_revision: i64,
    /// When it was published to the catalogue, if it is.
    pub published_at: Option<i64>,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Time of the latest revision (epoch ms).
    pub updated_at: i64,
}

/// A revision without its files, for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionInfo {
    /// Revision number, from 1.
    pub revision: i64,
    /// The user who saved it.
    pub author_id: UserId,
    /// When it was saved (epoch ms).
    pub created_at: i64,
}

/// One immutable revision with its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorRevision {
    /// The connector.
    pub connector_id: ConnectorId,
    /// Number, author and time.
    pub info: RevisionInfo,
    /// The package files.
    pub package: ConnectorPackage,
}

/// Connectors of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct Connectors<'a> {
    pub(crate) store: &'a Store,
}

/// Maps a `connectors` row.
pub(crate) fn connector_from(row: &impl Cols) -> Result<Connector> {
    Ok(Connector {
        id: row.text("id")?.into(),
        environment_id: row.text("environment_id")?.into(),
        owner_id: row.text("owner_id")?.into(),
        name: row.text("name")?,
        current_revision: row.int("current_revision")?,
        published_at: row.opt_int("published_at")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// Maps the number, author and time of a `connector_revisions` row.
fn info_from(row: &impl Cols) -> Result<RevisionInfo> {
    Ok(RevisionInfo {
        revision: row.int("revision")?,
        author_id: row.text("author_id")?.into(),
        created_at: row.int("created_at")?,
    })
}

/// Maps a whole `connector_revisions` row.
fn revision_from(row: &impl Cols) -> Result<ConnectorRevision> {
    Ok(ConnectorRevision {
        connector_id: row.text("connector_id")?.into(),
        info: info_from(row)?,
        package: ConnectorPackage {
            api_definition: row.text("api_definition")?,
            api_properties: row.text("api_properties")?,
            script: row.opt_text("script")?,
            icon: row.opt_blob("icon")?,
        },
    })
}

/// Inserts one revision; the same text serves both engines.
const INSERT_REVISION: &str = "INSERT INTO connector_revisions \
     (connector_id, revision, author_id, api_definition, api_properties, script, icon, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Selects a whole revision.
const SELECT_REVISION: &str = "SELECT connector_id, revision, author_id, api_definition, api_properties, \
     script, icon, created_at FROM connector_revisions WHERE connector_id = $1 AND revision = $2";

impl<'a> Connectors<'a> {
    /// The connectors of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        Connectors { store }
    }

    /// Creates a connector owned by `owner`, in the owner's environment, with `package` as revision 1.
    pub async fn create(self, owner: &UserId, name: &str, package: &ConnectorPackage) -> Result<Connector> {
        let name = check_name("connector name", name, 128)?;
        let (id, now) = (ConnectorId::random()?, now_ms());
        let environment: String = in_tx!(&self.store.db, tx => {
            let environment: Option<String> = sqlx::query_scalar(
                "INSERT INTO connectors (id, environment_id, owner_id, name, name_key, current_revision, \
                 created_at, updated_at) SELECT $1, u.environment_id, u.id, $3, $4, 1, $5, $5 FROM users u \
                 WHERE u.id = $2 RETURNING environment_id",
            )
            .bind(id.as_str())
            .bind(owner.as_str())
            .bind(name)
            .bind(name_key(name))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unique_as_exists("connector", name))?;
            let environment = environment.ok_or_else(|| StoreError::not_found("user", owner))?;
            sqlx::query(INSERT_REVISION)
                .bind(id.as_str())
                .bind(1_i64)
                .bind(owner.as_str())
                .bind(&package.api_definition)
                .bind(&package.api_properties)
                .bind(package.script.as_deref())
                .bind(package.icon.as_deref())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            environment
        });
        Ok(Connector {
            id,
            environment_id: environment.into(),
            owner_id: owner.clone(),
            name: name.to_owned(),
            current_revision: 1,
            published_at: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// Saves `package` as a new revision by `author` and makes it current; returns its number.
    /// Earlier revisions stay as they were; the name cannot be changed.
    pub async fn update(self, id: &ConnectorId, author: &UserId, package: &ConnectorPackage) -> Result<i64> {
        let now = now_ms();
        in_tx!(&self.store.db, tx => {
            // Bumping the pointer first locks the connector row, so concurrent updates get distinct numbers.
            let revision: Option<i64> = sqlx::query_scalar(
                "UPDATE connectors SET current_revision = current_revision + 1, updated_at = $2 \
                 WHERE id = $1 RETURNING current_revision",
            )
            .bind(id.as_str())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let revision = revision.ok_or_else(|| StoreError::not_found("connector", id))?;
            sqlx::query(INSERT_REVISION)
                .bind(id.as_str())
                .bind(revision)
                .bind(author.as_str())
                .bind(&package.api_definition)
                .bind(&package.api_properties)
                .bind(package.script.as_deref())
                .bind(package.icon.as_deref())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|error| match &error {
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::not_found("user", author),
                    _ => StoreError::Database(error),
                })?;
            Ok(revision)
        })
    }

    /// The connector `id`.
    pub async fn get(self, id: &ConnectorId) -> Result<Connector> {
        on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "SELECT id, environment_id, owner_id, name, current_revision, published_at, created_at, \
                 updated_at FROM connectors WHERE id = $1",
            )
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?;
            row.map(|row| connector_from(&row)).transpose()?.ok_or_else(|| StoreError::not_found("connector", id))
        })
    }

    /// The connectors of `user`'s environment that the user owns, was granted, or that are published.
    pub async fn list(self, visible_to: &UserId) -> Result<Vec<Connector>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT c.id, c.environment_id, c.owner_id, c.name, c.current_revision, c.published_at, \
                 c.created_at, c.updated_at FROM connectors c \
                 JOIN users u ON u.id = $1 AND c.environment_id = u.environment_id \
                 WHERE c.owner_id = u.id OR c.published_at IS NOT NULL OR EXISTS ( \
                   SELECT 1 FROM grants g WHERE g.resource_kind = 'connector' AND g.resource_id = c.id \
                   AND ((g.grantee_kind = 'user' AND g.grantee_id = u.id) \
                     OR (g.grantee_kind = 'environment' AND g.grantee_id = u.environment_id))) \
                 ORDER BY c.name_key",
            )
            .bind(visible_to.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(connector_from).collect()
        })
    }

    /// Every connector of an environment, whoever owns it (for admins).
    pub async fn list_environment(self, environment: &EnvironmentId) -> Result<Vec<Connector>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT id, environment_id, owner_id, name, current_revision, published_at, created_at, \
                 updated_at FROM connectors WHERE environment_id = $1 ORDER BY name_key",
            )
            .bind(environment.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(connector_from).collect()
        })
    }

    /// Deletes a connector with its revisions, connections, grants and client secret.
    pub async fn delete(self, id: &ConnectorId) -> Result<()> {
        let deleted = in_tx!(&self.store.db, tx => {
            sqlx::query("DELETE FROM store_meta WHERE key = $1")
                .bind(crate::connector_secrets::client_secret_key(id.as_str()))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM grants WHERE (resource_kind = 'connector' AND resource_id = $1) \
                 OR (resource_kind = 'connection' AND resource_id IN \
                     (SELECT id FROM connections WHERE connector_id = $1))",
            )
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM connectors WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await?.rows_affected()
        });
        if deleted == 0 { Err(StoreError::not_found("connector", id)) } else { Ok(()) }
    }

    /// The revisions of a connector, oldest first, without their files.
    pub async fn revisions(self, id: &ConnectorId) -> Result<Vec<RevisionInfo>> {
        let revisions = on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT revision, author_id, created_at FROM connector_revisions \
                 WHERE connector_id = $1 ORDER BY revision",
            )
            .bind(id.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(info_from).collect::<Result<Vec<_>>>()?
        });
        // Every connector has revision 1, so none means no connector.
        if revisions.is_empty() { Err(StoreError::not_found("connector", id)) } else { Ok(revisions) }
    }

    /// Revision `revision` of a connector, with its files.
    pub async fn revision(self, id: &ConnectorId, revision: i64) -> Result<ConnectorRevision> {
        on_db!(&self.store.db, pool => {
            let row = sqlx::query(SELECT_REVISION).bind(id.as_str()).bind(revision).fetch_optional(pool).await?;
            row.map(|row| revision_from(&row))
                .transpose()?
                .ok_or_else(|| StoreError::not_found("connector revision", format!("{id}@{revision}")))
        })
    }

    /// The current revision of a connector, with its files.
    pub async fn current(self, id: &ConnectorId) -> Result<ConnectorRevision> {
        on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "SELECT r.connector_id, r.revision, r.author_id, r.api_definition, r.api_properties, \
                 r.script, r.icon, r.created_at FROM connector_revisions r \
                 JOIN connectors c ON c.id = r.connector_id AND c.current_revision = r.revision \
                 WHERE r.connector_id = $1",
            )
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?;
            row.map(|row| revision_from(&row)).transpose()?.ok_or_else(|| StoreError::not_found("connector", id))
        })
    }
}
