//! The agents connected to this node, by gateway, with each gateway's traffic counters. Calls
//! are spread over a gateway's live agents in turn; an agent that leaves takes its in-flight
//! exchanges with it (they fail at once) and new calls go to the others.

use axum::extract::ws::Message;
use patchbay_gateway::protocol::Frame;
use patchbay_store::GatewayId;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use utoipa::ToSchema;

/// Frames queued towards one agent before senders wait.
const OUTGOING: usize = 256;
/// Response frames queued per exchange before the socket reader waits.
const INCOMING: usize = 32;

/// Every gateway's connected agents and traffic on this node.
#[derive(Debug, Default)]
pub struct GatewayHub {
    pools: Mutex<HashMap<GatewayId, Pool>>,
    next_agent: AtomicU64,
}

/// One gateway's agents and counters.
#[derive(Debug, Default)]
struct Pool {
    agents: Vec<Arc<Agent>>,
    turn: usize,
    traffic: Arc<Traffic>,
}

/// One connected agent: where its frames go and the exchanges waiting for its answers.
#[derive(Debug)]
pub struct Agent {
    /// This node's number for the connection.
    pub id: u64,
    /// The name the agent gave.
    pub name: String,
    /// When it connected (epoch ms).
    pub connected_at: i64,
    outgoing: mpsc::Sender<Message>,
    pending: Mutex<HashMap<u64, mpsc::Sender<Frame>>>,
    next_exchange: AtomicU64,
}

/// A gateway's traffic since this node started.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Exchanges started.
    pub requests: AtomicU64,
    /// Exchanges that failed (no agent, agent gone, agent error).
    pub failures: AtomicU64,
    /// Request body bytes sent to agents.
    pub bytes_sent: AtomicU64,
    /// Response body bytes received from agents.
    pub bytes_received: AtomicU64,
}

/// A gateway's status as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayStatus {
    /// The agents connected to this node.
    pub agents: Vec<AgentStatus>,
    /// Exchanges started.
    pub requests: u64,
    /// Exchanges that failed.
    pub failures: u64,
    /// Request body bytes sent to agents.
    pub bytes_sent: u64,
    /// Response body bytes received from agents.
    pub bytes_received: u64,
}

/// One connected agent as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentStatus {
    /// The name it gave.
    pub name: String,
    /// When it connected (epoch ms).
    pub connected_at: i64,
    /// Exchanges in flight through it.
    pub in_flight: usize,
}

impl GatewayHub {
    /// Registers a newly connected agent of `gateway`; returns it and the frames to write to its socket.
    pub fn join(&self, gateway: &GatewayId, name: &str) -> (Arc<Agent>, mpsc::Receiver<Message>) {
        let (outgoing, frames) = mpsc::channel(OUTGOING);
        let agent = Arc::new(Agent {
            id: self.next_agent.fetch_add(1, Ordering::Relaxed),
            name: name.to_owned(),
            connected_at: patchbay_store::now_ms(),
            outgoing,
            pending: Mutex::new(HashMap::new()),
            next_exchange: AtomicU64::new(1),
        });
        let mut pools = self.pools.lock().unwrap_or_else(|poison| poison.into_inner());
        let pool = pools.entry(gateway.clone()).or_default();
        pool.agents.push(agent.clone());
        metrics::gauge!("patchbay_gateway_agents", "gateway" => metric_label(gateway))
            .set(pool.agents.len() as f64);
        (agent, frames)
    }

    /// Removes an agent whose socket closed; its in-flight exchanges fail.
    pub fn leave(&self, gateway: &GatewayId, agent: &Agent) {
        let mut pools = self.pools.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(pool) = pools.get_mut(gateway) {
            pool.agents.retain(|a| a.id != agent.id);
            metrics::gauge!("patchbay_gateway_agents", "gateway" => metric_label(gateway))
                .set(pool.agents.len() as f64);
        }
        agent.pending.lock().unwrap_or_else(|poison| poison.into_inner()).clear();
    }

    /// Forgets `gateway` entirely (a closed tunnel), counters included.
    pub fn forget(&self, gateway: &GatewayId) {
        self.pools.lock().unwrap_or_else(|poison| poison.into_inner()).remove(gateway);
    }

    /// The next live agent of `gateway` in turn, with the gateway's counters.
    pub fn pick(&self, gateway: &GatewayId) -> (Option<Arc<Agent>>, Arc<Traffic>) {
        let mut pools = self.pools.lock().unwrap_or_else(|poison| poison.into_inner());
        let pool = pools.entry(gateway.clone()).or_default();
        let live = pool.agents.len();
        let agent = (live > 0).then(|| {
            pool.turn = pool.turn.wrapping_add(1);
            pool.agents[pool.turn % live].clone()
        });
        (agent, pool.traffic.clone())
    }

    /// The status of `gateway` on this node.
    pub fn status(&self, gateway: &GatewayId) -> GatewayStatus {
        let pools = self.pools.lock().unwrap_or_else(|poison| poison.into_inner());
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        match pools.get(gateway) {
            None => GatewayStatus {
                agents: Vec::new(),
                requests: 0,
                failures: 0,
                bytes_sent: 0,
                bytes_received: 0,
            },
            Some(pool) => GatewayStatus {
                agents: pool
                    .agents
                    .iter()
                    .map(|agent| AgentStatus {
                        name: agent.name.clone(),
                        connected_at: agent.connected_at,
                        in_flight: agent.pending.lock().map(|p| p.len()).unwrap_or(0),
                    })
                    .collect(),
                requests: read(&pool.traffic.requests),
                failures: read(&pool.traffic.failures),
                bytes_sent: read(&pool.traffic.bytes_sent),
                bytes_received: read(&pool.traffic.bytes_received),
            },
        }
    }
}

/// The `gateway` label of a hub key in `/metrics`: the gateway's id, or `tunnel` for every dev
/// tunnel (a tunnel's id is the proof that opens it and `/metrics` needs no token).
pub fn metric_label(gateway: &GatewayId) -> String {
    if gateway.as_str().starts_with(crate::gateway::tunnels::KEY_PREFIX) {
        "tunnel".to_owned()
    } else {
        gateway.to_string()
    }
}

impl Agent {
    /// Opens an exchange: its id and the receiver of the agent's frames for it.
    pub fn open(&self) -> (u64, mpsc::Receiver<Frame>) {
        let id = self.next_exchange.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(INCOMING);
        self.pending.lock().unwrap_or_else(|poison| poison.into_inner()).insert(id, sender);
        (id, receiver)
    }

    /// Forgets exchange `id` (finished or abandoned).
    pub fn close(&self, id: u64) {
        self.pending.lock().unwrap_or_else(|poison| poison.into_inner()).remove(&id);
    }

    /// Queues a frame for the agent; `false` when its socket is gone.
    pub async fn send(&self, id: u64, frame: &Frame) -> bool {
        let bytes = patchbay_gateway::protocol::encode(id, frame);
        self.outgoing.send(Message::Binary(bytes)).await.is_ok()
    }

    /// Queues a frame without waiting (for cancellation from a destructor).
    pub fn try_send(&self, id: u64, frame: &Frame) {
        let bytes = patchbay_gateway::protocol::encode(id, frame);
        let _ = self.outgoing.try_send(Message::Binary(bytes));
    }

    /// Queues a control message (a ping) without waiting.
    pub fn try_send_message(&self, message: Message) {
        let _ = self.outgoing.try_send(message);
    }

    /// Hands a frame from the agent to the exchange waiting for it (dropped when none is).
    pub async fn deliver(&self, id: u64, frame: Frame) {
        let sender = self.pending.lock().unwrap_or_else(|poison| poison.into_inner()).get(&id).cloned();
        if let Some(sender) = sender {
            let _ = sender.send(frame).await;
        }
    }
}
