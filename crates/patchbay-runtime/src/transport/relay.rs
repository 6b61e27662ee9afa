//! The relay seam: a way to carry an exchange other than the shared client, e.g. through an
//! on-premises gateway agent. A [`Transport`](super::Transport) that carries a relay hands every
//! request to it instead of connecting itself; the SSRF guard is then the relay's business (the
//! agent enforces its own allow list), while the time limit still applies here.

use super::TransportError;
use crate::wire::{WireRequest, WireResponse};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A boxed future of one relayed exchange.
pub type RelayFuture<'a> = Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>>;

/// Carries one request to its destination and the response back.
pub trait Relay: Send + Sync + fmt::Debug {
    /// Exchanges `request` for a response; dropping the future cancels the exchange.
    fn exchange(&self, request: WireRequest) -> RelayFuture<'_>;
}
