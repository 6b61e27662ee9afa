//! Parsed flow definitions, kept per flow for its current revision, so that a run does not parse
//! its definition again (a `Request` run used to parse it twice: to know whether the flow answers,
//! and to execute it). A revision is immutable, so an entry is never stale; a run of an older
//! revision parses its own and replaces the entry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use patchbay_engine::{Definition, LoadError};
use patchbay_store::FlowId;
use serde_json::Value;

/// The parsed definition of each flow's latest executed revision.
#[derive(Default)]
pub struct Definitions {
    parsed: Mutex<HashMap<FlowId, (i64, Arc<Definition>)>>,
}

impl Definitions {
    /// The definition of `flow` at `revision`, parsed from `document` unless it was already.
    pub fn get(&self, flow: &FlowId, revision: i64, document: &Value) -> Result<Arc<Definition>, LoadError> {
        if let Some((cached, definition)) = self.lock().get(flow)
            && *cached == revision
        {
            return Ok(definition.clone());
        }
        let definition = Arc::new(Definition::parse(document)?);
        self.lock().insert(flow.clone(), (revision, definition.clone()));
        Ok(definition)
    }

    /// Forgets a deleted flow.
    pub fn forget(&self, flow: &FlowId) {
        self.lock().remove(flow);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FlowId, (i64, Arc<Definition>)>> {
        self.parsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
