//! What every handler shares: the store, the request pipeline and the compiled connectors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use patchbay_runtime::Runtime;
use patchbay_runtime::plan::CompiledConnector;
use patchbay_store::{ConnectorId, Store};

use crate::error::ApiError;
use crate::package;

/// The state behind every route, shared by reference count.
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The request pipeline with its one shared HTTP client.
    pub runtime: Runtime,
    /// Compiled connectors by connector id, with the revision they were compiled from.
    compiled: Mutex<HashMap<ConnectorId, (i64, Arc<CompiledConnector>)>>,
}

/// The shared state as handlers receive it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// State over `store` and `runtime`, with an empty compile cache.
    pub fn new(store: Store, runtime: Runtime) -> Self {
        AppState { store, runtime, compiled: Mutex::new(HashMap::new()) }
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
