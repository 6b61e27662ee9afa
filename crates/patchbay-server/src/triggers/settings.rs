//! The operator's trigger settings: recurrence bounds, leases, concurrency, callback limits.

use std::time::Duration;

/// How this node runs triggers; the CLI fills it from flags and `PATCHBAY_TRIGGER_*` variables.
#[derive(Debug, Clone)]
pub struct TriggerSettings {
    /// The recurrence of a polling trigger created without one (3 minutes).
    pub default_recurrence: Duration,
    /// The shortest wait between two polls of one trigger, whatever the trigger or backend asks (1 s).
    pub minimum_interval: Duration,
    /// How long a claimed poll is reserved for this node; a node that dies loses its polls after it.
    pub lease: Duration,
    /// Polls this node runs at the same time.
    pub poll_concurrency: usize,
    /// Whether this node runs the polling scheduler (callbacks and the API work either way).
    pub run_scheduler: bool,
    /// This node's name in leases; default `<host>-<pid>`.
    pub node_id: String,
    /// The largest webhook callback body accepted (1 MiB); larger gets 413 and nothing is stored.
    pub callback_body_limit: usize,
    /// Callbacks waiting to be stored before new ones get 429 with `Retry-After`.
    pub intake_queue: usize,
}

impl Default for TriggerSettings {
    fn default() -> Self {
        TriggerSettings {
            default_recurrence: Duration::from_secs(180),
            minimum_interval: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            poll_concurrency: 64,
            run_scheduler: true,
            node_id: default_node_id(),
            callback_body_limit: 1024 * 1024,
            intake_queue: 10_000,
        }
    }
}

/// `<hostname>-<pid>`: unique among the nodes sharing a database.
pub fn default_node_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{}", std::process::id())
}
