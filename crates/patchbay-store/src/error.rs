//! The store's error type.

use std::path::PathBuf;

/// A result whose error is a [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL names an engine the store does not support.
    #[error(
        "unsupported database URL scheme `{scheme}`: use sqlite://<path> or postgres://<host>/<database>"
    )]
    UnsupportedUrl {
        /// The scheme that was given (never the whole URL, which may hold a password).
        scheme: String,
    },
    /// A PostgreSQL schema name that is not a plain lowercase identifier.
    #[error(
        "invalid PostgreSQL schema name `{0}`: use 1 to 63 lowercase letters, digits and underscores, \
         starting with a letter or underscore"
    )]
    InvalidSchema(String),
    /// The directory that should hold the SQLite file could not be created.
    #[error("cannot create the database directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database driver reported an error.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// SQLite reported an error to the run-write thread.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A schema migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A record that the call names does not exist.
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// What kind of record (environment, user, connector, …).
        kind: &'static str,
        /// The identifier or name that was looked up.
        id: String,
    },
    /// A record with the same unique name already exists.
    #[error("{kind} `{name}` already exists")]
    AlreadyExists {
        /// What kind of record.
        kind: &'static str,
        /// The name that is taken.
        name: String,
    },
    /// An argument is not acceptable.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The argument or field.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// Connection secrets were used on a store opened without a secret key.
    #[error(
        "no secret key is configured: open the store with Store::with_secret_key to use connection secrets"
    )]
    NoSecretKey,
    /// The secret key file could not be read or written.
    #[error("secret key file {path}: {source}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The secret key file may be read by other users.
    #[error("secret key file {path} has mode {mode:o}, readable by group or others; run `chmod 600` on it")]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A secret key that is not base64 of exactly 32 bytes.
    #[error("the secret key from {origin} is invalid: {reason}")]
    InvalidKey {
        /// Where the key came from (the environment or a file path).
        origin: String,
        /// What is wrong with it (the key itself is never shown).
        reason: &'static str,
    },
    /// A stored secret could not be decrypted.
    #[error("cannot decrypt {field}: {source}")]
    Decrypt {
        /// Which secret (connection and field name).
        field: String,
        /// Why decryption failed.
        source: crate::secrets::DecryptError,
    },
    /// The cipher refused to encrypt (the input is too long).
    #[error("encryption failed: the value is too long")]
    Encrypt,
    /// Password hashing or verification failed for a reason other than a wrong password.
    #[error("password hashing: {0}")]
    Password(String),
    /// The operating system's random number generator failed.
    #[error("random number generator: {0}")]
    Random(String),
    /// A stored value does not have the shape the store writes.
    #[error("stored {column} has an unexpected value `{value}`")]
    Corrupt {
        /// The table and column.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// A JSON value could not be read or written.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A lease was taken over (it expired and another node claimed the trigger or run), or the
    /// record was deleted, or (a run) was already suspended or finished: nothing was written.
    #[error(
        "lost the lease on `{id}`: it expired and another node claimed it, or it was deleted, or (a run) was \
         already suspended or finished; nothing was written (use a lease longer than the work takes, or renew it)"
    )]
    LeaseLost {
        /// The trigger or run.
        id: String,
    },
    /// A blocking background task (password hashing) did not finish.
    #[error("background task: {0}")]
    Task(String),
}

impl StoreError {
    /// A [`StoreError::NotFound`] for `kind` and `id`.
    pub(crate) fn not_found(kind: &'static str, id: impl std::fmt::Display) -> Self {
        Self::NotFound { kind, id: id.to_string() }
    }

    /// A [`StoreError::Invalid`] for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid { field, reason: reason.into() }
    }
}

/// Turns a unique-constraint violation into [`StoreError::AlreadyExists`]; other errors pass through.
pub(crate) fn unique_as_exists(kind: &'static str, name: &str) -> impl FnOnce(sqlx::Error) -> StoreError {
    let name = name.to_owned();
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AlreadyExists { kind, name },
        _ => StoreError::Database(error),
    }
}
