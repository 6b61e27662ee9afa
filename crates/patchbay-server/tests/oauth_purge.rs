//! The server deletes expired OAuth sign-in states at start and then periodically; live ones stay.

mod common;

use std::time::Duration;

use common::{Harness, ServerConfigFor, connect, contoso, upload_contoso};
use patchbay_server::{ServerConfig, start_with_store};
use patchbay_store::{OAuthState, now_ms};

/// The states left in the table.
async fn remaining(db: &common::TestDb) -> usize {
    db.raw_cells("oauth_states").await.len()
}

/// Waits (at most 10 s) until `count` states are left.
async fn wait_for(db: &common::TestDb, count: usize) -> bool {
    for _ in 0..200 {
        if remaining(db).await == count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

server_test!(expired_states_are_purged_at_start_and_then_periodically, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let state = |name: &str, expires_at: i64| OAuthState {
        state: name.to_owned(),
        connection_id: connection.clone().into(),
        verifier: "v".to_owned(),
        redirect: "/".to_owned(),
        expires_at,
    };
    let states = h.store.oauth_states();
    states.put(&state("expired", now_ms() - 1)).await.expect("put");
    states.put(&state("live", now_ms() + 600_000)).await.expect("put");
    let columns = remaining(&db).await / 2;
    assert!(columns > 0);

    let config = ServerConfig { oauth_purge_interval: Duration::from_secs(1), ..db.config() };
    let second = start_with_store(config, h.store.clone()).await.expect("a second node starts");
    assert!(wait_for(&db, columns).await, "the expired state is deleted at start");
    states.put(&state("expired-later", now_ms() - 1)).await.expect("put");
    assert!(wait_for(&db, columns).await, "and by the periodic purge");
    assert!(states.take("live").await.expect("take").is_some(), "the live state stays");
    second.shutdown().await.expect("stops");
    api.shutdown().await.ok();
    h.stop().await;
});
