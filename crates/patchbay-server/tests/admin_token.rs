//! The configured admin token (`ServerConfig::admin_token`, from `PATCHBAY_ADMIN_TOKEN`): a fresh
//! store bootstraps the admin with it, an existing store gets it once, a malformed one stops the
//! start, and it never reaches the log; on both stores.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::{Client, Harness, ServerConfigFor};
use patchbay_server::{ServerConfig, ServerError, start_with_store};

const TOKEN: &str = "pb_configured-admin-token-0123456789abcdef";

/// Everything the process logs, at every level, for the never-logged check.
fn log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let writer = move || Sink(sink.clone());
        let subscriber =
            tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(writer).finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
    .clone()
}

/// Appends to the shared log buffer.
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = self.0.lock() {
            log.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn with_token(config: ServerConfig, token: &str) -> ServerConfig {
    ServerConfig { admin_token: Some(token.to_owned()), ..config }
}

server_test!(a_fresh_store_bootstraps_the_admin_with_the_configured_token, |db| {
    let log = log();
    let store = db.open().await;
    let server = start_with_store(with_token(db.config(), TOKEN), store.clone()).await.expect("starts");
    assert!(server.bootstrap.is_none(), "no random token is made or shown");
    let setup = server.admin_token.clone().expect("the configured token was used");
    assert!(setup.bootstrapped && setup.added);
    assert_eq!(setup.admin.email, "admin@localhost");
    let admin = Client::new(&server.url, TOKEN);
    let (status, body) = admin.get("/api/connectors").await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await.expect("stops");

    let again = start_with_store(with_token(db.config(), TOKEN), store.clone()).await.expect("restarts");
    let setup = again.admin_token.clone().expect("the configured token was checked");
    assert!(!setup.bootstrapped && !setup.added, "a restart changes nothing");
    assert_eq!(store.people().tokens(&setup.admin.id).await.expect("tokens").len(), 1);
    again.shutdown().await.expect("stops");
    let text = String::from_utf8_lossy(&log.lock().expect("the log").clone()).into_owned();
    assert!(text.contains("the configured admin token is valid"), "the start is logged");
    assert!(!text.contains(TOKEN), "the token reached the log");
    store.close().await;
});

server_test!(an_existing_admin_gets_the_configured_token_once, |db| {
    let h = Harness::start(&db).await;
    let first = h.admin.clone();
    let config = with_token(db.config(), TOKEN);
    for round in 0..2 {
        let server = start_with_store(config.clone(), h.store.clone()).await.expect("starts");
        let setup = server.admin_token.clone().expect("the configured token was used");
        assert_eq!((setup.bootstrapped, setup.added), (false, round == 0), "round {round}");
        let (status, _) = Client::new(&server.url, TOKEN).get("/api/catalogue").await;
        assert_eq!(status, 200);
        server.shutdown().await.expect("stops");
    }
    let (status, _) = first.get("/api/catalogue").await;
    assert_eq!(status, 200, "the bootstrap token stays valid");
    let admin = h.store.people().authenticate_token(TOKEN).await.expect("lookup").expect("valid");
    assert_eq!(h.store.people().tokens(&admin.id).await.expect("tokens").len(), 2, "added once");
    h.stop().await;
});

server_test!(a_malformed_configured_token_stops_the_start, |db| {
    let store = db.open().await;
    let secret = "pb_too-short";
    let error = start_with_store(with_token(db.config(), secret), store.clone()).await.expect_err("refused");
    assert!(matches!(error, ServerError::AdminToken(_)), "{error}");
    let message = error.to_string();
    assert!(message.contains("PATCHBAY_ADMIN_TOKEN") && !message.contains(secret), "{message}");
    assert!(store.people().bootstrap_admin().await.expect("bootstrap").is_some(), "nothing was created");
    store.close().await;
});
