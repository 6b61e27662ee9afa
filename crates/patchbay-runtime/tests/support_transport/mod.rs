//! Helpers for the transport tests: real axum servers on 127.0.0.1 ephemeral ports.
#![allow(dead_code)]

use axum::Router;
use http::Method;
use patchbay_runtime::WireRequest;
use patchbay_runtime::transport::{Transport, TransportOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use url::Url;

/// Serves `router` on 127.0.0.1:0 for the rest of the test; returns the bound address.
pub async fn serve(router: Router) -> SocketAddr {
    serve_with(|_| router).await
}

/// Like [`serve`], for a router that needs its own address (to write absolute links).
pub async fn serve_with(make: impl FnOnce(SocketAddr) -> Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let router = make(addr);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// `http://{addr}{path_and_query}`.
pub fn url(addr: SocketAddr, path_and_query: &str) -> Url {
    Url::parse(&format!("http://{addr}{path_and_query}")).expect("test URL")
}

/// Options that allow loopback (the test servers live there) with short timeouts.
pub fn loopback_options() -> TransportOptions {
    TransportOptions { allow_loopback: true, ..TransportOptions::default() }
}

/// A transport allowed to reach the test servers.
pub fn loopback() -> Transport {
    Transport::new(loopback_options()).expect("transport")
}

/// A GET without headers or body.
pub fn get(url: Url) -> WireRequest {
    WireRequest::new(Method::GET, url)
}

/// A shared counter of requests a handler saw.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// Counts one more and returns the new count (1 for the first).
    pub fn hit(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The count so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}
