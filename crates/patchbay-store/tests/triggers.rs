//! Triggers: CRUD and cascades, the polling schedule with leases (claims, fencing, concurrency
//! across store handles), durable events with de-duplication, and webhook subscriptions and intake,
//! on both engines.

mod common;

use std::collections::BTreeMap;

use common::{Seed, TestDb, contains, seed};
use patchbay_store::{
    Connection, ConnectionStatus, ConnectorPackage, EventSource, NewConnection, NewEvent, NewTrigger,
    Notification, PollDone, PollLease, Store, StoreError, SubscriptionStatus, Trigger, TriggerKind,
};
use serde_json::{Map, Value, json};

/// The tests' clock: claims and due times are given explicitly, so time never flakes.
const T0: i64 = 1_000_000_000;
const LEASE: i64 = 60_000;

/// The store, its people and one connection of Alice's.
struct Fixture {
    store: Store,
    seed: Seed,
    connection: Connection,
}

async fn fixture(db: &TestDb) -> Fixture {
    let store = db.open().await;
    let seed = seed(&store).await;
    let package =
        ConnectorPackage { api_definition: "{}".into(), api_properties: "{}".into(), ..Default::default() };
    let connector = store.connectors().create(&seed.alice.id, "Contoso Tasks", &package).await.unwrap();
    let connection = store
        .connections()
        .create(NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.alice.id,
            display_name: "Alice's tasks",
            parameter_set: None,
            values: Map::new(),
            secrets: BTreeMap::new(),
            status: ConnectionStatus::Connected,
        })
        .await
        .unwrap();
    Fixture { store, seed, connection }
}

impl Fixture {
    fn new_trigger(&self, kind: TriggerKind) -> NewTrigger {
        NewTrigger {
            environment_id: self.seed.env.clone(),
            owner_id: self.seed.alice.id.clone(),
            connection_id: self.connection.id.clone(),
            operation_id: "OnNewTask".into(),
            kind,
            inputs: json!({"projectId": "alpha"}),
            recurrence_ms: 15_000,
            split_on: Some("@triggerBody()?['value']".into()),
            dedup_path: Some("id".into()),
        }
    }

    /// A polling trigger, enabled and due at `due`.
    async fn polling(&self, due: i64) -> Trigger {
        let created = self.store.triggers().create(&self.new_trigger(TriggerKind::Polling)).await.unwrap();
        self.store.triggers().set_enabled(&created.id, true, Some(due)).await.unwrap()
    }

    /// A webhook trigger, enabled.
    async fn webhook(&self) -> Trigger {
        let created = self.store.triggers().create(&self.new_trigger(TriggerKind::Webhook)).await.unwrap();
        self.store.triggers().set_enabled(&created.id, true, None).await.unwrap()
    }
}

fn poll_event(key: Option<&str>, body: Value) -> NewEvent {
    NewEvent {
        source: EventSource::Poll,
        headers: json!({"x-poll": "1"}),
        body,
        dedup_key: key.map(str::to_owned),
    }
}

fn done(state: Value, next_due_ms: Option<i64>, events: Vec<NewEvent>) -> PollDone {
    PollDone { state, next_due_ms, status: "fired".into(), error: None, events }
}

fn notification(subscription: &patchbay_store::Subscription, secret: &str, n: i64) -> Notification {
    Notification {
        subscription_id: subscription.id.clone(),
        secret: secret.to_owned(),
        headers: json!({"content-type": "application/json"}),
        body: json!({"event": "task.created", "n": n}),
    }
}

fn ids(leases: &[PollLease]) -> Vec<String> {
    leases.iter().map(|lease| lease.trigger.id.to_string()).collect()
}

store_test!(create_get_list_enable_reset_delete, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let created = triggers.create(&fx.new_trigger(TriggerKind::Polling)).await.unwrap();
    assert!(created.id.as_str().starts_with("trg_"));
    assert!(!created.enabled && created.next_due_ms.is_none() && created.lease_owner.is_none());
    assert_eq!(created.state, Value::Null);
    assert_eq!(created.inputs, json!({"projectId": "alpha"}));
    assert_eq!(created.environment_id, fx.seed.env);
    assert_eq!(triggers.get(&created.id).await.unwrap(), created);
    let shown = serde_json::to_value(&created).unwrap();
    assert_eq!(shown["kind"], "polling");

    // Triggers made in the same millisecond have no order among them (their ids are random).
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let webhook = triggers.create(&fx.new_trigger(TriggerKind::Webhook)).await.unwrap();
    let listed: Vec<_> =
        triggers.list_for_environment(&fx.seed.env).await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(listed, [created.id.clone(), webhook.id.clone()]);
    assert_eq!(triggers.list_for_connection(&fx.connection.id).await.unwrap().len(), 2);
    assert!(triggers.list_for_environment(&fx.seed.other_env).await.unwrap().is_empty());

    let enabled = triggers.set_enabled(&created.id, true, Some(T0)).await.unwrap();
    assert!(enabled.enabled);
    assert_eq!(enabled.next_due_ms, Some(T0));
    let lease = triggers.claim_due("node-a", T0, LEASE, 10).await.unwrap().remove(0);
    triggers
        .complete_poll(&lease, &done(json!({"location": "https://x/?s=1"}), Some(T0 + 15_000), vec![]))
        .await
        .unwrap();
    assert_eq!(triggers.get(&created.id).await.unwrap().state, json!({"location": "https://x/?s=1"}));
    assert_eq!(triggers.reset_state(&created.id).await.unwrap().state, Value::Null);

    triggers.claim_one(&created.id, "node-a", T0, LEASE).await.unwrap().unwrap();
    let disabled = triggers.set_enabled(&created.id, false, Some(T0)).await.unwrap();
    assert!(!disabled.enabled);
    assert_eq!((disabled.next_due_ms, disabled.lease_owner, disabled.lease_until_ms), (None, None, None));

    triggers.delete(&created.id).await.unwrap();
    assert!(matches!(triggers.get(&created.id).await, Err(StoreError::NotFound { kind: "trigger", .. })));
    assert!(matches!(triggers.delete(&created.id).await, Err(StoreError::NotFound { .. })));
    let missing = "trg_missing".into();
    assert!(matches!(triggers.set_enabled(&missing, true, None).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(triggers.reset_state(&missing).await, Err(StoreError::NotFound { .. })));
});

store_test!(create_checks_its_inputs, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let mut zero = fx.new_trigger(TriggerKind::Polling);
    zero.recurrence_ms = 0;
    assert!(matches!(triggers.create(&zero).await, Err(StoreError::Invalid { field: "recurrence", .. })));
    zero.kind = TriggerKind::Webhook;
    assert!(triggers.create(&zero).await.is_ok(), "a webhook needs no recurrence");

    let mut stranger = fx.new_trigger(TriggerKind::Polling);
    stranger.owner_id = fx.seed.stranger.id.clone();
    assert!(matches!(triggers.create(&stranger).await, Err(StoreError::NotFound { kind: "connection", .. })));
    let mut elsewhere = fx.new_trigger(TriggerKind::Polling);
    elsewhere.environment_id = fx.seed.other_env.clone();
    assert!(matches!(triggers.create(&elsewhere).await, Err(StoreError::NotFound { .. })));
    let mut unknown = fx.new_trigger(TriggerKind::Polling);
    unknown.connection_id = "cxn_missing".into();
    assert!(matches!(triggers.create(&unknown).await, Err(StoreError::NotFound { .. })));
    let mut blank = fx.new_trigger(TriggerKind::Polling);
    blank.operation_id = "  ".into();
    assert!(matches!(triggers.create(&blank).await, Err(StoreError::Invalid { .. })));
});

store_test!(deleting_a_connection_removes_its_triggers_events_and_subscriptions, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let polling = fx.polling(T0).await;
    let lease = triggers.claim_due("node-a", T0, LEASE, 10).await.unwrap().remove(0);
    let events = vec![poll_event(Some("t-1"), json!({"id": "t-1"}))];
    triggers.complete_poll(&lease, &done(json!({"s": 1}), Some(T0 + 1), events)).await.unwrap();
    let webhook = fx.webhook().await;
    let (subscription, secret) = triggers.new_subscription(&webhook.id).await.unwrap();
    let accepted = triggers.accept_notifications(&[notification(&subscription, &secret, 1)]).await.unwrap();
    assert!(accepted[0].is_some());
    assert_eq!(
        triggers.count_events(&polling.id).await.unwrap() + triggers.count_events(&webhook.id).await.unwrap(),
        2
    );

    fx.store.connections().delete(&fx.connection.id).await.unwrap();
    assert!(triggers.list_for_connection(&fx.connection.id).await.unwrap().is_empty());
    assert!(matches!(triggers.get(&polling.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(triggers.subscription(&subscription.id).await, Err(StoreError::NotFound { .. })));
    for table in ["triggers", "trigger_events", "trigger_subscriptions"] {
        assert!(db.raw_cells(table).await.is_empty(), "{table} is empty");
    }
    assert_eq!(
        triggers.accept_notifications(&[notification(&subscription, &secret, 2)]).await.unwrap(),
        [None]
    );
});

store_test!(claim_due_takes_only_due_enabled_unleased_polling_triggers_oldest_first, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let third = fx.polling(T0 - 1).await;
    let first = fx.polling(T0 - 3).await;
    let second = fx.polling(T0 - 2).await;
    let _later = fx.polling(T0 + 10).await;
    let off = triggers.create(&fx.new_trigger(TriggerKind::Polling)).await.unwrap();
    let webhook = fx.webhook().await;
    triggers.set_enabled(&webhook.id, true, Some(T0 - 5)).await.unwrap();
    let held = fx.polling(T0 - 4).await;
    triggers.claim_one(&held.id, "node-b", T0 - 100, LEASE).await.unwrap().unwrap();

    let claimed = triggers.claim_due("node-a", T0, LEASE, 2).await.unwrap();
    assert_eq!(ids(&claimed), [first.id.to_string(), second.id.to_string()]);
    for lease in &claimed {
        assert_eq!((lease.node.as_str(), lease.until_ms), ("node-a", T0 + LEASE));
        assert_eq!(lease.trigger.lease_owner.as_deref(), Some("node-a"));
        assert_eq!(lease.trigger.lease_until_ms, Some(T0 + LEASE));
        assert_eq!(lease.token, 1);
    }
    assert_eq!(ids(&triggers.claim_due("node-a", T0, LEASE, 10).await.unwrap()), [third.id.to_string()]);
    assert!(triggers.claim_due("node-c", T0, LEASE, 10).await.unwrap().is_empty(), "all due are leased");
    assert!(triggers.claim_due("node-c", T0, LEASE, 0).await.unwrap().is_empty());
    assert!(triggers.get(&off.id).await.unwrap().lease_owner.is_none());
    assert!(matches!(triggers.claim_due(" ", T0, LEASE, 1).await, Err(StoreError::Invalid { .. })));
    assert!(matches!(triggers.claim_due("n", T0, 0, 1).await, Err(StoreError::Invalid { .. })));
});

store_test!(an_expired_lease_goes_to_another_node_and_the_first_completion_writes_nothing, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let trigger = fx.polling(T0).await;
    let a = triggers.claim_due("node-a", T0, 1_000, 10).await.unwrap().remove(0);
    assert!(triggers.claim_due("node-b", T0 + 500, 1_000, 10).await.unwrap().is_empty(), "lease is live");
    assert_eq!(triggers.earliest_due().await.unwrap(), Some(T0 + 1_001), "claimable once the lease runs out");
    let b = triggers.claim_due("node-b", T0 + 2_000, 1_000, 10).await.unwrap().remove(0);
    assert_eq!(b.token, a.token + 1);

    let late = done(json!({"from": "a"}), Some(T0 + 99), vec![poll_event(Some("k"), json!(1))]);
    match triggers.complete_poll(&a, &late).await {
        Err(StoreError::LeaseLost { id }) => assert_eq!(id, trigger.id.to_string()),
        other => panic!("expected LeaseLost, got {other:?}"),
    }
    assert!(matches!(triggers.renew(&a, T0 + 9_000).await, Err(StoreError::LeaseLost { .. })));
    let unchanged = triggers.get(&trigger.id).await.unwrap();
    assert_eq!((unchanged.state, unchanged.lease_owner.as_deref()), (Value::Null, Some("node-b")));
    assert_eq!(triggers.count_events(&trigger.id).await.unwrap(), 0, "no event of the lost poll");
    assert!(db.raw_cells("trigger_events").await.is_empty());

    triggers.renew(&b, T0 + 9_000).await.unwrap();
    assert_eq!(triggers.get(&trigger.id).await.unwrap().lease_until_ms, Some(T0 + 9_000));
    let stored = triggers
        .complete_poll(
            &b,
            &done(json!({"from": "b"}), Some(T0 + 20_000), vec![poll_event(Some("k"), json!(2))]),
        )
        .await
        .unwrap();
    assert_eq!(stored.stored, 1);
    // The token is still current: completing again is allowed.
    triggers.complete_poll(&b, &done(Value::Null, None, vec![])).await.unwrap();
    triggers.delete(&trigger.id).await.unwrap();
    assert!(matches!(
        triggers.complete_poll(&b, &done(Value::Null, None, vec![])).await,
        Err(StoreError::LeaseLost { .. })
    ));
});

store_test!(complete_poll_stores_state_and_events_together_and_skips_known_keys, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let trigger = fx.polling(T0).await;
    let lease = triggers.claim_due("node-a", T0, LEASE, 10).await.unwrap().remove(0);
    let events = vec![
        poll_event(Some("t-1"), json!({"id": "t-1"})),
        poll_event(Some("t-2"), json!({"id": "t-2"})),
        poll_event(Some("t-2"), json!({"id": "t-2", "again": true})),
        poll_event(None, json!({"no": "key"})),
    ];
    let state = json!({"location": "https://api.example/new?triggerState=2024-05-01"});
    let stored =
        triggers.complete_poll(&lease, &done(state.clone(), Some(T0 + 15_000), events)).await.unwrap();
    assert_eq!((stored.stored, stored.duplicates, stored.seqs.len()), (3, 1, 3));
    assert!(stored.seqs.windows(2).all(|pair| pair[0] < pair[1]), "{:?}", stored.seqs);

    let after = triggers.get(&trigger.id).await.unwrap();
    assert_eq!(after.state, state);
    assert_eq!(after.next_due_ms, Some(T0 + 15_000));
    assert_eq!((after.lease_owner, after.lease_until_ms), (None, None));
    assert_eq!(after.last_status.as_deref(), Some("fired"));
    assert!(after.last_poll_ms.is_some());

    let listed = triggers.events(&trigger.id, 0, 100).await.unwrap();
    let bodies: Vec<&Value> = listed.iter().map(|event| &event.body).collect();
    assert_eq!(bodies, [&json!({"id": "t-1"}), &json!({"id": "t-2"}), &json!({"no": "key"})]);
    assert_eq!(listed.iter().map(|event| event.seq).collect::<Vec<_>>(), stored.seqs);
    assert!(
        listed
            .iter()
            .all(|event| event.source == EventSource::Poll && event.headers == json!({"x-poll": "1"}))
    );
    assert!(listed[0].id.as_str().starts_with("evt_"));
    assert_eq!(triggers.events(&trigger.id, listed[0].seq, 1).await.unwrap()[0].seq, listed[1].seq);

    let lease = triggers.claim_due("node-a", T0 + 15_000, LEASE, 10).await.unwrap().remove(0);
    let long_key = "x".repeat(1000);
    let again = vec![
        poll_event(Some("t-1"), json!({"id": "t-1"})),
        poll_event(Some("t-3"), json!({"id": "t-3"})),
        poll_event(Some(&long_key), json!({"long": 1})),
        poll_event(Some(&long_key), json!({"long": 2})),
    ];
    let failed = PollDone {
        status: "failed".into(),
        error: Some("HTTP 500".into()),
        ..done(state.clone(), Some(T0 + 30_000), again)
    };
    let stored = triggers.complete_poll(&lease, &failed).await.unwrap();
    assert_eq!((stored.stored, stored.duplicates), (2, 2));
    assert_eq!(triggers.count_events(&trigger.id).await.unwrap(), 5);
    let after = triggers.get(&trigger.id).await.unwrap();
    assert_eq!(
        (after.last_status.as_deref(), after.last_error.as_deref()),
        (Some("failed"), Some("HTTP 500"))
    );
});

store_test!(a_failing_event_write_leaves_the_state_where_it_was, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let trigger = fx.polling(T0).await;
    let refuse = match db.kind {
        common::Kind::Sqlite => "CREATE TRIGGER refuse_boom BEFORE INSERT ON trigger_events \
             WHEN NEW.body = '\"boom\"' BEGIN SELECT RAISE(ABORT, 'boom refused'); END"
            .to_owned(),
        common::Kind::Postgres => "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.body = '\"boom\"' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER refuse_boom BEFORE INSERT ON trigger_events FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
            .to_owned(),
    };
    db.raw_execute(&refuse).await.unwrap();
    let lease = triggers.claim_due("node-a", T0, LEASE, 10).await.unwrap().remove(0);
    let events = vec![poll_event(Some("ok"), json!("fine")), poll_event(Some("bad"), json!("boom"))];
    let result = triggers.complete_poll(&lease, &done(json!({"advanced": true}), Some(T0 + 1), events)).await;
    assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
    let after = triggers.get(&trigger.id).await.unwrap();
    assert_eq!(after.state, Value::Null, "the state did not advance");
    assert_eq!(after.lease_owner.as_deref(), Some("node-a"), "the lease is still held");
    assert_eq!(triggers.count_events(&trigger.id).await.unwrap(), 0, "the good event went with the bad");
    let retry = triggers
        .complete_poll(
            &lease,
            &done(json!({"advanced": true}), Some(T0 + 1), vec![poll_event(Some("ok"), json!("fine"))]),
        )
        .await;
    assert_eq!(retry.unwrap().stored, 1);
});

store_test!(claim_one_polls_now_unless_another_lease_is_live, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let disabled = triggers.create(&fx.new_trigger(TriggerKind::Polling)).await.unwrap();
    let lease = triggers
        .claim_one(&disabled.id, "node-a", T0, 1_000)
        .await
        .unwrap()
        .expect("a disabled trigger can be polled now");
    assert_eq!((lease.token, lease.until_ms), (1, T0 + 1_000));
    assert!(
        triggers.claim_one(&disabled.id, "node-b", T0 + 1_000, LEASE).await.unwrap().is_none(),
        "lease is live"
    );
    let taken = triggers.claim_one(&disabled.id, "node-b", T0 + 1_001, LEASE).await.unwrap().unwrap();
    assert_eq!(taken.token, 2);
    triggers.complete_poll(&taken, &done(json!({"s": 1}), Some(T0 + 5_000), vec![])).await.unwrap();
    let after = triggers.get(&disabled.id).await.unwrap();
    assert!(!after.enabled && after.next_due_ms.is_none(), "a poll-now does not re-enable: {after:?}");
    assert_eq!(after.state, json!({"s": 1}));

    let due_later = fx.polling(T0 + 3_600_000).await;
    assert!(triggers.claim_one(&due_later.id, "node-a", T0, LEASE).await.unwrap().is_some(), "due or not");
    let webhook = fx.webhook().await;
    assert!(matches!(
        triggers.claim_one(&webhook.id, "node-a", T0, LEASE).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        triggers.claim_one(&"trg_missing".into(), "node-a", T0, LEASE).await,
        Err(StoreError::NotFound { .. })
    ));
});

store_test!(earliest_due_is_the_next_claimable_time, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    assert_eq!(triggers.earliest_due().await.unwrap(), None);
    triggers.create(&fx.new_trigger(TriggerKind::Polling)).await.unwrap();
    let webhook = fx.webhook().await;
    triggers.set_enabled(&webhook.id, true, Some(T0 - 50)).await.unwrap();
    assert_eq!(triggers.earliest_due().await.unwrap(), None, "disabled and webhook triggers do not count");
    fx.polling(T0 + 10).await;
    let soon = fx.polling(T0 + 5).await;
    assert_eq!(triggers.earliest_due().await.unwrap(), Some(T0 + 5));
    triggers.claim_one(&soon.id, "node-a", T0, 100).await.unwrap().unwrap();
    assert_eq!(triggers.earliest_due().await.unwrap(), Some(T0 + 10), "a leased trigger waits for its lease");
});

// Three nodes with their own store handles claim 200 due triggers in small bites, three rounds.
store_test!(concurrent_nodes_claim_each_due_trigger_exactly_once_per_round, |db| {
    const TRIGGERS: usize = 200;
    const ROUNDS: i64 = 3;
    let fx = fixture(&db).await;
    let mut all = Vec::with_capacity(TRIGGERS);
    for _ in 0..TRIGGERS {
        all.push(fx.polling(T0).await.id.to_string());
    }
    all.sort();
    let nodes: Vec<Store> = vec![db.open().await, db.open().await, db.open().await];
    for round in 0..ROUNDS {
        let now = T0 + round * 1_000;
        let mut tasks = Vec::new();
        for (n, store) in nodes.iter().enumerate() {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let node = format!("node-{n}");
                let mut claimed = Vec::new();
                loop {
                    let leases = store.triggers().claim_due(&node, now, LEASE, 7).await.unwrap();
                    if leases.is_empty() {
                        break claimed;
                    }
                    for lease in leases {
                        let event = poll_event(Some(&format!("r{round}")), json!({"round": round}));
                        let next = done(json!({"round": round}), Some(now + 1_000), vec![event]);
                        store.triggers().complete_poll(&lease, &next).await.unwrap();
                        claimed.push(lease.trigger.id.to_string());
                    }
                }
            }));
        }
        let mut claimed = Vec::new();
        let mut per_node = Vec::new();
        for task in tasks {
            let mine = task.await.unwrap();
            per_node.push(mine.len());
            claimed.extend(mine);
        }
        claimed.sort();
        assert_eq!(claimed.len(), TRIGGERS, "round {round}: {per_node:?}");
        assert_eq!(claimed, all, "round {round}: every trigger exactly once");
    }
    let mut events = 0;
    for id in &all {
        events += fx.store.triggers().count_events(&id.as_str().into()).await.unwrap();
    }
    assert_eq!(events, TRIGGERS as i64 * ROUNDS);
});

store_test!(subscriptions_go_from_pending_to_active_to_removed, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let webhook = fx.webhook().await;
    let (pending, secret) = triggers.new_subscription(&webhook.id).await.unwrap();
    assert!(pending.id.as_str().starts_with("sub_"));
    assert_eq!(
        (pending.status, pending.attempts, pending.location.as_deref()),
        (SubscriptionStatus::Pending, 0, None)
    );
    assert_eq!(secret.len(), 43, "32 bytes in URL-safe base64");
    assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

    let location = "https://api.contoso.example/v1/webhooks/wh_42";
    let active = triggers.activate_subscription(&pending.id, Some(location)).await.unwrap();
    assert_eq!((active.status, active.location.as_deref()), (SubscriptionStatus::Active, Some(location)));
    assert_eq!(triggers.subscription(&pending.id).await.unwrap(), active);
    let (second, _) = triggers.new_subscription(&webhook.id).await.unwrap();
    let listed: Vec<_> =
        triggers.subscriptions(&webhook.id).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(listed, [pending.id.clone(), second.id.clone()]);

    let failed = triggers.mark_remove_failed(&second.id, "HTTP 503 from the backend").await.unwrap();
    assert_eq!((failed.status, failed.attempts), (SubscriptionStatus::RemoveFailed, 1));
    let failed = triggers.mark_remove_failed(&second.id, "HTTP 503 again").await.unwrap();
    assert_eq!((failed.attempts, failed.last_error.as_deref()), (2, Some("HTTP 503 again")));
    let removed = triggers.mark_removed(&second.id).await.unwrap();
    assert_eq!(removed.status, SubscriptionStatus::Removed);
    assert_eq!(
        triggers.mark_remove_failed(&second.id, "late").await.unwrap().status,
        SubscriptionStatus::Removed
    );
    assert!(matches!(
        triggers.activate_subscription(&second.id, None).await,
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(triggers.subscription(&second.id).await.unwrap().status, SubscriptionStatus::Removed);

    let polling = fx.polling(T0).await;
    assert!(matches!(triggers.new_subscription(&polling.id).await, Err(StoreError::Invalid { .. })));
    assert!(matches!(
        triggers.new_subscription(&"trg_missing".into()).await,
        Err(StoreError::NotFound { .. })
    ));
    let missing = "sub_missing".into();
    assert!(matches!(triggers.subscription(&missing).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(triggers.mark_removed(&missing).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(triggers.activate_subscription(&missing, None).await, Err(StoreError::NotFound { .. })));
});

store_test!(intake_stores_only_callbacks_with_a_live_subscription_and_its_secret, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let webhook = fx.webhook().await;
    let (pending, secret) = triggers.new_subscription(&webhook.id).await.unwrap();
    let (removed, removed_secret) = triggers.new_subscription(&webhook.id).await.unwrap();
    triggers.mark_removed(&removed.id).await.unwrap();
    let (failed, failed_secret) = triggers.new_subscription(&webhook.id).await.unwrap();
    triggers.mark_remove_failed(&failed.id, "timeout").await.unwrap();
    let mut unknown = notification(&pending, &secret, 0);
    unknown.subscription_id = "sub_unknown".into();
    let mut wrong = notification(&pending, &secret, 0);
    wrong.secret.replace_range(0..1, if secret.starts_with('A') { "B" } else { "A" });

    let batch = [
        notification(&pending, &secret, 1),
        wrong,
        unknown,
        notification(&removed, &removed_secret, 2),
        notification(&failed, &failed_secret, 3),
        notification(&pending, "", 4),
        notification(&pending, &secret, 5),
    ];
    let accepted = triggers.accept_notifications(&batch).await.unwrap();
    let stored: Vec<bool> = accepted.iter().map(Option::is_some).collect();
    assert_eq!(
        stored,
        [true, false, false, false, false, false, true],
        "pending subscriptions accept callbacks"
    );
    let events = triggers.events(&webhook.id, 0, 100).await.unwrap();
    assert_eq!(events.iter().map(|event| Some(event.seq)).collect::<Vec<_>>(), [accepted[0], accepted[6]]);
    assert_eq!(events[0].body, json!({"event": "task.created", "n": 1}));
    assert_eq!(events[0].headers, json!({"content-type": "application/json"}));
    assert_eq!(events[0].source, EventSource::Webhook);
    assert_eq!(triggers.count_events(&webhook.id).await.unwrap(), 2, "nothing else was stored");

    triggers.activate_subscription(&pending.id, None).await.unwrap();
    assert!(triggers.accept_notifications(&[notification(&pending, &secret, 6)]).await.unwrap()[0].is_some());
    triggers.mark_removed(&pending.id).await.unwrap();
    assert_eq!(triggers.accept_notifications(&[notification(&pending, &secret, 7)]).await.unwrap(), [None]);
    assert!(triggers.accept_notifications(&[]).await.unwrap().is_empty());
    assert_eq!(triggers.count_events(&webhook.id).await.unwrap(), 3);
});

store_test!(intake_takes_a_batch_of_a_thousand_in_one_call, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let (first, second) = (fx.webhook().await, fx.webhook().await);
    let (one, one_secret) = triggers.new_subscription(&first.id).await.unwrap();
    let (two, two_secret) = triggers.new_subscription(&second.id).await.unwrap();
    let batch: Vec<Notification> = (0..1000)
        .map(|n| match n % 100 {
            0 => notification(&one, "wrong", n),
            k if k % 2 == 0 => notification(&one, &one_secret, n),
            _ => notification(&two, &two_secret, n),
        })
        .collect();
    let accepted = triggers.accept_notifications(&batch).await.unwrap();
    assert_eq!(accepted.len(), 1000);
    assert_eq!(accepted.iter().filter(|seq| seq.is_none()).count(), 10);
    let seqs: Vec<i64> = accepted.iter().flatten().copied().collect();
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "seqs follow the batch order");
    assert_eq!(triggers.count_events(&first.id).await.unwrap(), 490);
    assert_eq!(triggers.count_events(&second.id).await.unwrap(), 500);
    let page = triggers.events(&second.id, 0, 10_000).await.unwrap();
    assert_eq!(page.len(), 500);
    assert_eq!(page[0].body["n"], 1);
});

store_test!(the_database_holds_no_callback_secret, |db| {
    let fx = fixture(&db).await;
    let triggers = fx.store.triggers();
    let webhook = fx.webhook().await;
    let (subscription, secret) = triggers.new_subscription(&webhook.id).await.unwrap();
    let (removed, removed_secret) = triggers.new_subscription(&webhook.id).await.unwrap();
    triggers.mark_removed(&removed.id).await.unwrap();
    triggers.accept_notifications(&[notification(&subscription, &secret, 1)]).await.unwrap();
    let shown = format!("{subscription:?} {}", serde_json::to_string(&subscription).unwrap());
    assert!(!shown.contains(&secret) && !shown.contains("hash"), "{shown}");

    let mut cells = 0;
    for table in db.raw_tables().await {
        for cell in db.raw_cells(&table).await {
            cells += 1;
            for needle in [&secret, &removed_secret] {
                assert!(
                    !contains(&cell, needle.as_bytes()),
                    "a callback secret in plaintext in table {table}"
                );
            }
        }
    }
    assert!(cells > 20, "the dump read the tables ({cells} cells)");
    assert!(
        db.raw_cells("trigger_subscriptions")
            .await
            .iter()
            .any(|cell| contains(cell, subscription.id.as_str().as_bytes()))
    );
    if db.kind == common::Kind::Sqlite {
        fx.store.close().await;
        let path = db.sqlite_path();
        for file in [path.clone(), path.with_extension("db-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                for needle in [&secret, &removed_secret] {
                    assert!(!contains(&bytes, needle.as_bytes()), "a callback secret in {}", file.display());
                }
            }
        }
    }
});
