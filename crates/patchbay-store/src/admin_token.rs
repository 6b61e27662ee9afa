//! An admin token chosen by the operator (the server reads it from `PATCHBAY_ADMIN_TOKEN`), so that
//! scripted deployments know the admin's token in advance instead of reading it from the output of
//! the first start. Only its SHA-256 hash is stored, like every API token.

use crate::dialect::in_tx;
use crate::error::{Result, StoreError};
use crate::ids::{TokenId, now_ms};
use crate::people::{People, Role, TOKEN_PREFIX, User, token_hash, user_from};

/// The name of the token record that holds the operator's admin token.
pub const CONFIGURED_TOKEN_NAME: &str = "configured admin token";

/// The shortest configured token accepted, prefix included (`pb_` and at least 128 bits of base64).
pub const MIN_CONFIGURED_TOKEN_LEN: usize = 3 + 22;

/// The longest token the store authenticates.
const MAX_TOKEN_LEN: usize = 200;

/// What [`People::ensure_admin_token`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTokenSetup {
    /// The admin the token acts as.
    pub admin: User,
    /// The store was empty: the first admin was created with this token (no random token was made).
    pub bootstrapped: bool,
    /// The token was stored by this call (`false`: it was already a token of that admin).
    pub added: bool,
}

/// Checks the form of a configured token: `pb_`, then at least 22 of the characters a bearer token
/// may hold (letters, digits, `-`, `.`, `_`, `~`, `+`, `/`, `=`); the error never shows the token.
pub fn check_configured_token(plaintext: &str) -> Result<()> {
    let how = "make one with `echo pb_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')`";
    if !plaintext.starts_with(TOKEN_PREFIX) {
        return Err(StoreError::invalid(
            "admin token",
            format!("it must start with `{TOKEN_PREFIX}`; {how}"),
        ));
    }
    let length = plaintext.len();
    if !(MIN_CONFIGURED_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&length) {
        return Err(StoreError::invalid(
            "admin token",
            format!(
                "it has {length} characters; it needs {MIN_CONFIGURED_TOKEN_LEN} to {MAX_TOKEN_LEN}; {how}"
            ),
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=');
    if !plaintext.chars().all(allowed) {
        return Err(StoreError::invalid(
            "admin token",
            format!("it may hold only letters, digits and `-._~+/=`; {how}"),
        ));
    }
    Ok(())
}

/// Selects a user by the hash of one of their tokens.
const USER_BY_TOKEN: &str = "SELECT u.id, u.environment_id, u.email, u.display_name, u.role, u.password_hash, \
     u.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1";

/// Selects the admin a configured token goes to: `admin@localhost` (the bootstrapped admin) when it is
/// still an admin, else the oldest admin.
const RECEIVING_ADMIN: &str = "SELECT id, environment_id, email, display_name, role, password_hash, created_at \
     FROM users WHERE role = 'admin' \
     ORDER BY CASE WHEN email = 'admin@localhost' THEN 0 ELSE 1 END, created_at, id LIMIT 1";

impl People<'_> {
    /// Makes `plaintext` a valid API token of an admin, idempotently: in an empty store the first
    /// admin is created with it (instead of a random token); otherwise, unless it already is a token
    /// of an admin, it is stored once for the bootstrapped admin (else the oldest admin) under
    /// [`CONFIGURED_TOKEN_NAME`], replacing the token an earlier configured value left there.
    /// A token that belongs to a user who is not an admin is refused. Safe on several nodes at once.
    pub async fn ensure_admin_token(self, plaintext: &str) -> Result<AdminTokenSetup> {
        check_configured_token(plaintext)?;
        if let Some(first) = self.bootstrap_with(Some(plaintext)).await? {
            return Ok(AdminTokenSetup { admin: first.admin, bootstrapped: true, added: true });
        }
        match self.add_configured(plaintext).await {
            // Another node stored the same token between our check and our insert.
            Err(StoreError::AlreadyExists { .. }) => self.add_configured(plaintext).await,
            outcome => outcome,
        }
    }

    /// The non-empty-store half of [`People::ensure_admin_token`], in one transaction.
    async fn add_configured(self, plaintext: &str) -> Result<AdminTokenSetup> {
        let hash = token_hash(plaintext);
        let (id, now) = (TokenId::random()?, now_ms());
        let setup = in_tx!(&self.store.db, tx => {
            let holder = sqlx::query(USER_BY_TOKEN).bind(&hash).fetch_optional(&mut *tx).await?;
            if let Some(row) = holder {
                let user = user_from(&row)?;
                if user.role != Role::Admin {
                    return Err(StoreError::invalid(
                        "admin token",
                        "it is already the API token of a user who is not an admin; choose another",
                    ));
                }
                return Ok(AdminTokenSetup { admin: user, bootstrapped: false, added: false });
            }
            let row = sqlx::query(RECEIVING_ADMIN).fetch_optional(&mut *tx).await?;
            let admin = match row {
                Some(row) => user_from(&row)?,
                None => return Err(StoreError::invalid("admin token", "the store has no admin to give it to")),
            };
            // Another node may have stored this very token since our check: keep it, so that our
            // insert collides with it instead of replacing it.
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND name = $2 AND token_hash <> $3")
                .bind(admin.id.as_str())
                .bind(CONFIGURED_TOKEN_NAME)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id.as_str())
                .bind(admin.id.as_str())
                .bind(CONFIGURED_TOKEN_NAME)
                .bind(&hash)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(crate::error::unique_as_exists("token", CONFIGURED_TOKEN_NAME))?;
            AdminTokenSetup { admin, bootstrapped: false, added: true }
        });
        Ok(setup)
    }
}

#[cfg(test)]
mod tests {
    use super::check_configured_token;

    #[test]
    fn configured_tokens_need_the_prefix_enough_length_and_bearer_characters() {
        assert!(check_configured_token("pb_0123456789abcdefghijkl").is_ok());
        assert!(check_configured_token("pb_short").is_err());
        assert!(check_configured_token("xx_0123456789abcdefghijklmnop").is_err());
        assert!(check_configured_token("pb_0123456789abcdefghijkl mnop").is_err());
        assert!(check_configured_token(&format!("pb_{}", "a".repeat(300))).is_err());
        let error = check_configured_token("pb_secret-but-short").unwrap_err().to_string();
        assert!(!error.contains("secret-but-short"), "{error}");
    }
}
