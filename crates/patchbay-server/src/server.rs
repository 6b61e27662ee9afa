//! Starting and stopping the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use patchbay_runtime::security::TokenManager;
use patchbay_runtime::transport::{Transport, TransportOptions};
use patchbay_runtime::{Runtime, RuntimeOptions};
use patchbay_store::{AdminTokenSetup, SecretKey, Store, StoreError, now_ms};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::routes;
use crate::state::AppState;

/// A server serving in the background until [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The base URL it is reached at: the configured public URL, else `http://<addr>`.
    pub url: String,
    /// On the first start of an empty store without a configured admin token: the admin's email
    /// and its random API token (shown once).
    pub bootstrap: Option<(String, String)>,
    /// With a configured admin token: the admin it is valid for, and whether this start created the
    /// admin or stored the token.
    pub admin_token: Option<AdminTokenSetup>,
    store: Store,
    close_store: bool,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    scheduler: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    worker: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    purge: JoinHandle<()>,
}

impl RunningServer {
    /// Stops the polling scheduler (letting polls in flight store their outcome), stops accepting
    /// connections, waits (at most 10 s) for open requests, and closes the store
    /// when `start` opened it.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.purge.abort();
        let _ = self.stop.send(());
        for (stop, task) in [self.scheduler, self.worker].into_iter().flatten() {
            let _ = stop.send(true);
            let _ = task.await;
        }
        let mut task = self.task;
        let result = match tokio::time::timeout(Duration::from_secs(10), &mut task).await {
            Ok(Ok(served)) => served.map_err(ServerError::from),
            Ok(Err(joined)) => Err(ServerError::Serve(std::io::Error::other(joined))),
            Err(_) => {
                task.abort();
                Ok(())
            }
        };
        if self.close_store {
            self.store.close().await;
        }
        result
    }
}

/// Opens the store the config names (migrating it; the secret key from the config or the key
/// file), bootstraps the first admin of an empty store, and serves.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    let key = SecretKey::from_env_or_file(config.secret_key.as_deref(), &config.key_file())?;
    let url = config.database_url();
    let store = match &config.database_schema {
        Some(schema) => Store::open_postgres_schema(&url, schema).await?,
        None => Store::open(&url).await?,
    };
    let store = store.with_secret_key(key);
    let mut running = start_with_store(config, store).await?;
    running.close_store = true;
    Ok(running)
}

/// Serves over an opened `store` (which must carry the secret key), bootstrapping the first admin
/// when it has no users (with the configured admin token, else a random one) and purging expired
/// OAuth states in the background. The store stays open after shutdown.
pub async fn start_with_store(config: ServerConfig, store: Store) -> Result<RunningServer, ServerError> {
    let (bootstrap, admin_token) = admin(&store, config.admin_token.as_deref()).await?;
    let transport = Transport::new(TransportOptions {
        allow_loopback: config.allow_loopback,
        allow_private: config.allow_private,
        ..TransportOptions::default()
    })?;
    let tokens = TokenManager::new(Arc::new(transport.clone()));
    let runtime = Runtime {
        transport,
        tokens,
        options: RuntimeOptions { retry: config.retry_policy(), ..RuntimeOptions::default() },
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr()?;
    let own = if addr.ip().is_unspecified() {
        format!("http://127.0.0.1:{}", addr.port())
    } else {
        format!("http://{addr}")
    };
    let url =
        config.public_url.as_ref().map_or_else(|| own.clone(), |url| url.trim_end_matches('/').to_owned());
    let state = AppState::new(store.clone(), runtime, url.clone())
        .with_node_url(config.node_url.as_deref().unwrap_or(&own))
        .with_rate_limit(config.rate_limit_per_minute)
        .with_triggers(config.triggers.clone())
        .with_flows(config.flows.clone());
    let state = Arc::new(state);
    let scheduler = config.triggers.run_scheduler.then(|| {
        let (stop, stopped) = watch::channel(false);
        (stop, crate::triggers::scheduler::spawn(state.clone(), stopped))
    });
    let worker = config.flows.run_worker.then(|| {
        let (stop, stopped) = watch::channel(false);
        (stop, crate::flows::worker::spawn(state.clone(), stopped))
    });
    let app = routes::router(state);
    let purge = tokio::spawn(purge_oauth_states(store.clone(), config.oauth_purge_interval));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // No Nagle delay: a gateway socket sends many small frames (and answers are written whole anyway).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        url,
        bootstrap,
        admin_token,
        store,
        close_store: false,
        stop,
        task,
        scheduler,
        worker,
        purge,
    })
}

/// The first admin's bootstrap (random token, shown once) or, with a configured token, what
/// ensuring it did. The token is never logged.
async fn admin(
    store: &Store,
    configured: Option<&str>,
) -> Result<(Option<(String, String)>, Option<AdminTokenSetup>), ServerError> {
    match configured.map(str::trim).filter(|token| !token.is_empty()) {
        Some(token) => {
            let setup = store.people().ensure_admin_token(token).await.map_err(|error| match error {
                StoreError::Invalid { .. } => ServerError::AdminToken(error),
                other => ServerError::Store(other),
            })?;
            tracing::info!(
                admin = %setup.admin.email,
                created_admin = setup.bootstrapped,
                stored = setup.added,
                "the configured admin token is valid"
            );
            Ok((None, Some(setup)))
        }
        None => {
            let first = store.people().bootstrap_admin().await?;
            Ok((first.map(|first| (first.admin.email, first.token.plaintext)), None))
        }
    }
}

/// Deletes expired OAuth sign-in states and portal sessions now and then every `interval`, until
/// aborted; a failure is logged and retried at the next tick.
async fn purge_oauth_states(store: Store, interval: Duration) {
    let mut ticks = tokio::time::interval(interval.max(Duration::from_secs(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.oauth_states().purge_expired(now_ms()).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "expired OAuth states deleted"),
            Err(error) => tracing::warn!(%error, "could not delete expired OAuth states"),
        }
        if let Err(error) = store.portal_sessions().purge_expired(now_ms()).await {
            tracing::warn!(%error, "could not delete expired portal sessions");
        }
    }
}
