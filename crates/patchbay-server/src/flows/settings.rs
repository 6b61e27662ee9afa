//! The operator's settings for running flows.

use std::time::Duration;

/// How this node runs flows.
#[derive(Debug, Clone)]
pub struct FlowSettings {
    /// Runs this node executes at the same time.
    pub run_concurrency: usize,
    /// How long a claimed run is reserved for this node (renewed while it executes); a node that
    /// dies loses its runs to the others after it.
    pub lease: Duration,
    /// Whether this node executes runs (the API works either way).
    pub run_worker: bool,
    /// How long a `Request` caller waits for the flow's `Response` before getting `202` and the run.
    pub response_timeout: Duration,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            run_concurrency: 32,
            lease: Duration::from_secs(60),
            run_worker: true,
            response_timeout: Duration::from_secs(120),
        }
    }
}
