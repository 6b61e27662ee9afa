//! A connector's OAuth client secret (what `paconn create --secret` gives): sealed with the store's
//! [`SecretKey`](crate::SecretKey), bound to the connector id, kept apart from the revisions so that it
//! is never part of a package, and opened only for the runtime. Connections that carry no client
//! secret of their own use it.
//!
//! It lives in the `store_meta` key-value table under `connector/<id>/client_secret` (base64 of the
//! sealed bytes) until a migration gives connector secrets a table of their own; the API here does
//! not change then. Deleting the connector deletes it ([`Connectors::delete`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::connectors::Connectors;
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError};
use crate::ids::ConnectorId;

/// The field name the sealed value is bound to (it cannot clash with a parameter name).
const CLIENT_SECRET_FIELD: &str = "$clientSecret";

/// The `store_meta` key of connector `id`'s client secret.
pub(crate) fn client_secret_key(id: &str) -> String {
    format!("connector/{id}/client_secret")
}

/// The associated data that binds a sealed value to its connector and field.
fn associated_data(id: &str) -> Vec<u8> {
    [b"connector\0".as_slice(), id.as_bytes(), b"\0", CLIENT_SECRET_FIELD.as_bytes()].concat()
}

/// The longest client secret accepted (bytes).
const MAX_SECRET_LEN: usize = 4096;

impl Connectors<'_> {
    /// Seals and stores the OAuth client secret of connector `id`, replacing any earlier one;
    /// `None` removes it.
    pub async fn set_client_secret(self, id: &ConnectorId, secret: Option<&str>) -> Result<()> {
        let key = client_secret_key(id.as_str());
        let sealed =
            match secret {
                Some("") => {
                    return Err(StoreError::invalid("client secret", "must not be empty"));
                }
                Some(secret) if secret.len() > MAX_SECRET_LEN => {
                    return Err(StoreError::invalid(
                        "client secret",
                        format!("must be at most {MAX_SECRET_LEN} bytes"),
                    ));
                }
                Some(secret) => Some(STANDARD.encode(
                    self.store.secret_key()?.encrypt(secret.as_bytes(), &associated_data(id.as_str()))?,
                )),
                None => None,
            };
        let found = on_db!(&self.store.db, pool => {
            match &sealed {
                Some(sealed) => sqlx::query(
                    "INSERT INTO store_meta (key, value) SELECT $1, $2 FROM connectors WHERE id = $3 \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(&key)
                .bind(sealed)
                .bind(id.as_str())
                .execute(pool)
                .await?
                .rows_affected(),
                None => {
                    sqlx::query("DELETE FROM store_meta WHERE key = $1").bind(&key).execute(pool).await?;
                    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM connectors WHERE id = $1")
                        .bind(id.as_str())
                        .fetch_one(pool)
                        .await?;
                    u64::from(count > 0)
                }
            }
        });
        if found == 0 { Err(StoreError::not_found("connector", id)) } else { Ok(()) }
    }

    /// Whether connector `id` has a client secret (never its value).
    pub async fn has_client_secret(self, id: &ConnectorId) -> Result<bool> {
        Ok(self.sealed_client_secret(id).await?.is_some())
    }

    /// Opens the client secret of connector `id`, for the runtime only.
    pub async fn client_secret(self, id: &ConnectorId) -> Result<Option<String>> {
        let Some(text) = self.sealed_client_secret(id).await? else { return Ok(None) };
        let corrupt =
            || StoreError::Corrupt { column: "store_meta.value", value: client_secret_key(id.as_str()) };
        let sealed = STANDARD.decode(text).map_err(|_| corrupt())?;
        let plain =
            self.store.secret_key()?.decrypt(&sealed, &associated_data(id.as_str())).map_err(|source| {
                StoreError::Decrypt { field: format!("{id}/{CLIENT_SECRET_FIELD}"), source }
            })?;
        String::from_utf8(plain).map(Some).map_err(|_| corrupt())
    }

    /// The stored (sealed, base64) client secret of connector `id`, if any.
    async fn sealed_client_secret(self, id: &ConnectorId) -> Result<Option<String>> {
        let key = client_secret_key(id.as_str());
        on_db!(&self.store.db, pool => {
            let row = sqlx::query("SELECT value FROM store_meta WHERE key = $1").bind(&key).fetch_optional(pool).await?;
            row.map(|row| row.text("value")).transpose()
        })
    }
}
