//! One connected socket: frames in, exchanges started and cancelled, frames out; pings.

use super::Socket;
use super::exchange::{Backend, run_exchange};
use crate::protocol::{Frame, decode};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message;

/// Frames queued for the socket before senders wait (back-pressure towards the destinations).
const OUTGOING: usize = 64;
/// Request body chunks queued per exchange before the socket reader waits.
const BODY_QUEUE: usize = 8;

/// An exchange in progress.
struct Running {
    /// Where request body chunks go; `None` once the body is complete.
    body: Option<mpsc::Sender<Bytes>>,
    /// Stops it.
    abort: AbortHandle,
}

/// Serves the socket until it closes, fails or stays silent; returns why it ended. Exchanges
/// still running are aborted.
pub(super) async fn serve(socket: Socket, backend: Arc<Backend>, ping_every: Duration) -> String {
    let (mut sink, mut stream) = socket.split();
    let (out, mut outgoing) = mpsc::channel::<Message>(OUTGOING);
    let writer = tokio::spawn(async move {
        // Everything queued goes out in one flush.
        while let Some(first) = outgoing.recv().await {
            let mut next = Some(first);
            while let Some(message) = next {
                if let Err(err) = sink.feed(message).await {
                    return err.to_string();
                }
                next = outgoing.try_recv().ok();
            }
            if let Err(err) = sink.flush().await {
                return err.to_string();
            }
        }
        "closed".to_owned()
    });
    let mut running: HashMap<u64, Running> = HashMap::new();
    let mut tasks: JoinSet<u64> = JoinSet::new();
    let mut ping = tokio::time::interval(ping_every);
    let mut heard = Instant::now();
    let reason = loop {
        tokio::select! {
            message = stream.next() => {
                heard = Instant::now();
                match message {
                    Some(Ok(Message::Binary(bytes))) => {
                        on_frame(&bytes, &mut running, &mut tasks, &backend, &out).await;
                    }
                    Some(Ok(Message::Close(_))) | None => break "the server closed the socket".to_owned(),
                    Some(Ok(_)) => {}
                    Some(Err(err)) => break err.to_string(),
                }
            }
            Some(Ok(id)) = tasks.join_next(), if !tasks.is_empty() => {
                running.remove(&id);
            }
            _ = ping.tick() => {
                if heard.elapsed() > ping_every * 3 {
                    break "the server stopped answering pings".to_owned();
                }
                let _ = out.try_send(Message::Ping(Bytes::new()));
            }
        }
    };
    tasks.abort_all();
    writer.abort();
    reason
}

/// Acts on one frame from the server.
async fn on_frame(
    bytes: &Bytes,
    running: &mut HashMap<u64, Running>,
    tasks: &mut JoinSet<u64>,
    backend: &Arc<Backend>,
    out: &mpsc::Sender<Message>,
) {
    let Ok((id, frame)) = decode(bytes) else {
        tracing::warn!(target: "patchbay::gateway", "ignored a malformed frame");
        return;
    };
    match frame {
        Frame::Request(head) if !running.contains_key(&id) => {
            let (body, chunks) = if head.body_len > 0 {
                let (sender, receiver) = mpsc::channel(BODY_QUEUE);
                (Some(sender), Some(receiver))
            } else {
                (None, None)
            };
            let abort = tasks.spawn(run_exchange(id, head, chunks, backend.clone(), out.clone()));
            running.insert(id, Running { body, abort });
        }
        Frame::Body(chunk) => {
            let sender = running.get(&id).and_then(|r| r.body.clone());
            if let Some(sender) = sender {
                // Waits when the destination reads slowly: back-pressure onto the socket.
                let _ = sender.send(chunk).await;
            }
        }
        Frame::End => {
            if let Some(entry) = running.get_mut(&id) {
                entry.body = None;
            }
        }
        Frame::Cancel => {
            if let Some(entry) = running.remove(&id) {
                entry.abort.abort();
            }
        }
        _ => {}
    }
}
