//! Portal sign-in sessions: a random cookie value (only its hash stored) naming a user, with the
//! session's anti-forgery (CSRF) token and an expiry. Kept in the database, so any server node
//! serves a signed-in person and signing out ends the session on every node.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Store;
use crate::dialect::{Cols, on_db};
use crate::error::{Result, StoreError};
use crate::ids::{UserId, now_ms, random_bytes};
use crate::people::{User, token_hash, user_from};

/// A session just opened: the cookie value (returned here only) and its CSRF token.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedSession {
    /// The cookie value; the store keeps only its hash.
    pub cookie: String,
    /// The anti-forgery token every form of this session must send back.
    pub csrf: String,
}

impl std::fmt::Debug for OpenedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenedSession(<redacted>)")
    }
}

/// A live session: who is signed in and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct PortalSession {
    /// The signed-in user.
    pub user: User,
    /// The anti-forgery token of the session.
    pub csrf: String,
}

/// Portal sessions of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct PortalSessions<'a> {
    store: &'a Store,
}

impl<'a> PortalSessions<'a> {
    /// The portal sessions of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        PortalSessions { store }
    }

    /// Opens a session for `user` that lasts `ttl_ms`; the user must exist.
    pub async fn open(self, user: &UserId, ttl_ms: i64) -> Result<OpenedSession> {
        let opened = OpenedSession { cookie: random_text()?, csrf: random_text()? };
        let now = now_ms();
        let inserted = on_db!(&self.store.db, pool => {
            sqlx::query(
                "INSERT INTO portal_sessions (token_hash, user_id, csrf, expires_at, created_at) \
                 SELECT $1, u.id, $3, $4, $5 FROM users u WHERE u.id = $2",
            )
            .bind(token_hash(&opened.cookie))
            .bind(user.as_str())
            .bind(&opened.csrf)
            .bind(now.saturating_add(ttl_ms))
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if inserted == 0 { Err(StoreError::not_found("user", user)) } else { Ok(opened) }
    }

    /// The live session a cookie value names; `None` when unknown, malformed or expired.
    pub async fn find(self, cookie: &str) -> Result<Option<PortalSession>> {
        if cookie.is_empty() || cookie.len() > 100 {
            return Ok(None);
        }
        on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "SELECT u.id, u.environment_id, u.email, u.display_name, u.role, u.password_hash, \
                 u.created_at, s.csrf FROM portal_sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(token_hash(cookie))
            .bind(now_ms())
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => Ok(Some(PortalSession { user: user_from(&row)?, csrf: row.text("csrf")? })),
                None => Ok(None),
            }
        })
    }

    /// Ends the session a cookie value names (nothing happens when there is none).
    pub async fn close(self, cookie: &str) -> Result<()> {
        on_db!(&self.store.db, pool => {
            sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1")
                .bind(token_hash(cookie))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes the sessions expired at `now_ms`; returns how many.
    pub async fn purge_expired(self, now_ms: i64) -> Result<u64> {
        on_db!(&self.store.db, pool => {
            Ok(sqlx::query("DELETE FROM portal_sessions WHERE expires_at <= $1")
                .bind(now_ms)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }
}

/// 32 random bytes as URL-safe base64.
fn random_text() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}
