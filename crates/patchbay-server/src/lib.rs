//! The patchbay HTTP server: the management API (connectors, revisions, sharing, connections) and
//! the invoke API that runs a connection's operation through the request pipeline.
//!
//! [`start`] opens the store named by the [`ServerConfig`] (running migrations), creates the first
//! admin in an empty store (with the configured admin token, else a random one), purges expired
//! OAuth states in the background, and serves the route table of [`routes::router`] until
//! [`RunningServer::shutdown`]. The same route table makes the server's OpenAPI 3.1 description
//! ([`routes::openapi`], served at `/api/openapi.json`). Every error a caller sees has one JSON
//! shape ([`error::ErrorBody`]): `{"error": {"code", "message"}}`, plus `"diagnostics"` when a
//! package does not validate.
#![deny(missing_docs)]

pub mod auth;
pub mod config;
pub mod config_cache;
pub mod error;
pub mod flows;
pub mod gateway;
pub mod metrics;
pub mod openapi;
pub mod package;
pub mod portal;
pub mod rate_limit;
pub mod routes;
pub mod server;
pub mod state;
pub mod triggers;

pub use config::ServerConfig;
pub use error::{ApiError, ServerError};
pub use server::{RunningServer, start, start_with_store};
