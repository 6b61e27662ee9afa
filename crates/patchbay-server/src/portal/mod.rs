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
//! | `/portal/connections[/…]` | create, test, delete; try an operation ([`connections`]) |
//! | `/portal/flows[/…]`, `/portal/runs/{id}` | flows, their graph, enable/disable, runs, resubmit ([`flows`]) |
//! | `/portal/assets/{file}` | the stylesheet and script ([`assets`]) |

pub mod assets;
pub mod connections;
pub mod connectors;
pub mod csrf;
pub mod flows;
pub mod graph;
pub mod page;
pub mod session;

use axum::Router;
use axum::response::Redirect;
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
        .merge(connections::router())
        .merge(flows::router())
}

/// `text` percent-encoded for a query string value.
pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
