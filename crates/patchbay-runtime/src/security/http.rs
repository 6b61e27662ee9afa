//! The one HTTP capability the OAuth code needs: send a request, get the response.

use std::future::Future;
use std::pin::Pin;

use crate::transport::{Transport, TransportError};
use crate::wire::{WireRequest, WireResponse};

/// The future [`HttpSend::send_http`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>>;

/// Sends token requests; the shared [`Transport`] implements it (tests may use any HTTP client).
pub trait HttpSend: Send + Sync {
    /// Sends one request without retries or redirects.
    fn send_http(&self, request: WireRequest) -> SendFuture<'_>;
}

impl HttpSend for Transport {
    fn send_http(&self, request: WireRequest) -> SendFuture<'_> {
        Box::pin(Transport::send(self, request))
    }
}
