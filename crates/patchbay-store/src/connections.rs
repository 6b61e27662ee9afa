//! Connections: a user's credentials for one connector and one of its parameter sets. Public
//! parameter values are stored as JSON; secret values and OAuth tokens are sealed with the store's
//! [`SecretKey`](crate::SecretKey), bound to the connection id and field name, and are only opened by
//! [`Connections::secrets`], for the runtime.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Store;
use crate::dialect::{Cols, in_tx, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{ConnectionId, ConnectorId, GatewayId, UserId, check_name, now_ms};

/// The field name under which OAuth tokens are sealed (it cannot clash with a parameter name,
/// which is letters, digits, `_` and `:`).
const TOKENS_FIELD: &str = "$tokens";

/// Whether a connection can be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "message", rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Ready to use.
    Connected,
    /// Needs (new) credentials or an OAuth sign-in.
    Unauthenticated,
    /// Broken, with a message for the user.
    Error(String),
}

impl ConnectionStatus {
    /// The stored status name and message.
    fn to_columns(&self) -> (&'static str, Option<&str>) {
        match self {
            ConnectionStatus::Connected => ("connected", None),
            ConnectionStatus::Unauthenticated => ("unauthenticated", None),
            ConnectionStatus::Error(message) => ("error", Some(message)),
        }
    }

    /// Reads the stored status name and message.
    fn from_columns(status: &str, message: Option<String>) -> Result<Self> {
        match status {
            "connected" => Ok(ConnectionStatus::Connected),
            "unauthenticated" => Ok(ConnectionStatus::Unauthenticated),
            "error" => Ok(ConnectionStatus::Error(message.unwrap_or_default())),
            _ => Err(StoreError::Corrupt { column: "connections.status", value: status.to_owned() }),
        }
    }
}

/// A connection as list and get show it: public values, and only the names of its secrets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    /// Identifier.
    pub id: ConnectionId,
    /// The connector it is for.
    pub connector_id: ConnectorId,
    /// The user who created it; connections are private to them unless shared.
    pub owner_id: UserId,
    /// Name shown to people.
    pub display_name: String,
    /// The connector parameter set chosen (`connectionParameterSets`), if the connector has several.
    pub parameter_set: Option<String>,
    /// Values of the non-secret connection parameters.
    pub values: Map<String, Value>,
    /// Names of the secret parameters that have a value, sorted.
    pub secret_names: Vec<String>,
    /// Whether OAuth tokens are stored.
    pub has_tokens: bool,
    /// Whether it can be used.
    pub status: ConnectionStatus,
    /// The on-premises gateway every call of this connection goes through, if bound.
    pub gateway_id: Option<GatewayId>,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Time of the last change (epoch ms).
    pub updated_at: i64,
}

/// The fields of a connection to create.
#[derive(Debug, Clone)]
pub struct NewConnection<'a> {
    /// The connector, which must be in the owner's environment.
    pub connector_id: &'a ConnectorId,
    /// The user creating it.
    pub owner_id: &'a UserId,
    /// Name shown to people.
    pub display_name: &'a str,
    /// The parameter set chosen, if the connector has several.
    pub parameter_set: Option<&'a str>,
    /// Values of the non-secret parameters, stored as they are.
    pub values: Map<String, Value>,
    /// Values of the secret parameters (`securestring` and the like), sealed before they are stored.
    pub secrets: BTreeMap<String, String>,
    /// Initial status.
    pub status: ConnectionStatus,
}

/// Decrypted secrets of a connection, for the runtime only; `Debug` shows names, never values.
#[derive(Clone, Default, PartialEq)]
pub struct ConnectionSecrets {
    /// Secret parameter values by name.
    pub values: BTreeMap<String, String>,
    /// The OAuth token response (access token, refresh token, expiry, …), if stored.
    pub tokens: Option<Value>,
}

impl fmt::Debug for ConnectionSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionSecrets")
            .field("values", &self.values.keys().collect::<Vec<_>>())
            .field("tokens", &self.tokens.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Connections of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct Connections<'a> {
    store: &'a Store,
}

/// The associated data that binds a sealed value to its connection and field.
fn associated_data(connection: &str, field: &str) -> Vec<u8> {
    [connection.as_bytes(), b"\0", field.as_bytes()].concat()
}

/// Selects connections, one row per secret name (or one with a NULL name), ordered for grouping.
macro_rules! select_connections {
    ($filter:literal) => {
        concat!(
            "SELECT c.id, c.connector_id, c.owner_id, c.display_name, c.parameter_set, c.parameter_values, ",
            "c.status, c.status_message, c.gateway_id, c.created_at, c.updated_at, ",
            "CAST(CASE WHEN c.tokens IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_tokens, s.name AS secret_name ",
            "FROM connections c LEFT JOIN connection_secrets s ON s.connection_id = c.id ",
            $filter,
            " ORDER BY c.created_at, c.id, s.name"
        )
    };
}

/// Folds rows from `select_connections!` into connections, collecting each one's secret names.
fn group_connections<R: Cols>(rows: &[R]) -> Result<Vec<Connection>> {
    let mut connections: Vec<Connection> = Vec::new();
    for row in rows {
        let id = row.text("id")?;
        if connections.last().is_none_or(|last| last.id.as_str() != id) {
            let values = match serde_json::from_str(&row.text("parameter_values")?)? {
                Value::Object(values) => values,
                other => {
                    return Err(StoreError::Corrupt {
                        column: "connections.parameter_values",
                        value: other.to_string(),
                    });
                }
            };
            connections.push(Connection {
                id: id.into(),
                connector_id: row.text("connector_id")?.into(),
                owner_id: row.text("owner_id")?.into(),
                display_name: row.text("display_name")?,
                parameter_set: row.opt_text("parameter_set")?,
                values,
                secret_names: Vec::new(),
                has_tokens: row.int("has_tokens")? != 0,
                status: ConnectionStatus::from_columns(
                    &row.text("status")?,
                    row.opt_text("status_message")?,
                )?,
                gateway_id: row.opt_text("gateway_id")?.map(GatewayId::from),
                created_at: row.int("created_at")?,
                updated_at: row.int("updated_at")?,
            });
        }
        if let (Some(name), Some(last)) = (row.opt_text("secret_name")?, connections.last_mut()) {
            last.secret_names.push(name);
        }
    }
    Ok(connections)
}

impl<'a> Connections<'a> {
    /// The connections of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        Connections { store }
    }

    /// Creates a connection; its secrets are sealed before they reach the database.
    pub async fn create(self, new: NewConnection<'_>) -> Result<Connection> {
        let key = self.store.secret_key()?;
        let display_name = check_name("connection name", new.display_name, 200)?;
        if let Some(name) = new.secrets.keys().find(|name| new.values.contains_key(*name)) {
            return Err(StoreError::invalid(
                "secrets",
                format!("`{name}` is given both as a value and as a secret"),
            ));
        }
        let id = ConnectionId::random()?;
        let mut sealed = Vec::with_capacity(new.secrets.len());
        for (name, value) in &new.secrets {
            check_name("secret name", name, 128)?;
            sealed.push((name.as_str(), key.encrypt(value.as_bytes(), &associated_data(id.as_str(), name))?));
        }
        let values = serde_json::to_string(&new.values)?;
        let (status, message) = new.status.to_columns();
        let now = now_ms();
        in_tx!(&self.store.db, tx => {
            let inserted = sqlx::query(
                "INSERT INTO connections (id, connector_id, owner_id, display_name, parameter_set, \
                 parameter_values, status, status_message, created_at, updated_at) \
                 SELECT $1, k.id, u.id, $4, $5, $6, $7, $8, $9, $9 FROM connectors k \
                 JOIN users u ON u.id = $3 AND u.environment_id = k.environment_id WHERE k.id = $2",
            )
            .bind(id.as_str())
            .bind(new.connector_id.as_str())
            .bind(new.owner_id.as_str())
            .bind(display_name)
            .bind(new.parameter_set)
            .bind(&values)
            .bind(status)
            .bind(message)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                let what = format!("{} (in the environment of user {})", new.connector_id, new.owner_id);
                return Err(StoreError::not_found("connector", what));
            }
            for (name, sealed) in &sealed {
                sqlx::query("INSERT INTO connection_secrets (connection_id, name, sealed) VALUES ($1, $2, $3)")
                    .bind(id.as_str())
                    .bind(*name)
                    .bind(sealed.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
        });
        self.get(&id).await
    }

    /// The connection `id`: public values and secret names, never secret values.
    pub async fn get(self, id: &ConnectionId) -> Result<Connection> {
        let connections = on_db!(&self.store.db, pool => {
            let rows = sqlx::query(select_connections!("WHERE c.id = $1")).bind(id.as_str()).fetch_all(pool).await?;
            group_connections(&rows)?
        });
        connections.into_iter().next().ok_or_else(|| StoreError::not_found("connection", id))
    }

    /// The connections `user` owns or was granted (in the user's environment), oldest first.
    pub async fn list(self, visible_to: &UserId) -> Result<Vec<Connection>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(select_connections!(
                "JOIN connectors k ON k.id = c.connector_id \
                 JOIN users u ON u.id = $1 AND u.environment_id = k.environment_id \
                 WHERE c.owner_id = u.id OR EXISTS ( \
                   SELECT 1 FROM grants g WHERE g.resource_kind = 'connection' AND g.resource_id = c.id \
                   AND ((g.grantee_kind = 'user' AND g.grantee_id = u.id) \
                     OR (g.grantee_kind = 'environment' AND g.grantee_id = u.environment_id)))"
            ))
            .bind(visible_to.as_str())
            .fetch_all(pool)
            .await?;
            group_connections(&rows)
        })
    }

    /// Opens the secrets of a connection, for the runtime that calls the connector's API.
    pub async fn secrets(self, id: &ConnectionId) -> Result<ConnectionSecrets> {
        let key = self.store.secret_key()?;
        // One statement: the sealed tokens on every row, one row per sealed field (or one without).
        let rows = on_db!(&self.store.db, pool => {
            sqlx::query(
                "SELECT c.tokens, s.name, s.sealed FROM connections c \
                 LEFT JOIN connection_secrets s ON s.connection_id = c.id WHERE c.id = $1",
            )
            .bind(id.as_str())
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| Ok((row.opt_blob("tokens")?, row.opt_text("name")?, row.opt_blob("sealed")?)))
            .collect::<Result<Vec<_>>>()?
        });
        let Some((tokens, _, _)) = rows.first() else {
            return Err(StoreError::not_found("connection", id));
        };
        let tokens = tokens.clone();
        let fields = rows.into_iter().filter_map(|(_, name, sealed)| Some((name?, sealed?)));
        let open = |field: &str, sealed: &[u8]| {
            key.decrypt(sealed, &associated_data(id.as_str(), field))
                .map_err(|source| StoreError::Decrypt { field: format!("{id}/{field}"), source })
        };
        let mut secrets = ConnectionSecrets::default();
        for (name, sealed) in fields {
            let plain = open(&name, &sealed)?;
            let text = String::from_utf8(plain).map_err(|_| StoreError::Corrupt {
                column: "connection_secrets.sealed",
                value: format!("{id}/{name}"),
            })?;
            secrets.values.insert(name, text);
        }
        if let Some(sealed) = tokens {
            secrets.tokens = Some(serde_json::from_slice(&open(TOKENS_FIELD, &sealed)?)?);
        }
        Ok(secrets)
    }

    /// Seals and stores the OAuth token response of a connection, replacing any earlier one.
    pub async fn set_tokens(self, id: &ConnectionId, tokens: &Value) -> Result<()> {
        let key = self.store.secret_key()?;
        let sealed =
            key.encrypt(&serde_json::to_vec(tokens)?, &associated_data(id.as_str(), TOKENS_FIELD))?;
        let updated = on_db!(&self.store.db, pool => {
            sqlx::query("UPDATE connections SET tokens = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(sealed.as_slice())
                .bind(now_ms())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 { Err(StoreError::not_found("connection", id)) } else { Ok(()) }
    }

    /// Replaces (or, with `None`, removes) one secret value of a connection.
    pub async fn set_secret(self, id: &ConnectionId, name: &str, value: Option<&str>) -> Result<()> {
        let key = self.store.secret_key()?;
        check_name("secret name", name, 128)?;
        let sealed = value
            .map(|value| key.encrypt(value.as_bytes(), &associated_data(id.as_str(), name)))
            .transpose()?;
        let updated = in_tx!(&self.store.db, tx => {
            let updated = sqlx::query("UPDATE connections SET updated_at = $2 WHERE id = $1")
                .bind(id.as_str())
                .bind(now_ms())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM connection_secrets WHERE connection_id = $1 AND name = $2")
                .bind(id.as_str())
                .bind(name)
                .execute(&mut *tx)
                .await?;
            if let (Some(sealed), 1) = (&sealed, updated) {
                sqlx::query("INSERT INTO connection_secrets (connection_id, name, sealed) VALUES ($1, $2, $3)")
                    .bind(id.as_str())
                    .bind(name)
                    .bind(sealed.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            updated
        });
        if updated == 0 { Err(StoreError::not_found("connection", id)) } else { Ok(()) }
    }

    /// Records whether the connection can be used.
    pub async fn set_status(self, id: &ConnectionId, status: &ConnectionStatus) -> Result<()> {
        let (status, message) = status.to_columns();
        let updated = on_db!(&self.store.db, pool => {
            sqlx::query("UPDATE connections SET status = $2, status_message = $3, updated_at = $4 WHERE id = $1")
                .bind(id.as_str())
                .bind(status)
                .bind(message)
                .bind(now_ms())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 { Err(StoreError::not_found("connection", id)) } else { Ok(()) }
    }

    /// Deletes a connection with its secrets, OAuth states and grants.
    pub async fn delete(self, id: &ConnectionId) -> Result<()> {
        let deleted = in_tx!(&self.store.db, tx => {
            sqlx::query("DELETE FROM grants WHERE resource_kind = 'connection' AND resource_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM connections WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await?.rows_affected()
        });
        if deleted == 0 { Err(StoreError::not_found("connection", id)) } else { Ok(()) }
    }
}
