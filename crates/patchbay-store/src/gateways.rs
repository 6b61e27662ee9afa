//! On-premises gateways: a named cluster of agents in one environment sharing one token, of which
//! only a SHA-256 hash is stored; and the binding of a connection to a gateway.

use serde::Serialize;

use crate::Store;
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError, unique_as_exists};
use crate::ids::{ConnectionId, EnvironmentId, GatewayId, UserId, check_name, name_key, now_ms};
use crate::people::{new_token_plaintext, token_hash};

/// The prefix of every gateway token, so a leaked one is recognisable.
pub const GATEWAY_TOKEN_PREFIX: &str = "pbg_";

/// A gateway's record (its token is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gateway {
    /// Identifier.
    pub id: GatewayId,
    /// The environment whose connections may use it.
    pub environment_id: EnvironmentId,
    /// Name, unique (case-insensitively) in the environment; agents started with its token join it.
    pub name: String,
    /// The user who created it.
    pub created_by: UserId,
    /// Creation time (epoch ms).
    pub created_at: i64,
}

/// A gateway just created and the plaintext of its token, which the store cannot show again.
#[derive(Clone)]
pub struct IssuedGateway {
    /// The stored record.
    pub gateway: Gateway,
    /// The `pbg_…` token the agents present.
    pub token: String,
}

impl std::fmt::Debug for IssuedGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedGateway").field("gateway", &self.gateway).field("token", &"<redacted>").finish()
    }
}

/// Gateways of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct Gateways<'a> {
    store: &'a Store,
}

/// Selects gateways with the columns [`gateway_from`] reads.
macro_rules! select_gateways {
    ($filter:literal) => {
        concat!("SELECT id, environment_id, name, created_by, created_at FROM gateways ", $filter)
    };
}

/// Maps a `gateways` row selected with `select_gateways!`.
fn gateway_from(row: &impl Cols) -> Result<Gateway> {
    Ok(Gateway {
        id: row.text("id")?.into(),
        environment_id: row.text("environment_id")?.into(),
        name: row.text("name")?,
        created_by: row.text("created_by")?.into(),
        created_at: row.int("created_at")?,
    })
}

impl<'a> Gateways<'a> {
    /// The gateways of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        Gateways { store }
    }

    /// Creates a gateway in the environment of `creator`; the token is returned here only.
    pub async fn create(self, creator: &UserId, name: &str) -> Result<IssuedGateway> {
        let name = check_name("gateway name", name, 100)?;
        let id = GatewayId::random()?;
        let token = new_token_plaintext(GATEWAY_TOKEN_PREFIX)?;
        let inserted = on_db!(&self.store.db, pool => {
            sqlx::query(
                "INSERT INTO gateways (id, environment_id, name, name_key, token_hash, created_by, created_at) \
                 SELECT $1, u.environment_id, $3, $4, $5, u.id, $6 FROM users u WHERE u.id = $2",
            )
            .bind(id.as_str())
            .bind(creator.as_str())
            .bind(name)
            .bind(name_key(name))
            .bind(token_hash(&token))
            .bind(now_ms())
            .execute(pool)
            .await
            .map_err(unique_as_exists("gateway", name))?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::not_found("user", creator));
        }
        Ok(IssuedGateway { gateway: self.get(&id).await?, token })
    }

    /// The gateway `id`.
    pub async fn get(self, id: &GatewayId) -> Result<Gateway> {
        let row = on_db!(&self.store.db, pool => {
            sqlx::query(select_gateways!("WHERE id = $1"))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?
                .map(|row| gateway_from(&row))
                .transpose()?
        });
        row.ok_or_else(|| StoreError::not_found("gateway", id))
    }

    /// The gateways of an environment, by name.
    pub async fn list(self, environment: &EnvironmentId) -> Result<Vec<Gateway>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(select_gateways!("WHERE environment_id = $1 ORDER BY name_key"))
                .bind(environment.as_str())
                .fetch_all(pool)
                .await?;
            rows.iter().map(gateway_from).collect()
        })
    }

    /// Deletes a gateway; connections bound to it become unbound.
    pub async fn delete(self, id: &GatewayId) -> Result<()> {
        let deleted = on_db!(&self.store.db, pool => {
            sqlx::query("DELETE FROM gateways WHERE id = $1").bind(id.as_str()).execute(pool).await?.rows_affected()
        });
        if deleted == 0 { Err(StoreError::not_found("gateway", id)) } else { Ok(()) }
    }

    /// The gateway a plaintext `pbg_…` token authorises, or `None` for an unknown or malformed token.
    pub async fn authenticate(self, token: &str) -> Result<Option<Gateway>> {
        if !token.starts_with(GATEWAY_TOKEN_PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        on_db!(&self.store.db, pool => {
            sqlx::query(select_gateways!("WHERE token_hash = $1"))
                .bind(token_hash(token))
                .fetch_optional(pool)
                .await?
                .map(|row| gateway_from(&row))
                .transpose()
        })
    }

    /// Binds a connection to a gateway of its connector's environment, or (with `None`) unbinds it.
    pub async fn bind(self, connection: &ConnectionId, gateway: Option<&GatewayId>) -> Result<()> {
        let updated = on_db!(&self.store.db, pool => {
            sqlx::query(
                "UPDATE connections SET gateway_id = $2, updated_at = $3 WHERE id = $1 AND ($2 IS NULL OR EXISTS ( \
                 SELECT 1 FROM gateways g JOIN connectors k ON k.environment_id = g.environment_id \
                 WHERE g.id = $2 AND k.id = connections.connector_id))",
            )
            .bind(connection.as_str())
            .bind(gateway.map(GatewayId::as_str))
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 1 {
            return Ok(());
        }
        self.store.connections().get(connection).await?;
        Err(StoreError::not_found("gateway", gateway.map(GatewayId::as_str).unwrap_or_default()))
    }

    /// Records that the node reached at `node_url` holds `agents` agents of `gateway`, now
    /// (0 removes the record).
    pub async fn set_presence(self, gateway: &GatewayId, node_url: &str, agents: usize) -> Result<()> {
        let agents = i64::try_from(agents).unwrap_or(i64::MAX);
        on_db!(&self.store.db, pool => {
            if agents == 0 {
                sqlx::query("DELETE FROM gateway_presence WHERE gateway_id = $1 AND node_url = $2")
                    .bind(gateway.as_str())
                    .bind(node_url)
                    .execute(pool)
                    .await?;
            } else {
                sqlx::query(
                    "INSERT INTO gateway_presence (gateway_id, node_url, agents, seen_at) \
                     SELECT g.id, $2, $3, $4 FROM gateways g WHERE g.id = $1 \
                     ON CONFLICT (gateway_id, node_url) DO UPDATE SET agents = $3, seen_at = $4",
                )
                .bind(gateway.as_str())
                .bind(node_url)
                .bind(agents)
                .bind(now_ms())
                .execute(pool)
                .await?;
            }
        });
        Ok(())
    }

    /// The nodes other than `except` that reported agents of `gateway` at or after `since_ms`.
    pub async fn holders(self, gateway: &GatewayId, except: &str, since_ms: i64) -> Result<Vec<String>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT node_url FROM gateway_presence WHERE gateway_id = $1 AND node_url <> $2 \
                 AND agents > 0 AND seen_at >= $3 ORDER BY seen_at DESC",
            )
            .bind(gateway.as_str())
            .bind(except)
            .bind(since_ms)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|row| row.text("node_url")).collect()
        })
    }
}
