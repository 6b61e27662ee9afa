//! OAuth sign-ins in progress: the `state` sent to the identity provider, with the PKCE verifier and
//! where to send the user afterwards. Kept in the database so that any node can finish the dance;
//! each state can be taken once, and expired ones are refused.

use crate::Store;
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError, unique_as_exists};
use crate::ids::{ConnectionId, check_name, now_ms};

/// One sign-in in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    /// The opaque `state` parameter (unguessable; chosen by the caller).
    pub state: String,
    /// The connection that receives the tokens.
    pub connection_id: ConnectionId,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to send the user when the sign-in completes.
    pub redirect: String,
    /// Expiry (epoch ms); the state is refused from then on.
    pub expires_at: i64,
}

/// OAuth states of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct OAuthStates<'a> {
    store: &'a Store,
}

impl<'a> OAuthStates<'a> {
    /// The OAuth states of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        OAuthStates { store }
    }

    /// Records a sign-in in progress for an existing connection.
    pub async fn put(self, state: &OAuthState) -> Result<()> {
        check_name("OAuth state", &state.state, 512)?;
        let inserted = on_db!(&self.store.db, pool => {
            sqlx::query(
                "INSERT INTO oauth_states (state, connection_id, verifier, redirect, expires_at, created_at) \
                 SELECT $1, c.id, $3, $4, $5, $6 FROM connections c WHERE c.id = $2",
            )
            .bind(&state.state)
            .bind(state.connection_id.as_str())
            .bind(&state.verifier)
            .bind(&state.redirect)
            .bind(state.expires_at)
            .bind(now_ms())
            .execute(pool)
            .await
            .map_err(unique_as_exists("OAuth state", "<state>"))?
            .rows_affected()
        });
        if inserted == 0 { Err(StoreError::not_found("connection", &state.connection_id)) } else { Ok(()) }
    }

    /// Takes a state: returns it and deletes it in one statement, so only one caller ever gets it.
    /// An unknown, already taken or expired state gives `None`.
    pub async fn take(self, state: &str) -> Result<Option<OAuthState>> {
        let taken = on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "DELETE FROM oauth_states WHERE state = $1 \
                 RETURNING state, connection_id, verifier, redirect, expires_at",
            )
            .bind(state)
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => Some(OAuthState {
                    state: row.text("state")?,
                    connection_id: row.text("connection_id")?.into(),
                    verifier: row.text("verifier")?,
                    redirect: row.text("redirect")?,
                    expires_at: row.int("expires_at")?,
                }),
                None => None,
            }
        });
        Ok(taken.filter(|taken| taken.expires_at > now_ms()))
    }

    /// Deletes the states expired at `now_ms` (epoch ms: those whose expiry is not after it);
    /// returns how many. The server runs it periodically, so abandoned sign-ins do not pile up.
    pub async fn purge_expired(self, now_ms: i64) -> Result<u64> {
        on_db!(&self.store.db, pool => {
            Ok(sqlx::query("DELETE FROM oauth_states WHERE expires_at <= $1")
                .bind(now_ms)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }
}
