//! The portal: server-rendered HTML pages under `/portal` for connector authors and flow makers,
//! over the same store and runtime calls the JSON API makes (its handlers are called with the
//! signed-in person as the caller). Templates are compiled in (askama, `templates/portal/`), the
//! stylesheet and script are embedded ([`assets`]), and no page needs the network.
//!
//! | path | what |
//! |---|---|
//! | `/`, `/portal` | redirect to the connectors |
//! | `/portal/login`, `/portal/logout` | sign in (password or API token), sign out ([`session`]) |
//! | `/portal/connectors[/…]` | list and search, import with diagnostics, details, download ([`connectors`]) |
//! | `/portal/connectors/{id}/edit`, `…/diff`, `…/share` | edit as JSON, revision diff, sharing ([`editing`]) |
//! | `/portal/connectors/new` | a new connector from a sample request and response ([`wizard`]) |
//! | `/portal/connections[/…]` | create, test, delete ([`connections`]); try an operation ([`try_operation`]) |
//! | `/portal/flows[/…]`, `/portal/runs/{id}` | flows, their graph, enable/disable, runs, resubmit ([`flows`]) |
//! | `/portal/flows/{id}/edit` | edit a flow as JSON ([`flow_edit`]) |
//! | `/portal/assets/{file}` | the stylesheet and script ([`assets`]) |

pub mod assets;
pub mod connections;
pub mod connectors;
pub mod csrf;
pub mod editing;
pub mod flow_edit;
pub mod flows;
pub mod graph;
pub mod page;
pub mod session;
pub mod try_operation;
pub mod wizard;

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

use crate::state::SharedState;

/// Rows shown per page in long lists.
pub const PAGE_SIZE: usize = 50;

/// The portal's routes (HTML, not part of the JSON API's route table).
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/portal") }))
        .route("/portal", get(|| async { Redirect::to("/portal/connectors") }))
        .route("/portal/", get(|| async { Redirect::to("/portal/connectors") }))
        .route("/portal/login", get(session::login_page).post(session::login))
        .route("/portal/logout", post(session::logout))
        .route("/portal/assets/{file}", get(assets::serve))
        .merge(connectors::router())
        .merge(editing::router())
        .merge(wizard::router())
        .merge(connections::router())
        .merge(try_operation::router())
        .merge(flows::router())
        .merge(flow_edit::router())
        .layer(axum::middleware::from_fn(page_headers))
}

/// The content security policy of every portal answer: only this server's own script, styles,
/// images and form targets; no framing (so no click-jacking).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every portal answer, and `Server-Timing: app;dur=<ms>`: how long
/// the server took to make it (the page-time measurement reads it).
async fn page_headers(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut response = next.run(request).await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let headers = response.headers_mut();
    headers.insert("content-security-policy", HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={millis:.1}")) {
        headers.insert("server-timing", value);
    }
    response
}

/// `text` percent-encoded for a query string value.
pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
