//! Starting and stopping the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use patchbay_runtime::security::TokenManager;
use patchbay_runtime::transport::{Transport, TransportOptions};
use patchbay_runtime::{Runtime, RuntimeOptions};
use patchbay_store::{SecretKey, Store};
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
    /// On the first start of an empty store: the admin's email and API token (shown once).
    pub bootstrap: Option<(String, String)>,
    store: Store,
    close_store: bool,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    scheduler: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

impl RunningServer {
    /// Stops the polling scheduler (letting polls in flight store their outcome), stops accepting
    /// connections, waits (at most 10 s) for open requests, and closes the store
    /// when `start` opened it.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.stop.send(());
        if let Some((stop, scheduler)) = self.scheduler {
            let _ = stop.send(true);
            let _ = scheduler.await;
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
/// when it has no users. The store stays open after shutdown.
pub async fn start_with_store(config: ServerConfig, store: Store) -> Result<RunningServer, ServerError> {
    let bootstrap =
        store.people().bootstrap_admin().await?.map(|first| (first.admin.email, first.token.plaintext));
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
    let url = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if addr.ip().is_unspecified() => format!("http://127.0.0.1:{}", addr.port()),
        None => format!("http://{addr}"),
    };
    let state = AppState::new(store.clone(), runtime, url.clone())
        .with_rate_limit(config.rate_limit_per_minute)
        .with_triggers(config.triggers.clone());
    let state = Arc::new(state);
    let scheduler = config.triggers.run_scheduler.then(|| {
        let (stop, stopped) = watch::channel(false);
        (stop, crate::triggers::scheduler::spawn(state.clone(), stopped))
    });
    let app = routes::router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningServer { addr, url, bootstrap, store, close_store: false, stop, task, scheduler })
}
