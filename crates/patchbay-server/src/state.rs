//! What every handler shares: the store, the request pipeline and the compiled connectors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use patchbay_runtime::Runtime;
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::RefreshOutcome;
use patchbay_store::{ConnectionId, ConnectorId, Store};

use crate::error::ApiError;
use crate::package;

/// The state behind every route, shared by reference count.
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The request pipeline with its one shared HTTP client.
    pub runtime: Runtime,
    /// The base URL the server is reached at from outside (OAuth redirect URLs are built on it).
    pub public_url: String,
    /// The per-connection rate limit of the invoke API.
    pub rate_limit: crate::rate_limit::RateLimiter,
    /// How this node runs triggers.
    pub triggers: crate::triggers::TriggerSettings,
    /// Where webhook callbacks queue to be stored.
    pub intake: crate::triggers::Intake,
    /// Wakes the polling scheduler (a trigger was enabled).
    pub scheduler_wake: tokio::sync::Notify,
    /// Wakes the event followers (events were stored on this node).
    pub events_stored: tokio::sync::Notify,
    /// How this node runs flows.
    pub flows: crate::flows::FlowSettings,
    /// Wakes the run worker (a run was queued on this node, or a slot freed).
    pub worker_wake: tokio::sync::Notify,
    /// Wakes the callers waiting for a run (it finished or stored its response on this node).
    pub runs_changed: crate::flows::waiters::RunWaiters,
    /// Commits the writes of the runs this node executes, in groups.
    pub run_writer: crate::flows::writer::RunWriter,
    /// Parsed flow definitions, per flow and revision.
    pub definitions: crate::flows::definitions::Definitions,
    /// Callers, flows and resolved connections at the store's configuration generation.
    pub config_cache: crate::config_cache::ConfigCache,
    /// The gateway agents connected to this node.
    pub gateways: Arc<crate::gateway::hub::GatewayHub>,
    /// This node among the nodes sharing the store (gateway calls forwarded between them).
    pub cluster: Option<Arc<crate::gateway::cluster::Cluster>>,
    /// The dev tunnels connected to this node.
    pub tunnels: Arc<crate::gateway::tunnels::Tunnels>,
    /// Compiled connectors by connector id, with the revision they were compiled from.
    compiled: Mutex<HashMap<ConnectorId, (i64, Arc<CompiledConnector>)>>,
}

/// The shared state as handlers receive it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// State over `store` and `runtime`, reached at `public_url`, with an empty compile cache and the
    /// default trigger settings (the callback writer starts; this needs a Tokio runtime).
    /// Registers the runtime's refresh listener: every refreshed OAuth token set is saved
    /// (sealed) to its connection in the background, so a restart or another node reuses it.
    pub fn new(store: Store, runtime: Runtime, public_url: impl Into<String>) -> Self {
        let saver = store.clone();
        runtime.tokens.set_refresh_listener(move |outcome: &RefreshOutcome| {
            persist_refreshed(&saver, outcome);
        });
        let public_url = public_url.into().trim_end_matches('/').to_owned();
        let rate_limit = crate::rate_limit::RateLimiter::new(500);
        let triggers = crate::triggers::TriggerSettings::default();
        let intake = crate::triggers::Intake::start(store.clone(), triggers.intake_queue);
        let run_writer = crate::flows::writer::RunWriter::start(store.clone());
        AppState {
            store,
            runtime,
            public_url,
            rate_limit,
            triggers,
            intake,
            scheduler_wake: tokio::sync::Notify::new(),
            events_stored: tokio::sync::Notify::new(),
            flows: crate::flows::FlowSettings::default(),
            worker_wake: tokio::sync::Notify::new(),
            runs_changed: crate::flows::waiters::RunWaiters::default(),
            run_writer,
            definitions: crate::flows::definitions::Definitions::default(),
            config_cache: crate::config_cache::ConfigCache::default(),
            gateways: Arc::default(),
            tunnels: Arc::default(),
            cluster: None,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The same state, reached by the other nodes at `node_url` to forward gateway calls.
    pub fn with_node_url(mut self, node_url: &str) -> Self {
        self.cluster = crate::gateway::cluster::Cluster::new(self.store.clone(), node_url).map(Arc::new);
        self
    }

    /// The same state with `per_minute` calls per connection allowed (0: no limit).
    pub fn with_rate_limit(mut self, per_minute: u32) -> Self {
        self.rate_limit = crate::rate_limit::RateLimiter::new(per_minute);
        self
    }

    /// The same state with these trigger settings (the callback queue sized to them).
    pub fn with_triggers(mut self, settings: crate::triggers::TriggerSettings) -> Self {
        self.intake = crate::triggers::Intake::start(self.store.clone(), settings.intake_queue);
        self.triggers = settings;
        self
    }

    /// The same state with these flow settings.
    pub fn with_flows(mut self, settings: crate::flows::FlowSettings) -> Self {
        self.flows = settings;
        self
    }

    /// The connector `id` compiled at its current revision: from the cache when that revision was
    /// compiled before, else loaded from the store and compiled (replacing older revisions).
    pub async fn compiled(&self, id: &ConnectorId) -> Result<Arc<CompiledConnector>, ApiError> {
        let record = self.store.connectors().get(id).await?;
        if let Some(hit) = self.cached(id, record.current_revision) {
            return Ok(hit);
        }
        let revision = self.store.connectors().revision(id, record.current_revision).await?;
        let loaded = package::load(&record.name, &revision.package).await?;
        let compiled = Arc::new(CompiledConnector::compile(Arc::new(loaded)));
        let mut cache =
            self.compiled.lock().map_err(|_| ApiError::internal("the compile cache is poisoned"))?;
        let keep = match cache.get(id) {
            Some((cached_revision, existing)) if *cached_revision > record.current_revision => {
                existing.clone()
            }
            _ => {
                cache.insert(id.clone(), (record.current_revision, compiled.clone()));
                compiled
            }
        };
        Ok(keep)
    }

    /// The cached compilation of `id` at `revision`, if any.
    fn cached(&self, id: &ConnectorId, revision: i64) -> Option<Arc<CompiledConnector>> {
        let cache = self.compiled.lock().ok()?;
        cache.get(id).filter(|(cached, _)| *cached == revision).map(|(_, compiled)| compiled.clone())
    }

    /// Drops the compiled connector `id` (after it was deleted).
    pub fn forget(&self, id: &ConnectorId) {
        if let Ok(mut cache) = self.compiled.lock() {
            cache.remove(id);
        }
    }
}

/// Saves refreshed tokens to the connection without blocking the refresh (the listener runs while
/// the token cache entry is held); a failure is logged, never with the tokens.
fn persist_refreshed(store: &Store, outcome: &RefreshOutcome) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    let store = store.clone();
    let id = ConnectionId::from(outcome.connection_id.clone());
    let tokens = outcome.tokens.to_json();
    handle.spawn(async move {
        if let Err(error) = store.connections().set_tokens(&id, &tokens).await {
            tracing::warn!(connection = %id, %error, "could not save refreshed tokens");
        }
    });
}
