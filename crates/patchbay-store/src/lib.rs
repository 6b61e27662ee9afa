//! patchbay persistence behind one API, on SQLite (the single-node default: a WAL-mode file under
//! the data directory) or PostgreSQL (shared by several nodes).
//!
//! [`Store::open`] picks the engine from the URL and brings the schema up to date with the embedded
//! migrations. The aggregates are reached through small handles, one module each:
//! [`Store::people`] (environments, users, API tokens, an operator-chosen admin token),
//! [`Store::connectors`] (immutable revisions, a sealed OAuth client secret),
//! [`Store::connections`] (secrets sealed with the [`SecretKey`]), [`Store::oauth_states`],
//! [`Store::portal_sessions`] and
//! [`Store::sharing`] (grants, access levels, the catalogue), [`Store::triggers`] (polling schedule
//! with leases, durable trigger events, webhook subscriptions), [`Store::gateways`] (on-premises gateways, hashed tokens), [`Store::flows`] (flow revisions,
//! durable runs, the run queue with leases and each run's journal). Times are epoch milliseconds.
//!
//! ```no_run
//! # async fn demo() -> patchbay_store::Result<()> {
//! use std::path::Path;
//! use patchbay_store::{SecretKey, Store};
//!
//! let key = SecretKey::from_env_or_file(None, Path::new("data/secret.key"))?;
//! let store = Store::open("sqlite://data/patchbay.db").await?.with_secret_key(key);
//! if let Some(first) = store.people().bootstrap_admin().await? {
//!     println!("admin token (shown once): {}", first.token.plaintext);
//! }
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod admin_token;
pub mod connections;
mod connector_secrets;
pub mod connectors;
mod dialect;
pub mod error;
pub mod flows;
pub mod gateways;
mod generation_reader;
pub mod ids;
mod leases;
pub mod oauth_states;
pub mod people;
pub mod portal_sessions;
pub mod secrets;
pub mod sharing;
#[cfg(feature = "testing")]
pub mod testing;
pub mod triggers;

use std::sync::Arc;

pub use admin_token::{AdminTokenSetup, CONFIGURED_TOKEN_NAME};
pub use connections::{Connection, ConnectionSecrets, ConnectionStatus, Connections, NewConnection};
pub use connectors::{Connector, ConnectorPackage, ConnectorRevision, Connectors, RevisionInfo};
pub use dialect::Backend;
pub use error::{Result, StoreError};
pub use flows::{
    ActionEntry, Fence, Flow, FlowRevision, Flows, NewFlow, Run, RunLease, RunStatus, RunWrite, StartRun,
    WholeRun, Written,
};
pub use gateways::{Gateway, Gateways, IssuedGateway};
pub use ids::{
    ConnectionId, ConnectorId, EnvironmentId, EventId, FlowId, GatewayId, RunId, SubscriptionId, TokenId,
    TriggerId, UserId, now_ms,
};
pub use oauth_states::{OAuthState, OAuthStates};
pub use people::{ApiToken, Bootstrap, Environment, IssuedToken, NewUser, People, Role, User};
pub use portal_sessions::{OpenedSession, PortalSession, PortalSessions};
pub use secrets::{DecryptError, SecretKey};
pub use sharing::{Access, Grant, Grantee, Level, Resource, Sharing};
pub use triggers::{
    EventSource, NewEvent, NewTrigger, Notification, PollDone, PollLease, Stored, Subscription,
    SubscriptionStatus, Trigger, TriggerEvent, TriggerKind, Triggers,
};

use dialect::Db;

/// A handle on the database; cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    key: Option<Arc<SecretKey>>,
    /// SQLite's own connections for the hot paths; `None` on PostgreSQL and in memory.
    sqlite_side: Option<SqliteSide>,
}

/// Connections of their own to an SQLite file, beside the pool, for the two hottest paths.
#[derive(Debug, Clone)]
struct SqliteSide {
    /// The run-write thread (see [`Flows::write_runs`]).
    run_writes: Arc<flows::WriteThread>,
    /// The inline reader of [`Store::config_generation`].
    generation: Arc<generation_reader::GenerationReader>,
}

impl Store {
    /// Opens the store at `url` (`sqlite://<path>`, created if missing, or `postgres://…`) and
    /// applies any pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let db = match dialect::backend_of(url)? {
            Backend::Sqlite => dialect::open_sqlite(url).await?,
            Backend::Postgres => dialect::open_postgres(url, None).await?,
        };
        let sqlite_side = match &db {
            Db::Sqlite(pool) => match dialect::sqlite_file(pool).await? {
                Some(file) => Some(SqliteSide {
                    run_writes: Arc::new(flows::WriteThread::start(&file)?),
                    generation: Arc::new(generation_reader::GenerationReader::open(&file)?),
                }),
                None => None,
            },
            Db::Pg(_) => None,
        };
        Ok(Store { db, key: None, sqlite_side })
    }

    /// Opens a PostgreSQL store whose tables live in `schema` (created if missing): every pooled
    /// connection sets its `search_path` to it. Several stores can share one database this way.
    pub async fn open_postgres_schema(url: &str, schema: &str) -> Result<Store> {
        if dialect::backend_of(url)? != Backend::Postgres {
            return Err(StoreError::invalid("url", "a schema needs a postgres:// URL"));
        }
        let db = dialect::open_postgres(url, Some(schema)).await?;
        Ok(Store { db, key: None, sqlite_side: None })
    }

    /// This store, sealing and opening connection secrets with `key`.
    pub fn with_secret_key(mut self, key: SecretKey) -> Store {
        self.key = Some(Arc::new(key));
        self
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    /// Closes every pooled connection; later calls on any clone of this store fail.
    pub async fn close(&self) {
        if let Some(side) = &self.sqlite_side {
            side.run_writes.close();
        }
        dialect::on_db!(&self.db, pool => pool.close().await);
    }

    /// Environments, users, roles and API tokens.
    pub fn people(&self) -> People<'_> {
        People::new(self)
    }

    /// Custom connectors and their immutable revisions.
    pub fn connectors(&self) -> Connectors<'_> {
        Connectors::new(self)
    }

    /// Connections, with their secrets sealed at rest.
    pub fn connections(&self) -> Connections<'_> {
        Connections::new(self)
    }

    /// OAuth `state` values and PKCE verifiers of sign-ins in progress.
    pub fn oauth_states(&self) -> OAuthStates<'_> {
        OAuthStates::new(self)
    }

    /// Portal sign-in sessions (cookie hashes with their CSRF tokens).
    pub fn portal_sessions(&self) -> PortalSessions<'_> {
        PortalSessions::new(self)
    }

    /// Grants, access levels and the catalogue of published connectors.
    pub fn sharing(&self) -> Sharing<'_> {
        Sharing::new(self)
    }

    /// Triggers: the polling schedule with its leases, trigger events and webhook subscriptions.
    pub fn triggers(&self) -> Triggers<'_> {
        Triggers::new(self)
    }

    /// Flows: revisions, durable runs, the run queue with its leases, and each run's journal.
    pub fn flows(&self) -> Flows<'_> {
        Flows::new(self)
    }

    /// The configuration generation: a counter that every change to users, tokens, connectors,
    /// connections and their secrets, grants and flows increments in its own transaction (database
    /// triggers, migration 0006), on whichever node it is made. What a node keeps in memory from
    /// those tables, tagged with the generation read before it was loaded, is current while the
    /// generation is unchanged.
    pub async fn config_generation(&self) -> Result<i64> {
        if let Some(side) = &self.sqlite_side {
            return side.generation.read();
        }
        Ok(dialect::on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT value FROM config_generation WHERE id = 1").fetch_one(pool).await?
        }))
    }

    /// SQLite's run-write thread, when the store is an SQLite file.
    pub(crate) fn run_write_thread(&self) -> Option<&flows::WriteThread> {
        self.sqlite_side.as_ref().map(|side| side.run_writes.as_ref())
    }

    /// On-premises gateways and the binding of connections to them.
    pub fn gateways(&self) -> Gateways<'_> {
        Gateways::new(self)
    }

    /// The credential nodes sharing this store's secret key present to each other (see
    /// [`SecretKey::node_credential`]); `None` without a key.
    pub fn node_credential(&self) -> Option<String> {
        self.key.as_deref().map(SecretKey::node_credential)
    }

    /// The secret key, or [`StoreError::NoSecretKey`].
    fn secret_key(&self) -> Result<&SecretKey> {
        self.key.as_deref().ok_or(StoreError::NoSecretKey)
    }
}
