//! Webhook intake throughput on SQLite (WAL, synchronous=FULL): notifications stored per second by
//! `accept_notifications`, one call (one commit) per batch, for several batch sizes.
//! Run with `cargo bench -p patchbay-store --bench intake`; results go to BENCHMARKS.md.

use std::collections::BTreeMap;
use std::time::Instant;

use patchbay_store::{
    ConnectionStatus, ConnectorPackage, NewConnection, NewTrigger, NewUser, Notification, Role, Store,
    TriggerKind,
};
use serde_json::{Map, json};

/// Notifications stored per measured batch size.
const TOTAL: usize = 20_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let key = patchbay_store::SecretKey::generate().expect("key");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::open(&url).await.expect("open").with_secret_key(key);
    let people = store.people();
    let env = people.create_environment("Bench").await.expect("environment").id;
    let user = people
        .create_user(NewUser {
            environment_id: &env,
            email: "b@x.example",
            display_name: "b",
            role: Role::Maker,
            password: None,
        })
        .await
        .expect("user");
    let package =
        ConnectorPackage { api_definition: "{}".into(), api_properties: "{}".into(), ..Default::default() };
    let connector = store.connectors().create(&user.id, "Bench", &package).await.expect("connector");
    let connection = store
        .connections()
        .create(NewConnection {
            connector_id: &connector.id,
            owner_id: &user.id,
            display_name: "c",
            parameter_set: None,
            values: Map::new(),
            secrets: BTreeMap::new(),
            status: ConnectionStatus::Connected,
        })
        .await
        .expect("connection");
    let trigger = store
        .triggers()
        .create(&NewTrigger {
            environment_id: env.clone(),
            owner_id: user.id.clone(),
            connection_id: connection.id.clone(),
            operation_id: "OnTaskCreated".into(),
            kind: TriggerKind::Webhook,
            inputs: json!({}),
            recurrence_ms: 0,
            split_on: None,
            dedup_path: None,
        })
        .await
        .expect("trigger");
    let (subscription, secret) = store.triggers().new_subscription(&trigger.id).await.expect("subscription");
    let note = Notification {
        subscription_id: subscription.id.clone(),
        secret,
        headers: json!({"content-type": "application/json", "user-agent": "contoso-hooks/1.0"}),
        body: json!({"event": "task.created", "task": {"id": "t-17", "title": "Ship it", "project": "alpha"}}),
    };
    println!("batch size | notifications/s | ms per commit");
    for batch_size in [1usize, 10, 50, 100, 250, 1000] {
        let batch = vec![note.clone(); batch_size];
        let calls = (TOTAL / batch_size).max(1).min(if batch_size == 1 { 2_000 } else { usize::MAX });
        let started = Instant::now();
        for _ in 0..calls {
            let accepted = store.triggers().accept_notifications(&batch).await.expect("intake");
            assert!(accepted.iter().all(Option::is_some));
        }
        let secs = started.elapsed().as_secs_f64();
        let rate = (calls * batch_size) as f64 / secs;
        println!("{batch_size:>10} | {rate:>15.0} | {:>13.2}", secs * 1000.0 / calls as f64);
    }
}
