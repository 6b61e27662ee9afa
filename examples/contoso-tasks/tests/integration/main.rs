//! Integration tests: the real Contoso Tasks server on 127.0.0.1:0, driven over HTTP.

mod common;
mod crud;
mod export;
mod oauth;
mod package;
mod polling;
mod webhooks;
