//! People: environments, users with a role (admin or maker) and an optional argon2 password hash,
//! and API tokens, of which only a SHA-256 hash is stored.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{Error as HashError, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Store;
use crate::dialect::{Cols, in_tx, on_db};
use crate::error::{Result, StoreError, unique_as_exists};
use crate::ids::{EnvironmentId, TokenId, UserId, check_name, hex, name_key, now_ms, random_bytes};

/// The prefix of every API token, so a leaked token is recognisable.
pub const TOKEN_PREFIX: &str = "pb_";

/// An environment: the scope of users, connectors and sharing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    /// Identifier.
    pub id: EnvironmentId,
    /// Display name, unique (case-insensitively) across the store.
    pub name: String,
    /// Creation time (epoch ms).
    pub created_at: i64,
}

/// What a user may do in their environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the environment and its people.
    Admin,
    /// Builds and uses connectors and connections.
    Maker,
}

impl Role {
    /// The role's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Maker => "maker",
        }
    }

    /// Reads a stored role name.
    fn parse(text: &str) -> Result<Role> {
        match text {
            "admin" => Ok(Role::Admin),
            "maker" => Ok(Role::Maker),
            _ => Err(StoreError::Corrupt { column: "users.role", value: text.to_owned() }),
        }
    }
}

/// A user; the password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// The one environment the user belongs to.
    pub environment_id: EnvironmentId,
    /// Sign-in name, unique across the store, stored in lowercase.
    pub email: String,
    /// Name shown to people.
    pub display_name: String,
    /// Role in the environment.
    pub role: Role,
    /// Whether a password is set (users may sign in with tokens only).
    pub has_password: bool,
    /// Creation time (epoch ms).
    pub created_at: i64,
}

/// The fields of a user to create.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// Environment the user joins.
    pub environment_id: &'a EnvironmentId,
    /// Sign-in name (compared case-insensitively).
    pub email: &'a str,
    /// Name shown to people.
    pub display_name: &'a str,
    /// Role in the environment.
    pub role: Role,
    /// Initial password, hashed with argon2 before it is stored.
    pub password: Option<&'a str>,
}

/// An API token's record (its plaintext is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Identifier (not the token).
    pub id: TokenId,
    /// The user the token acts as.
    pub user_id: UserId,
    /// Label chosen by the user.
    pub name: String,
    /// Creation time (epoch ms).
    pub created_at: i64,
}

/// A token just created: its record and its plaintext, which the store cannot show again.
#[derive(Clone)]
pub struct IssuedToken {
    /// The stored record.
    pub token: ApiToken,
    /// The `pb_…` token to hand to the user.
    pub plaintext: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken").field("token", &self.token).field("plaintext", &"<redacted>").finish()
    }
}

/// What [`People::bootstrap_admin`] created in an empty store.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The first environment, named `default`.
    pub environment: Environment,
    /// The first admin, `admin@localhost`, without a password.
    pub admin: User,
    /// The admin's first API token.
    pub token: IssuedToken,
}

/// Environments, users and API tokens of a [`Store`].
#[derive(Debug, Clone, Copy)]
pub struct People<'a> {
    pub(crate) store: &'a Store,
}

/// Maps an `environments` row.
fn environment_from(row: &impl Cols) -> Result<Environment> {
    Ok(Environment {
        id: row.text("id")?.into(),
        name: row.text("name")?,
        created_at: row.int("created_at")?,
    })
}

/// Maps a `users` row selected with `USER_COLUMNS`.
pub(crate) fn user_from(row: &impl Cols) -> Result<User> {
    Ok(User {
        id: row.text("id")?.into(),
        environment_id: row.text("environment_id")?.into(),
        email: row.text("email")?,
        display_name: row.text("display_name")?,
        role: Role::parse(&row.text("role")?)?,
        has_password: row.opt_text("password_hash")?.is_some(),
        created_at: row.int("created_at")?,
    })
}

/// Maps an `api_tokens` row.
fn token_from(row: &impl Cols) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.text("id")?.into(),
        user_id: row.text("user_id")?.into(),
        name: row.text("name")?,
        created_at: row.int("created_at")?,
    })
}

/// The stored form of a token: hexadecimal SHA-256 of the whole plaintext.
pub fn token_hash(plaintext: &str) -> String {
    hex(&Sha256::digest(plaintext.as_bytes()))
}

/// A new random token: `prefix` and 32 random bytes in URL-safe base64.
pub(crate) fn new_token_plaintext(prefix: &str) -> Result<String> {
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
}

/// Hashes `password` with argon2id (default parameters, random salt) off the async threads.
async fn hash_password(password: &str) -> Result<String> {
    if password.is_empty() {
        return Err(StoreError::invalid("password", "must not be empty"));
    }
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let hash: PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|error| StoreError::Password(error.to_string()))?;
        Ok(hash.to_string())
    })
    .await
    .map_err(|error| StoreError::Task(error.to_string()))?
}

/// Whether `password` matches the stored argon2 `hash`, checked off the async threads.
async fn password_matches(password: &str, hash: String) -> Result<bool> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|error| StoreError::Corrupt {
            column: "users.password_hash",
            value: error.to_string(),
        })?;
        match Argon2::default().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(HashError::PasswordInvalid) => Ok(false),
            Err(error) => Err(StoreError::Password(error.to_string())),
        }
    })
    .await
    .map_err(|error| StoreError::Task(error.to_string()))?
}

impl<'a> People<'a> {
    /// The people of `store`.
    pub(crate) fn new(store: &'a Store) -> Self {
        People { store }
    }

    /// Creates an environment; names are unique case-insensitively.
    pub async fn create_environment(self, name: &str) -> Result<Environment> {
        let name = check_name("environment name", name, 100)?;
        let environment =
            Environment { id: EnvironmentId::random()?, name: name.to_owned(), created_at: now_ms() };
        on_db!(&self.store.db, pool => {
            sqlx::query("INSERT INTO environments (id, name, name_key, created_at) VALUES ($1, $2, $3, $4)")
                .bind(environment.id.as_str())
                .bind(&environment.name)
                .bind(name_key(name))
                .bind(environment.created_at)
                .execute(pool)
                .await
                .map_err(unique_as_exists("environment", name))?;
        });
        Ok(environment)
    }

    /// The environment `id`.
    pub async fn environment(self, id: &EnvironmentId) -> Result<Environment> {
        on_db!(&self.store.db, pool => {
            let row = sqlx::query("SELECT id, name, created_at FROM environments WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?;
            row.map(|row| environment_from(&row)).transpose()?.ok_or_else(|| StoreError::not_found("environment", id))
        })
    }

    /// Every environment, by name.
    pub async fn environments(self) -> Result<Vec<Environment>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query("SELECT id, name, created_at FROM environments ORDER BY name_key")
                .fetch_all(pool)
                .await?;
            rows.iter().map(environment_from).collect()
        })
    }

    /// Creates a user in an existing environment; emails are unique across the store.
    pub async fn create_user(self, new: NewUser<'_>) -> Result<User> {
        let email = check_name("email", new.email, 254)?.to_lowercase();
        let display_name = check_name("display name", new.display_name, 200)?;
        let password_hash = match new.password {
            Some(password) => Some(hash_password(password).await?),
            None => None,
        };
        let user = User {
            id: UserId::random()?,
            environment_id: new.environment_id.clone(),
            email,
            display_name: display_name.to_owned(),
            role: new.role,
            has_password: password_hash.is_some(),
            created_at: now_ms(),
        };
        let inserted = on_db!(&self.store.db, pool => {
            sqlx::query(
                "INSERT INTO users (id, environment_id, email, display_name, role, password_hash, created_at) \
                 SELECT $1, e.id, $3, $4, $5, $6, $7 FROM environments e WHERE e.id = $2",
            )
            .bind(user.id.as_str())
            .bind(user.environment_id.as_str())
            .bind(&user.email)
            .bind(&user.display_name)
            .bind(user.role.as_str())
            .bind(password_hash.as_deref())
            .bind(user.created_at)
            .execute(pool)
            .await
            .map_err(unique_as_exists("user", &user.email))?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::not_found("environment", new.environment_id));
        }
        Ok(user)
    }

    /// The user `id`.
    pub async fn user(self, id: &UserId) -> Result<User> {
        on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "SELECT id, environment_id, email, display_name, role, password_hash, created_at \
                 FROM users WHERE id = $1",
            )
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?;
            row.map(|row| user_from(&row)).transpose()?.ok_or_else(|| StoreError::not_found("user", id))
        })
    }

    /// The user signing in as `email` (case-insensitive), if any.
    pub async fn user_by_email(self, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "SELECT id, environment_id, email, display_name, role, password_hash, created_at \
                 FROM users WHERE email = $1",
            )
            .bind(&email)
            .fetch_optional(pool)
            .await?;
            row.map(|row| user_from(&row)).transpose()
        })
    }

    /// The users of an environment, by email.
    pub async fn users(self, environment: &EnvironmentId) -> Result<Vec<User>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT id, environment_id, email, display_name, role, password_hash, created_at \
                 FROM users WHERE environment_id = $1 ORDER BY email",
            )
            .bind(environment.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(user_from).collect()
        })
    }

    /// Changes a user's role.
    pub async fn set_role(self, user: &UserId, role: Role) -> Result<()> {
        let updated = on_db!(&self.store.db, pool => {
            sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
                .bind(user.as_str())
                .bind(role.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 { Err(StoreError::not_found("user", user)) } else { Ok(()) }
    }

    /// Sets (argon2-hashes and stores) a user's password.
    pub async fn set_password(self, user: &UserId, password: &str) -> Result<()> {
        let hash = hash_password(password).await?;
        let updated = on_db!(&self.store.db, pool => {
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user.as_str())
                .bind(&hash)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 { Err(StoreError::not_found("user", user)) } else { Ok(()) }
    }

    /// The user whose email and password match, or `None` (unknown email, no password, wrong password).
    pub async fn verify_password(self, email: &str, password: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        let found = on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "SELECT id, environment_id, email, display_name, role, password_hash, created_at \
                 FROM users WHERE email = $1",
            )
            .bind(&email)
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => Some((user_from(&row)?, row.opt_text("password_hash")?)),
                None => None,
            }
        });
        match found {
            Some((user, Some(hash))) => Ok(password_matches(password, hash).await?.then_some(user)),
            _ => Ok(None),
        }
    }

    /// Issues an API token for `user`; the plaintext is returned here only, the store keeps its hash.
    pub async fn create_token(self, user: &UserId, name: &str) -> Result<IssuedToken> {
        let name = check_name("token name", name, 100)?;
        let token = ApiToken {
            id: TokenId::random()?,
            user_id: user.clone(),
            name: name.to_owned(),
            created_at: now_ms(),
        };
        let plaintext = new_token_plaintext(TOKEN_PREFIX)?;
        let inserted = on_db!(&self.store.db, pool => {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) \
                 SELECT $1, u.id, $3, $4, $5 FROM users u WHERE u.id = $2",
            )
            .bind(token.id.as_str())
            .bind(user.as_str())
            .bind(&token.name)
            .bind(token_hash(&plaintext))
            .bind(token.created_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::not_found("user", user));
        }
        Ok(IssuedToken { token, plaintext })
    }

    /// The tokens of `user` (records only), oldest first.
    pub async fn tokens(self, user: &UserId) -> Result<Vec<ApiToken>> {
        on_db!(&self.store.db, pool => {
            let rows = sqlx::query(
                "SELECT id, user_id, name, created_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id",
            )
            .bind(user.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter().map(token_from).collect()
        })
    }

    /// Revokes (deletes) the token `id`.
    pub async fn revoke_token(self, id: &TokenId) -> Result<()> {
        let deleted = on_db!(&self.store.db, pool => {
            sqlx::query("DELETE FROM api_tokens WHERE id = $1").bind(id.as_str()).execute(pool).await?.rows_affected()
        });
        if deleted == 0 { Err(StoreError::not_found("token", id)) } else { Ok(()) }
    }

    /// The user a plaintext `pb_…` token acts as, or `None` for an unknown or malformed token.
    pub async fn authenticate_token(self, plaintext: &str) -> Result<Option<User>> {
        if !plaintext.starts_with(TOKEN_PREFIX) || plaintext.len() > 200 {
            return Ok(None);
        }
        on_db!(&self.store.db, pool => {
            let row = sqlx::query(
                "SELECT u.id, u.environment_id, u.email, u.display_name, u.role, u.password_hash, u.created_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
            )
            .bind(token_hash(plaintext))
            .fetch_optional(pool)
            .await?;
            row.map(|row| user_from(&row)).transpose()
        })
    }

    /// In an empty store (no users yet), creates the `default` environment (or reuses it), the admin
    /// `admin@localhost` and an API token for it; otherwise does nothing and returns `None`.
    /// Safe to call from several nodes at once: one of them bootstraps.
    pub async fn bootstrap_admin(self) -> Result<Option<Bootstrap>> {
        self.bootstrap_with(None).await
    }

    /// [`People::bootstrap_admin`] with the admin's token given (`Some`, stored under
    /// [`CONFIGURED_TOKEN_NAME`](crate::admin_token::CONFIGURED_TOKEN_NAME)) or random (`None`).
    pub(crate) async fn bootstrap_with(self, given: Option<&str>) -> Result<Option<Bootstrap>> {
        let (mut admin, token, plaintext) = bootstrap_records(given)?;
        let now = token.created_at;
        let environment = in_tx!(&self.store.db, tx => {
            let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
            let claimed = users == 0
                && sqlx::query(
                    "INSERT INTO store_meta (key, value) VALUES ('bootstrapped', $1) ON CONFLICT (key) DO NOTHING",
                )
                .bind(now.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
            if !claimed {
                return Ok(None);
            }
            sqlx::query(
                "INSERT INTO environments (id, name, name_key, created_at) VALUES ($1, 'default', 'default', $2) \
                 ON CONFLICT (name_key) DO NOTHING",
            )
            .bind(admin.environment_id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query("SELECT id, name, created_at FROM environments WHERE name_key = 'default'")
                .fetch_one(&mut *tx)
                .await?;
            let environment = environment_from(&row)?;
            admin.environment_id = environment.id.clone();
            sqlx::query(
                "INSERT INTO users (id, environment_id, email, display_name, role, created_at) \
                 VALUES ($1, $2, $3, $4, 'admin', $5)",
            )
            .bind(admin.id.as_str())
            .bind(admin.environment_id.as_str())
            .bind(&admin.email)
            .bind(&admin.display_name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token.id.as_str())
                .bind(admin.id.as_str())
                .bind(&token.name)
                .bind(token_hash(&plaintext))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            environment
        });
        Ok(Some(Bootstrap { environment, admin, token: IssuedToken { token, plaintext } }))
    }
}

/// The admin, token record and token plaintext that [`People::bootstrap_admin`] creates: the
/// `given` token, or a random one.
fn bootstrap_records(given: Option<&str>) -> Result<(User, ApiToken, String)> {
    let now = now_ms();
    let admin = User {
        id: UserId::random()?,
        environment_id: EnvironmentId::random()?,
        email: "admin@localhost".to_owned(),
        display_name: "Administrator".to_owned(),
        role: Role::Admin,
        has_password: false,
        created_at: now,
    };
    let token = ApiToken {
        id: TokenId::random()?,
        user_id: admin.id.clone(),
        name: if given.is_some() { crate::admin_token::CONFIGURED_TOKEN_NAME } else { "bootstrap" }
            .to_owned(),
        created_at: now,
    };
    let plaintext = match given {
        Some(given) => given.to_owned(),
        None => new_token_plaintext(TOKEN_PREFIX)?,
    };
    Ok((admin, token, plaintext))
}
