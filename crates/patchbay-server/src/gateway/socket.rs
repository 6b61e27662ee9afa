//! The socket of one connected agent: frames from it delivered to the exchanges waiting for
//! them, frames to it written in order, pings every 15 s, and a silent socket dropped.

use super::cluster::Cluster;
use super::hub::GatewayHub;
use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use patchbay_gateway::protocol::decode;
use patchbay_store::GatewayId;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the server pings an agent; three silent intervals drop it.
const PING_EVERY: Duration = Duration::from_secs(15);

/// Serves an agent of `gateway` (a gateway's id, or a tunnel's) named `name` until its socket
/// closes; with a `cluster`, this node's agents of the gateway are recorded as they come and go.
pub async fn serve(
    socket: WebSocket,
    hub: Arc<GatewayHub>,
    gateway: GatewayId,
    name: String,
    cluster: Option<Arc<Cluster>>,
) {
    let (agent, mut outgoing) = hub.join(&gateway, &name);
    let announce = async |cluster: &Option<Arc<Cluster>>| {
        if let Some(cluster) = cluster {
            cluster.announce(&hub, &gateway).await;
        }
    };
    announce(&cluster).await;
    tracing::info!(target: "patchbay::gateway", %gateway, agent = %name, "agent connected");
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        // Everything queued goes out in one flush.
        while let Some(first) = outgoing.recv().await {
            let mut next = Some(first);
            while let Some(message) = next {
                if sink.feed(message).await.is_err() {
                    return;
                }
                next = outgoing.try_recv().ok();
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            message = stream.next() => {
                heard = Instant::now();
                match message {
                    Some(Ok(Message::Binary(bytes))) => match decode(&bytes) {
                        Ok((id, frame)) => agent.deliver(id, frame).await,
                        Err(error) => tracing::warn!(target: "patchbay::gateway", %error, "ignored a frame"),
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > PING_EVERY * 3 {
                    break;
                }
                agent.try_send_message(Message::Ping(bytes::Bytes::new()));
                announce(&cluster).await;
            }
        }
    }
    hub.leave(&gateway, &agent);
    announce(&cluster).await;
    writer.abort();
    tracing::info!(target: "patchbay::gateway", %gateway, agent = %name, "agent disconnected");
}
