//! Flows and runs: CRUD with revisions, the run queue (claims, wake-ups, take-overs, fencing, the
//! per-flow concurrency limit across store handles), the journal, cancels, and trigger events
//! becoming runs exactly once, on both engines.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use common::{Seed, TestDb, contains, seed};
use patchbay_store::{
    ActionEntry, ConnectionStatus, ConnectorPackage, Fence, Flow, FlowId, NewConnection, NewFlow, NewTrigger,
    Notification, Run, RunId, RunLease, RunStatus, RunWrite, StartRun, Store, StoreError, Trigger,
    TriggerKind, WholeRun, Written, now_ms,
};
use serde_json::{Map, Value, json};

const LEASE: i64 = 60_000;

/// The store and its people.
struct Fixture {
    store: Store,
    seed: Seed,
}

async fn fixture(db: &TestDb) -> Fixture {
    let store = db.open().await;
    let seed = seed(&store).await;
    Fixture { store, seed }
}

fn definition(marker: &str) -> Value {
    json!({
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {"Compose": {"type": "Compose", "inputs": marker}}
    })
}

impl Fixture {
    fn new_flow(&self, name: &str, concurrency: Option<i64>) -> NewFlow {
        NewFlow {
            environment_id: self.seed.env.clone(),
            owner_id: self.seed.alice.id.clone(),
            name: name.into(),
            definition: definition("first"),
            connections: json!({"shared_contoso": "cxn_1"}),
            concurrency,
        }
    }

    /// A flow, enabled.
    async fn enabled_flow(&self, name: &str, concurrency: Option<i64>) -> Flow {
        let created = self.store.flows().create(&self.new_flow(name, concurrency)).await.unwrap();
        self.store.flows().set_enabled(&created.id, true).await.unwrap()
    }

    /// Queues a run of the flow's current revision, a little after the previous one (runs queued in
    /// the same millisecond have no order among them).
    async fn enqueue(&self, flow: &Flow, n: i64) -> Run {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let trigger = json!({"headers": {}, "body": {"n": n}});
        self.store.flows().enqueue(&flow.id, flow.revision, &trigger, None).await.unwrap().0
    }

    /// A webhook trigger of Alice's with one subscription, and that subscription's secret.
    async fn webhook(&self) -> (Trigger, patchbay_store::Subscription, String) {
        let package = ConnectorPackage {
            api_definition: "{}".into(),
            api_properties: "{}".into(),
            ..Default::default()
        };
        let connector =
            self.store.connectors().create(&self.seed.alice.id, "Contoso", &package).await.unwrap();
        let connection = self
            .store
            .connections()
            .create(NewConnection {
                connector_id: &connector.id,
                owner_id: &self.seed.alice.id,
                display_name: "Alice's tasks",
                parameter_set: None,
                values: Map::new(),
                secrets: BTreeMap::new(),
                status: ConnectionStatus::Connected,
            })
            .await
            .unwrap();
        let trigger = self
            .store
            .triggers()
            .create(&NewTrigger {
                environment_id: self.seed.env.clone(),
                owner_id: self.seed.alice.id.clone(),
                connection_id: connection.id.clone(),
                operation_id: "OnNewTask".into(),
                kind: TriggerKind::Webhook,
                inputs: json!({}),
                recurrence_ms: 0,
                split_on: None,
                dedup_path: None,
            })
            .await
            .unwrap();
        let (subscription, secret) = self.store.triggers().new_subscription(&trigger.id).await.unwrap();
        (trigger, subscription, secret)
    }
}

/// A run of `flow` for node-a to start at `at_ms` (its id ordered by that time), with `body` as
/// its trigger body.
fn start_of(flow: &Flow, at_ms: i64, body: Value) -> StartRun {
    StartRun {
        id: RunId::ordered(at_ms).unwrap(),
        flow_id: flow.id.clone(),
        revision: flow.revision,
        trigger: json!({"headers": {}, "body": body}),
        node: "node-a".into(),
        lease_ms: LEASE,
    }
}

fn entry(key: &str, status: &str, output: Value) -> ActionEntry {
    let (name, iteration) = match key.split_once('#') {
        Some((name, indexes)) => (name, indexes.split('.').map(|i| i.parse().unwrap()).collect()),
        None => (key, vec![]),
    };
    ActionEntry {
        key: key.into(),
        name: name.into(),
        iteration,
        status: status.into(),
        inputs: json!({"in": key}),
        outputs: output,
        error: None,
        started_ms: 1_000,
        ended_ms: (status != "Running").then_some(2_000),
        attempts: 1,
        pending: None,
    }
}

fn ids(leases: &[RunLease]) -> Vec<String> {
    leases.iter().map(|lease| lease.run.id.to_string()).collect()
}

fn is_lease_lost<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::LeaseLost { .. }))
}

async fn running(store: &Store, flow: &FlowId) -> i64 {
    let counts = store.flows().count_runs_by_status(flow).await.unwrap();
    counts.iter().find(|(status, _)| *status == RunStatus::Running).map_or(0, |(_, n)| *n)
}

store_test!(flows_keep_every_revision_and_a_run_keeps_its_own, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let created = flows.create(&fx.new_flow("  Sync tasks ", Some(3))).await.unwrap();
    assert!(created.id.as_str().starts_with("flw_"));
    assert_eq!((created.name.as_str(), created.revision, created.enabled), ("Sync tasks", 1, false));
    assert_eq!((created.trigger_id.clone(), created.event_cursor, created.concurrency), (None, 0, Some(3)));
    assert_eq!(created.definition, definition("first"));
    assert_eq!(flows.get(&created.id).await.unwrap(), created);
    assert_eq!(
        serde_json::to_value(&created).unwrap()["definition"]["actions"]["Compose"]["inputs"],
        "first"
    );

    let enabled = flows.set_enabled(&created.id, true).await.unwrap();
    assert!(enabled.enabled);
    let old_run = fx.enqueue(&enabled, 1).await;
    assert_eq!(old_run.revision, 1);

    let updated = flows.update(&created.id, &definition("second"), &json!({}), None).await.unwrap();
    assert_eq!((updated.revision, updated.concurrency, updated.enabled), (2, None, true));
    assert_eq!((updated.definition.clone(), updated.connections.clone()), (definition("second"), json!({})));
    let first = flows.revision(&created.id, 1).await.unwrap();
    assert_eq!(
        (first.revision, first.definition, first.connections),
        (1, definition("first"), json!({"shared_contoso": "cxn_1"}))
    );
    assert_eq!(flows.revision(&created.id, 2).await.unwrap().definition, definition("second"));
    assert!(matches!(
        flows.revision(&created.id, 3).await,
        Err(StoreError::NotFound { kind: "flow revision", .. })
    ));

    let after = flows.get_run(&old_run.id).await.unwrap();
    assert_eq!(after.revision, 1, "the run goes on with the revision it started with");
    let (on_old, _) = flows.enqueue(&created.id, 1, &json!({}), None).await.unwrap();
    assert_eq!(on_old.revision, 1, "a resubmit may name an older revision");
    assert_eq!(fx.enqueue(&updated, 2).await.revision, 2);

    let other = flows.create(&fx.new_flow("Other", None)).await.unwrap();
    let listed: Vec<_> =
        flows.list_for_owner(&fx.seed.alice.id).await.unwrap().into_iter().map(|f| f.id).collect();
    assert_eq!(listed, [created.id.clone(), other.id.clone()]);
    assert!(flows.list_for_owner(&fx.seed.bob.id).await.unwrap().is_empty());
    assert!(!flows.set_enabled(&created.id, false).await.unwrap().enabled);
});

store_test!(flow_inputs_are_checked, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let mut bad = fx.new_flow("Bad", None);
    bad.definition = json!("not an object");
    assert!(matches!(flows.create(&bad).await, Err(StoreError::Invalid { field: "definition", .. })));
    let mut bad = fx.new_flow("Bad", None);
    bad.connections = json!({"shared": 7});
    assert!(matches!(flows.create(&bad).await, Err(StoreError::Invalid { field: "connections", .. })));
    assert!(matches!(
        flows.create(&fx.new_flow("Bad", Some(0))).await,
        Err(StoreError::Invalid { field: "concurrency", .. })
    ));
    assert!(matches!(flows.create(&fx.new_flow(" ", None)).await, Err(StoreError::Invalid { .. })));
    let mut stranger = fx.new_flow("Elsewhere", None);
    stranger.owner_id = fx.seed.stranger.id.clone();
    assert!(matches!(flows.create(&stranger).await, Err(StoreError::NotFound { kind: "user", .. })));

    let flow = flows.create(&fx.new_flow("Good", None)).await.unwrap();
    assert!(matches!(
        flows.update(&flow.id, &json!([]), &json!({}), None).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        flows.update(&flow.id, &json!({}), &json!({}), Some(-1)).await,
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(flows.get(&flow.id).await.unwrap().revision, 1, "a refused update stores nothing");
    let missing: FlowId = "flw_missing".into();
    assert!(matches!(flows.get(&missing).await, Err(StoreError::NotFound { kind: "flow", .. })));
    assert!(matches!(
        flows.update(&missing, &json!({}), &json!({}), None).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(flows.set_enabled(&missing, true).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(flows.set_trigger(&missing, None).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(flows.delete(&missing).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(flows.enqueue(&missing, 1, &json!({}), None).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(flows.enqueue_from_events(&missing, 10).await, Err(StoreError::NotFound { .. })));
});

store_test!(flow_names_are_unique_per_environment, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    flows.create(&fx.new_flow("Sync Tasks", None)).await.unwrap();
    match flows.create(&fx.new_flow("sync tasks", None)).await {
        Err(StoreError::AlreadyExists { kind: "flow", name }) => assert_eq!(name, "sync tasks"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    let mut bobs = fx.new_flow("SYNC TASKS", None);
    bobs.owner_id = fx.seed.bob.id.clone();
    assert!(
        matches!(flows.create(&bobs).await, Err(StoreError::AlreadyExists { .. })),
        "per environment, not per owner"
    );
    let mut elsewhere = fx.new_flow("Sync Tasks", None);
    elsewhere.environment_id = fx.seed.other_env.clone();
    elsewhere.owner_id = fx.seed.stranger.id.clone();
    assert!(flows.create(&elsewhere).await.is_ok());
});

store_test!(deleting_a_flow_removes_its_revisions_runs_and_journals, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let flow = fx.enabled_flow("Doomed", None).await;
    flows.update(&flow.id, &definition("second"), &json!({}), None).await.unwrap();
    let run = fx.enqueue(&flow, 1).await;
    let lease = flows.claim_runs("node-a", now_ms(), LEASE, 10).await.unwrap().remove(0);
    flows.record_action(&lease, &entry("Compose", "Succeeded", json!("done"))).await.unwrap();
    let kept = fx.enabled_flow("Kept", None).await;
    fx.enqueue(&kept, 2).await;

    flows.delete(&flow.id).await.unwrap();
    assert!(matches!(flows.get(&flow.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(flows.get_run(&run.id).await, Err(StoreError::NotFound { kind: "run", .. })));
    assert!(flows.journal(&run.id).await.unwrap().is_empty());
    assert!(is_lease_lost(flows.record_action(&lease, &entry("Late", "Succeeded", json!(1))).await));
    assert!(db.raw_cells("run_actions").await.is_empty());
    for table in ["flows", "flow_revisions", "runs"] {
        let cells = db.raw_cells(table).await;
        assert!(
            !cells.iter().any(|cell| contains(cell, flow.id.as_str().as_bytes())),
            "{table} forgot the flow"
        );
        assert!(
            cells.iter().any(|cell| contains(cell, kept.id.as_str().as_bytes())),
            "{table} kept the other"
        );
    }
    assert!(matches!(flows.delete(&flow.id).await, Err(StoreError::NotFound { .. })));
});

store_test!(enqueue_is_idempotent_per_flow_and_key, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let flow = fx.enabled_flow("Requests", None).await;
    let trigger = json!({"headers": {"x-ms-client-tracking-id": "abc"}, "body": {"task": 1}});
    let (first, created) = flows.enqueue(&flow.id, 1, &trigger, Some("abc")).await.unwrap();
    assert!(created && first.id.as_str().starts_with("run_"));
    assert_eq!(
        (first.status, first.attempts, first.trigger.clone()),
        (RunStatus::Queued, 0, trigger.clone())
    );
    assert_eq!(
        (first.idempotency_key.as_deref(), first.event_seq, first.started_ms),
        (Some("abc"), None, None)
    );
    let (again, created) = flows.enqueue(&flow.id, 1, &json!({"other": true}), Some("abc")).await.unwrap();
    assert!(!created);
    assert_eq!(again, first, "the first run comes back unchanged");

    let other = fx.enabled_flow("Other", None).await;
    assert!(flows.enqueue(&other.id, 1, &trigger, Some("abc")).await.unwrap().1, "keys are per flow");
    let (a, _) = flows.enqueue(&flow.id, 1, &trigger, None).await.unwrap();
    let (b, _) = flows.enqueue(&flow.id, 1, &trigger, None).await.unwrap();
    assert_ne!(a.id, b.id, "no key, no de-duplication");
    assert!(matches!(flows.enqueue(&flow.id, 1, &trigger, Some("")).await, Err(StoreError::Invalid { .. })));
    assert!(matches!(
        flows.enqueue(&flow.id, 9, &trigger, None).await,
        Err(StoreError::NotFound { kind: "flow revision", .. })
    ));

    flows.set_enabled(&flow.id, false).await.unwrap();
    assert!(matches!(
        flows.enqueue(&flow.id, 1, &trigger, None).await,
        Err(StoreError::Invalid { field: "flow", .. })
    ));
    let (known, created) = flows.enqueue(&flow.id, 1, &trigger, Some("abc")).await.unwrap();
    assert!(!created && known.id == first.id, "a known key still answers with its run");
    flows.set_enabled(&flow.id, true).await.unwrap();

    // Two store handles racing with the same key make one run.
    let (one, two) = (db.open().await, db.open().await);
    let mut tasks = Vec::new();
    for store in [one, two] {
        let (flow, trigger) = (flow.id.clone(), trigger.clone());
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for n in 0..20 {
                outcomes.push(
                    store.flows().enqueue(&flow, 1, &trigger, Some(&format!("race-{n}"))).await.unwrap(),
                );
            }
            outcomes
        }));
    }
    let (left, right) = (tasks.remove(0).await.unwrap(), tasks.remove(0).await.unwrap());
    for ((l, l_created), (r, r_created)) in left.iter().zip(&right) {
        assert_eq!(l.id, r.id);
        assert!(l_created ^ r_created, "exactly one of the two created {}", l.id);
    }
});

store_test!(claims_take_queued_woken_and_expired_runs_oldest_first, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let flow = fx.enabled_flow("Queue", None).await;
    let now = now_ms();
    let (a, b, c) = (fx.enqueue(&flow, 1).await, fx.enqueue(&flow, 2).await, fx.enqueue(&flow, 3).await);
    let first = flows.claim_runs("node-a", now, LEASE, 2).await.unwrap();
    assert_eq!(ids(&first), [a.id.to_string(), b.id.to_string()]);
    for lease in &first {
        assert_eq!((lease.token, lease.node.as_str(), lease.until_ms), (1, "node-a", now + LEASE));
        assert_eq!(
            (lease.run.status, lease.run.attempts, lease.run.started_ms),
            (RunStatus::Running, 1, Some(now))
        );
        assert_eq!(
            (lease.run.lease_owner.as_deref(), lease.run.lease_until_ms),
            (Some("node-a"), Some(now + LEASE))
        );
    }
    let third = flows.claim_runs("node-b", now, LEASE, 10).await.unwrap();
    assert_eq!(ids(&third), [c.id.to_string()]);
    assert!(flows.claim_runs("node-b", now, LEASE, 10).await.unwrap().is_empty(), "all are leased");

    // A parked run wakes at its time, and not before.
    let (lease_a, lease_b) = (&first[0], &first[1]);
    let parked = flows.suspend_run(lease_a, now + 1_000).await.unwrap();
    assert_eq!(
        (parked.status, parked.wake_ms, parked.lease_owner.clone()),
        (RunStatus::Waiting, Some(now + 1_000), None)
    );
    flows.suspend_run(lease_b, now + 5_000).await.unwrap();
    assert!(is_lease_lost(flows.suspend_run(lease_a, now + 9).await), "a suspended run has no lease");
    assert!(is_lease_lost(flows.record_action(lease_a, &entry("X", "Running", json!(null))).await));
    assert!(flows.claim_runs("node-b", now + 999, LEASE, 10).await.unwrap().is_empty(), "not yet due");
    let woken = flows.claim_runs("node-b", now + 1_000, LEASE, 10).await.unwrap();
    assert_eq!(ids(&woken), [a.id.to_string()]);
    assert_eq!((woken[0].token, woken[0].run.attempts, woken[0].run.started_ms), (2, 2, Some(now)));
    assert_eq!((woken[0].run.wake_ms, woken[0].run.lease_owner.as_deref()), (None, Some("node-b")));

    // c's node dies: once its lease runs out, another node takes c over.
    let stale = &third[0];
    let due = flows.claim_runs("node-c", now + LEASE, LEASE, 10).await.unwrap();
    assert_eq!(ids(&due), [b.id.to_string()], "b is due; c's lease is live to its last ms");
    let mut taken = flows.claim_runs("node-c", now + LEASE + 1, LEASE, 10).await.unwrap();
    assert_eq!(ids(&taken), [c.id.to_string()]);
    let fresh = taken.remove(0);
    assert_eq!((fresh.token, fresh.run.attempts, fresh.run.status), (2, 2, RunStatus::Running));

    let late = entry("Compose", "Succeeded", json!("from the dead node"));
    assert!(is_lease_lost(flows.record_action(stale, &late).await));
    assert!(is_lease_lost(flows.finish_run(stale, RunStatus::Succeeded, None, None).await));
    assert!(is_lease_lost(flows.renew_run(stale, now + 10 * LEASE).await));
    assert!(is_lease_lost(flows.set_response(stale, &json!({"statusCode": 200})).await));
    assert!(is_lease_lost(flows.suspend_run(stale, now).await));
    let unchanged = flows.get_run(&c.id).await.unwrap();
    assert_eq!(
        (unchanged.status, unchanged.lease_owner.as_deref(), unchanged.response.clone()),
        (RunStatus::Running, Some("node-c"), None)
    );
    assert!(flows.journal(&c.id).await.unwrap().is_empty(), "nothing of the stale lease was written");

    assert!(!flows.renew_run(&fresh, now + 3 * LEASE).await.unwrap());
    assert_eq!(flows.get_run(&c.id).await.unwrap().lease_until_ms, Some(now + 3 * LEASE));
    let done =
        flows.finish_run(&fresh, RunStatus::Succeeded, None, Some(&json!({"ok": true}))).await.unwrap();
    assert_eq!(
        (done.status, done.lease_owner.clone(), done.outputs.clone()),
        (RunStatus::Succeeded, None, Some(json!({"ok": true})))
    );
    assert!(done.ended_ms.is_some());
    assert!(
        is_lease_lost(flows.finish_run(&fresh, RunStatus::Failed, None, None).await),
        "a run finishes once"
    );

    assert!(matches!(flows.claim_runs(" ", now, LEASE, 1).await, Err(StoreError::Invalid { .. })));
    assert!(matches!(flows.claim_runs("n", now, 0, 1).await, Err(StoreError::Invalid { .. })));
    assert!(flows.claim_runs("n", now, LEASE, 0).await.unwrap().is_empty());
});

store_test!(a_flow_never_runs_more_than_its_concurrency_and_a_disabled_one_finishes_its_runs, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let limited = fx.enabled_flow("Limited", Some(2)).await;
    let free = fx.enabled_flow("Free", None).await;
    let mut queued = Vec::new();
    for n in 0..4 {
        queued.push(fx.enqueue(&limited, n).await.id.to_string());
        fx.enqueue(&free, n).await;
    }
    let now = now_ms();
    let claimed = flows.claim_runs("node-a", now, 1_000, 100).await.unwrap();
    let of_limited: Vec<_> =
        claimed.iter().filter(|l| l.run.flow_id == limited.id).map(|l| l.run.id.to_string()).collect();
    assert_eq!(of_limited, queued[..2], "the two oldest of the limited flow");
    assert_eq!(claimed.len(), 6, "all four of the free flow");
    assert!(
        flows.claim_runs("node-b", now, 1_000, 100).await.unwrap().is_empty(),
        "the limited flow is full"
    );
    assert_eq!(flows.earliest_runnable().await.unwrap(), Some(now + 1_001), "when the first lease runs out");

    // One finishes: one more starts.
    let limited_leases: Vec<&RunLease> = claimed.iter().filter(|l| l.run.flow_id == limited.id).collect();
    flows.finish_run(limited_leases[0], RunStatus::Succeeded, None, None).await.unwrap();
    assert_eq!(ids(&flows.claim_runs("node-b", now + 10, 1_000, 100).await.unwrap()), [queued[2].clone()]);
    assert!(flows.claim_runs("node-b", now + 10, 1_000, 100).await.unwrap().is_empty());

    // Disabled: nothing new starts, but what is queued still runs.
    flows.set_enabled(&limited.id, false).await.unwrap();
    // node-a died: its expired runs go first (oldest), the queued one waits for a slot.
    let later = now + 1_001;
    let taken = flows.claim_runs("node-c", later, 1_000, 100).await.unwrap();
    let limited_taken: Vec<_> =
        taken.iter().filter(|l| l.run.flow_id == limited.id).map(|l| l.run.id.to_string()).collect();
    assert_eq!(limited_taken, [queued[1].clone()], "node-b's run is live: one slot, for the oldest");
    assert_eq!(taken.len(), 5, "the free flow's four runs were taken over too");
    assert_eq!(running(&fx.store, &limited.id).await, 2);
    for lease in &taken {
        flows.finish_run(lease, RunStatus::Succeeded, None, None).await.unwrap();
    }
    assert_eq!(
        ids(&flows.claim_runs("node-c", later, 1_000, 100).await.unwrap()),
        [queued[3].clone()],
        "a disabled flow's queued run still runs"
    );
});

store_test!(earliest_runnable_is_the_next_claimable_time, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    assert_eq!(flows.earliest_runnable().await.unwrap(), None);
    let flow = fx.enabled_flow("Timers", None).await;
    fx.enqueue(&flow, 1).await;
    let now = now_ms();
    let lease = flows.claim_runs("node-a", now, 500, 1).await.unwrap().remove(0);
    assert_eq!(flows.earliest_runnable().await.unwrap(), Some(now + 501), "a running run: after its lease");
    flows.suspend_run(&lease, now + 60_000).await.unwrap();
    assert_eq!(flows.earliest_runnable().await.unwrap(), Some(now + 60_000), "a waiting run: its wake time");
    let queued = fx.enqueue(&flow, 2).await;
    assert_eq!(flows.earliest_runnable().await.unwrap(), Some(queued.created_ms), "a queued run: at once");
    flows.cancel_run(&queued.id).await.unwrap();
    let woken = flows.claim_runs("node-a", now + 60_000, 500, 1).await.unwrap().remove(0);
    flows.finish_run(&woken, RunStatus::Failed, Some(&json!({"code": "ActionFailed"})), None).await.unwrap();
    assert_eq!(flows.earliest_runnable().await.unwrap(), None, "finished runs do not count");
});

// Three store handles claim 60 runs (half queued, half waking up meanwhile) of a flow limited to 2
// while "executing" and finishing them; a fourth samples how many are Running.
store_test!(per_flow_concurrency_holds_under_contention, |db| {
    const RUNS: i64 = 60;
    const PARKED: i64 = 30;
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    // Half the runs are parked with wake times spread over the next 150 ms (so that nodes claiming
    // at slightly different times see different runs as due), half are queued; then the limit is set.
    let flow = fx.enabled_flow("Contended", None).await;
    let mut all = Vec::new();
    for n in 0..PARKED {
        all.push(flows.enqueue(&flow.id, 1, &json!({"n": n}), None).await.unwrap().0.id.to_string());
    }
    let start = now_ms();
    for (n, lease) in flows.claim_runs("setup", start, LEASE, PARKED).await.unwrap().iter().enumerate() {
        flows.suspend_run(lease, start + 5 * n as i64).await.unwrap();
    }
    for n in PARKED..RUNS {
        all.push(flows.enqueue(&flow.id, 1, &json!({"n": n}), None).await.unwrap().0.id.to_string());
    }
    flows.update(&flow.id, &flow.definition, &flow.connections, Some(2)).await.unwrap();
    all.sort();
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicI64::new(0));
    let sampler = {
        let (store, flow, stop, most) =
            (db.open().await, flow.id.clone(), Arc::clone(&stop), Arc::clone(&most));
        tokio::spawn(async move {
            let mut samples = 0;
            while !stop.load(Ordering::SeqCst) {
                most.fetch_max(running(&store, &flow).await, Ordering::SeqCst);
                samples += 1;
            }
            samples
        })
    };
    let mut nodes = Vec::new();
    for n in 0..3 {
        let store = db.open().await;
        let flow = flow.id.clone();
        nodes.push(tokio::spawn(async move {
            let node = format!("node-{n}");
            let mut finished = Vec::new();
            loop {
                let leases = store.flows().claim_runs(&node, now_ms(), LEASE, 5).await.unwrap();
                if leases.is_empty() {
                    let counts = store.flows().count_runs_by_status(&flow).await.unwrap();
                    if counts == [(RunStatus::Succeeded, RUNS)] {
                        break finished;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
                for lease in leases {
                    store
                        .flows()
                        .record_action(&lease, &entry("Compose", "Running", json!(null)))
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(3)).await;
                    store
                        .flows()
                        .record_action(&lease, &entry("Compose", "Succeeded", json!(node)))
                        .await
                        .unwrap();
                    let run =
                        store.flows().finish_run(&lease, RunStatus::Succeeded, None, None).await.unwrap();
                    finished.push((run.id.to_string(), run.attempts));
                }
            }
        }));
    }
    let mut finished = Vec::new();
    let mut per_node = Vec::new();
    for node in nodes {
        let mine = node.await.unwrap();
        per_node.push(mine.len());
        finished.extend(mine);
    }
    stop.store(true, Ordering::SeqCst);
    let samples = sampler.await.unwrap();
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 2, "at most 2 Running at once, saw {most} ({samples} samples)");
    assert!(most >= 1 && samples > 10, "the sampler saw the runs ({samples} samples, most {most})");
    assert!(finished.iter().all(|(_, attempts)| *attempts <= 2), "no run was claimed twice by the nodes");
    let mut finished: Vec<String> = finished.into_iter().map(|(id, _)| id).collect();
    finished.sort();
    assert_eq!(finished, all, "every run finished exactly once ({per_node:?})");
});

// A claim that lingers in its transaction (PostgreSQL: a trigger makes its row update sleep) holds
// the flow, so that a node claiming meanwhile, with a clock that already sees a parked run as due,
// cannot start a third run of a flow limited to two.
store_test!(a_lingering_claim_keeps_a_concurrent_one_within_the_limit, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let flow = fx.enabled_flow("Lingering", None).await;
    let now = now_ms();
    let parked = fx.enqueue(&flow, 0).await;
    let setup = flows.claim_runs("setup", now, LEASE, 1).await.unwrap().remove(0);
    flows.suspend_run(&setup, now + 5).await.unwrap();
    let first = fx.enqueue(&flow, 1).await;
    let queued = fx.enqueue(&flow, 2).await;
    flows.update(&flow.id, &flow.definition, &flow.connections, Some(2)).await.unwrap();
    assert_eq!(ids(&flows.claim_runs("node-a", now, LEASE, 1).await.unwrap()), [first.id.to_string()]);
    if db.kind == common::Kind::Postgres {
        db.raw_execute(
            "CREATE FUNCTION linger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.4); \
             RETURN NEW; END $$; CREATE TRIGGER linger BEFORE UPDATE ON runs FOR EACH ROW \
             WHEN (NEW.lease_owner = 'node-slow') EXECUTE FUNCTION linger()",
        )
        .await
        .unwrap();
    }
    let slow = {
        let store = db.open().await;
        tokio::spawn(async move { store.flows().claim_runs("node-slow", now, LEASE, 10).await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fast = flows.claim_runs("node-fast", now + 10, LEASE, 10).await.unwrap();
    let slow = slow.await.unwrap();
    assert_eq!(ids(&slow), [queued.id.to_string()], "at its time only the queued run was due");
    assert!(fast.is_empty(), "the parked run must wait for a slot: {:?}", ids(&fast));
    assert_eq!(running(&fx.store, &flow.id).await, 2);
    assert_eq!(flows.get_run(&parked.id).await.unwrap().status, RunStatus::Waiting);
});

store_test!(the_journal_upserts_in_first_recorded_order_behind_the_fence, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let flow = fx.enabled_flow("Journal", None).await;
    let run = fx.enqueue(&flow, 1).await;
    let lease = flows.claim_runs("node-a", now_ms(), LEASE, 1).await.unwrap().remove(0);
    let cancel = flows.record_action(&lease, &entry("Get_items", "Running", json!(null))).await.unwrap();
    assert!(!cancel);
    flows.record_action(&lease, &entry("Apply_to_each#0", "Succeeded", json!({"i": 0}))).await.unwrap();
    let mut waiting = entry("Apply_to_each#1.2", "Waiting", json!(null));
    waiting.pending = Some(json!({"location": "https://api.contoso.example/jobs/7", "wake_ms": 42}));
    flows.record_action(&lease, &waiting).await.unwrap();
    let mut failed = entry("Get_items", "Failed", json!({"statusCode": 500}));
    failed.error = Some(json!({"code": "BadGateway", "message": "upstream"}));
    failed.attempts = 3;
    flows.record_action(&lease, &failed).await.unwrap();

    let journal = flows.journal(&run.id).await.unwrap();
    let keys: Vec<&str> = journal.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["Get_items", "Apply_to_each#0", "Apply_to_each#1.2"], "first-recorded order");
    assert_eq!(journal[0], failed, "the later record replaced the first");
    assert_eq!(journal[2], waiting);
    assert_eq!((journal[2].name.as_str(), journal[2].iteration.clone()), ("Apply_to_each", vec![1, 2]));
    assert_eq!(serde_json::to_value(&journal[1]).unwrap()["outputs"], json!({"i": 0}));

    assert!(matches!(
        flows.record_action(&lease, &entry("", "Running", json!(null))).await,
        Err(StoreError::Invalid { .. })
    ));
    let mut forged = lease.clone();
    forged.token += 1;
    assert!(is_lease_lost(flows.record_action(&forged, &entry("Forged", "Succeeded", json!(1))).await));
    flows.cancel_run(&run.id).await.unwrap();
    assert!(
        flows.record_action(&lease, &entry("Compose", "Skipped", json!(null))).await.unwrap(),
        "the worker hears of the cancel"
    );
    flows.finish_run(&lease, RunStatus::Cancelled, None, None).await.unwrap();
    assert!(is_lease_lost(flows.record_action(&lease, &entry("After", "Succeeded", json!(1))).await));
    assert_eq!(flows.journal(&run.id).await.unwrap().len(), 4, "nothing after the end, nothing forged");
});

store_test!(a_batch_of_run_writes_commits_together_and_each_write_fails_alone, |db| {
    let f = fixture(&db).await;
    let flows = f.store.flows();
    let flow = f.enabled_flow("Batched", None).await;
    let now = now_ms();
    let start = |n: i64| start_of(&flow, now + n, json!({"n": n}));
    let (first, second) = (start(1), start(2));
    let (lease, other) = (first.lease(now), second.lease(now));
    let forged = Fence { run: other.run.id.clone(), token: 7 };
    let writes = vec![
        RunWrite::Start { run: first, now_ms: now },
        RunWrite::Start { run: second, now_ms: now },
        RunWrite::Record(Fence::from(&lease), Box::new(entry("Compose", "Succeeded", json!("one")))),
        RunWrite::Record(forged, Box::new(entry("Forged", "Succeeded", json!(1)))),
        RunWrite::Record(Fence::from(&lease), Box::new(entry("", "Succeeded", json!(1)))),
        RunWrite::Respond(Fence::from(&lease), json!({"statusCode": 201, "body": "made"})),
        RunWrite::Finish {
            fence: Fence::from(&lease),
            status: RunStatus::Running,
            error: None,
            outputs: None,
        },
        RunWrite::Finish {
            fence: Fence::from(&lease),
            status: RunStatus::Succeeded,
            error: None,
            outputs: Some(json!({"ok": 1})),
        },
        RunWrite::Record(Fence::from(&lease), Box::new(entry("Late", "Succeeded", json!(1)))),
    ];
    let outcomes = flows.write_runs(&writes).await.unwrap();
    assert_eq!(outcomes.len(), writes.len());
    assert!(matches!(&outcomes[0], Ok(Written::Started)));
    assert!(matches!(&outcomes[1], Ok(Written::Started)));
    assert!(matches!(outcomes[2], Ok(Written::Recorded { cancel_requested: false })));
    assert!(matches!(outcomes[3], Err(StoreError::LeaseLost { .. })), "a wrong token writes nothing");
    assert!(matches!(outcomes[4], Err(StoreError::Invalid { .. })), "an empty key is refused alone");
    assert!(matches!(outcomes[5], Ok(Written::Responded)));
    assert!(matches!(outcomes[6], Err(StoreError::Invalid { .. })), "Running is no end");
    assert!(matches!(&outcomes[7], Ok(Written::Finished)));
    assert!(matches!(outcomes[8], Err(StoreError::LeaseLost { .. })), "nothing after the end");
    let done = flows.get_run(&lease.run.id).await.unwrap();
    assert_eq!(done.response, Some(json!({"statusCode": 201, "body": "made"})));
    assert_eq!(done.outputs, Some(json!({"ok": 1})));
    let journal = flows.journal(&lease.run.id).await.unwrap();
    assert_eq!(journal.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["Compose"]);
    assert!(flows.journal(&other.run.id).await.unwrap().is_empty());
    let running = flows.get_run(&other.run.id).await.unwrap();
    assert_eq!((running.status, running.lease_owner.as_deref()), (RunStatus::Running, Some("node-a")));

    // A started run is the node's until its lease runs out; then any node takes it over.
    let later = now + LEASE + 1;
    let taken = flows.claim_runs("node-b", later, LEASE, 10).await.unwrap();
    assert_eq!(ids(&taken), [other.run.id.to_string()]);
    assert_eq!(taken[0].token, 2, "the take-over's token fences the first node out");

    // A disabled flow starts no run.
    flows.set_enabled(&flow.id, false).await.unwrap();
    let refused = flows.start_run(start(3)).await;
    assert!(matches!(refused, Err(StoreError::Invalid { .. })), "{refused:?}");
});

store_test!(a_run_started_and_ended_in_one_go_is_written_whole, |db| {
    let f = fixture(&db).await;
    let flows = f.store.flows();
    let flow = f.enabled_flow("Whole", None).await;
    let now = now_ms();
    let whole = |n: i64| WholeRun {
        run: start_of(&flow, now + n, json!({"n": n})),
        now_ms: now,
        records: vec![
            entry("Get_item", "Succeeded", json!({"id": 1})),
            entry("Answer", "Succeeded", json!(null)),
        ],
        response: Some(json!({"statusCode": 200, "headers": {}, "body": {"id": 1}})),
        status: RunStatus::Succeeded,
        error: None,
        outputs: Some(json!({})),
    };
    let first = whole(1);
    let id = first.run.id.clone();
    let outcomes = flows.write_runs(&[RunWrite::Whole(Box::new(first))]).await.unwrap();
    assert!(matches!(outcomes[..], [Ok(Written::Finished)]), "{outcomes:?}");
    let run = flows.get_run(&id).await.unwrap();
    assert_eq!((run.status, run.attempts, run.lease_owner.as_deref()), (RunStatus::Succeeded, 1, None));
    assert_eq!(run.response.unwrap()["body"], json!({"id": 1}));
    assert_eq!(run.trigger["body"], json!({"n": 1}));
    assert!(run.ended_ms.is_some() && run.started_ms == Some(now));
    let journal = flows.journal(&id).await.unwrap();
    assert_eq!(journal.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["Get_item", "Answer"]);

    // A whole run of a flow disabled meanwhile is refused and writes nothing; its neighbours go on.
    let (late, after) = (whole(2), whole(3));
    let (late_id, after_id) = (late.run.id.clone(), after.run.id.clone());
    flows.set_enabled(&flow.id, false).await.unwrap();
    let outcomes = flows.write_runs(&[RunWrite::Whole(Box::new(late))]).await.unwrap();
    assert!(matches!(outcomes[..], [Err(StoreError::Invalid { .. })]), "{outcomes:?}");
    assert!(flows.get_run(&late_id).await.is_err());
    assert!(flows.journal(&late_id).await.unwrap().is_empty());
    flows.set_enabled(&flow.id, true).await.unwrap();
    let outcomes = flows.write_runs(&[RunWrite::Whole(Box::new(after))]).await.unwrap();
    assert!(matches!(outcomes[..], [Ok(Written::Finished)]), "{outcomes:?}");
    assert_eq!(flows.journal(&after_id).await.unwrap().len(), 2);
});

store_test!(run_write_batches_and_other_writes_interleave_without_loss, |db| {
    // On SQLite the batches go through the run-write thread's own connection while the queue and
    // the flows are written through the pool: both share the one write lock and nothing is lost.
    let f = Arc::new(fixture(&db).await);
    let flow = f.enabled_flow("Interleaved", None).await;
    let mut tasks = Vec::new();
    for task in 0..6_i64 {
        let (f, flow) = (Arc::clone(&f), flow.clone());
        tasks.push(tokio::spawn(async move {
            let flows = f.store.flows();
            for round in 0..10_i64 {
                let now = now_ms();
                let run = start_of(&flow, now, json!({"task": task, "round": round}));
                let fence = Fence::from(&run.lease(now));
                let writes = vec![
                    RunWrite::Start { run, now_ms: now },
                    RunWrite::Record(fence.clone(), Box::new(entry("Compose", "Succeeded", json!(round)))),
                    RunWrite::Finish { fence, status: RunStatus::Succeeded, error: None, outputs: None },
                ];
                let outcomes = flows.write_runs(&writes).await.unwrap();
                assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
                let trigger = json!({"headers": {}, "body": {"queued": task * 100 + round}});
                flows.enqueue(&flow.id, flow.revision, &trigger, None).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let flows = f.store.flows();
    let (mut finished, mut queued, mut before) = (0, 0, None::<RunId>);
    loop {
        let page = flows.list_runs(&flow.id, before.as_ref(), 50).await.unwrap();
        for run in &page {
            match run.status {
                RunStatus::Succeeded => finished += 1,
                RunStatus::Queued => queued += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        match page.last() {
            Some(last) => before = Some(last.id.clone()),
            None => break,
        }
    }
    assert_eq!((finished, queued), (60, 60));
});

store_test!(a_closed_store_refuses_run_writes_with_an_error, |db| {
    let f = fixture(&db).await;
    let flow = f.enabled_flow("Closed", None).await;
    f.store.close().await;
    let refused = f.store.flows().start_run(start_of(&flow, now_ms(), json!({}))).await;
    assert!(refused.is_err(), "{refused:?}");
});

store_test!(cancel_acts_on_each_state, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let flow = fx.enabled_flow("Cancels", None).await;
    let now = now_ms();
    let queued = fx.enqueue(&flow, 1).await;
    let cancelled = flows.cancel_run(&queued.id).await.unwrap();
    assert_eq!((cancelled.status, cancelled.cancel_requested), (RunStatus::Cancelled, true));
    assert!(cancelled.ended_ms.is_some() && cancelled.started_ms.is_none());
    assert!(matches!(flows.cancel_run(&queued.id).await, Err(StoreError::Invalid { field: "run", .. })));

    let to_wait = fx.enqueue(&flow, 2).await;
    let lease = flows.claim_runs("node-a", now, LEASE, 1).await.unwrap().remove(0);
    assert_eq!(lease.run.id, to_wait.id, "the cancelled run is not claimed");
    flows.suspend_run(&lease, now + 1_000).await.unwrap();
    let cancelled = flows.cancel_run(&to_wait.id).await.unwrap();
    assert_eq!((cancelled.status, cancelled.wake_ms), (RunStatus::Cancelled, None));
    assert!(flows.claim_runs("node-a", now + 2_000, LEASE, 1).await.unwrap().is_empty(), "it never wakes");

    let to_run = fx.enqueue(&flow, 3).await;
    let lease = flows.claim_runs("node-a", now, LEASE, 1).await.unwrap().remove(0);
    let asked = flows.cancel_run(&to_run.id).await.unwrap();
    assert_eq!((asked.status, asked.cancel_requested, asked.ended_ms), (RunStatus::Running, true, None));
    assert!(flows.get_run(&to_run.id).await.unwrap().cancel_requested);
    assert!(flows.renew_run(&lease, now + 2 * LEASE).await.unwrap(), "renewing tells of the cancel");
    let ended = flows.finish_run(&lease, RunStatus::Cancelled, None, None).await.unwrap();
    assert_eq!(ended.status, RunStatus::Cancelled);

    // A worker that parks a run whose cancel was asked for ends it instead.
    let parked = fx.enqueue(&flow, 4).await;
    let lease = flows.claim_runs("node-a", now, LEASE, 1).await.unwrap().remove(0);
    flows.cancel_run(&parked.id).await.unwrap();
    let suspended = flows.suspend_run(&lease, now + 1_000).await.unwrap();
    assert_eq!((suspended.status, suspended.wake_ms), (RunStatus::Cancelled, None));
    assert!(suspended.ended_ms.is_some());

    assert!(matches!(flows.cancel_run(&"run_missing".into()).await, Err(StoreError::NotFound { .. })));
    let counts = flows.count_runs_by_status(&flow.id).await.unwrap();
    assert_eq!(counts, [(RunStatus::Cancelled, 4)]);
});

store_test!(responses_outcomes_pages_and_counts, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let flow = fx.enabled_flow("Outcomes", None).await;
    // Queued in a tight loop: several share a millisecond.
    let mut runs = Vec::new();
    for n in 0..7 {
        runs.push(flows.enqueue(&flow.id, 1, &json!({"n": n}), None).await.unwrap().0);
    }
    runs.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    let now = now_ms();
    let leases = flows.claim_runs("node-a", now, LEASE, 3).await.unwrap();
    assert_eq!(
        ids(&leases),
        runs[..3].iter().map(|run| run.id.to_string()).collect::<Vec<_>>(),
        "oldest first"
    );
    let response = json!({"statusCode": 201, "headers": {"x-run": "1"}, "body": {"id": 7}});
    flows.set_response(&leases[0], &response).await.unwrap();
    let stored = flows.get_run(&runs[0].id).await.unwrap();
    assert_eq!(
        (stored.response.clone(), stored.status),
        (Some(response.clone()), RunStatus::Running),
        "answered before the end"
    );
    let error = json!({"code": "ActionFailed", "message": "Compose failed"});
    let failed = flows.finish_run(&leases[1], RunStatus::Failed, Some(&error), None).await.unwrap();
    assert_eq!((failed.error.clone(), failed.outputs.clone()), (Some(error), None));
    assert!(matches!(
        flows.finish_run(&leases[2], RunStatus::Waiting, None, None).await,
        Err(StoreError::Invalid { field: "status", .. })
    ));
    flows.finish_run(&leases[2], RunStatus::Skipped, None, None).await.unwrap();
    flows.finish_run(&leases[0], RunStatus::Succeeded, None, Some(&json!({"n": 0}))).await.unwrap();
    let shown = serde_json::to_value(flows.get_run(&runs[0].id).await.unwrap()).unwrap();
    assert_eq!(
        (shown["status"].clone(), shown["response"]["statusCode"].clone()),
        (json!("Succeeded"), json!(201))
    );

    let counts = flows.count_runs_by_status(&flow.id).await.unwrap();
    assert_eq!(
        counts,
        [(RunStatus::Queued, 4), (RunStatus::Succeeded, 1), (RunStatus::Failed, 1), (RunStatus::Skipped, 1)]
    );

    // Pages of 3, newest first, with the last run of a page as the cursor.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = flows.list_runs(&flow.id, before.as_ref(), 3).await.unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|run| run.id.clone());
        seen.extend(page.into_iter().map(|run| run.id));
    }
    let newest_first: Vec<_> = runs.iter().rev().map(|run| run.id.clone()).collect();
    assert_eq!(seen, newest_first);
    let other = fx.enabled_flow("Other", None).await;
    assert!(matches!(
        flows.list_runs(&other.id, Some(&runs[0].id), 3).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(flows.list_runs(&other.id, None, 3).await.unwrap().is_empty());
});

store_test!(events_become_runs_exactly_once_with_two_concurrent_consumers, |db| {
    const BATCHES: i64 = 12;
    const PER_BATCH: i64 = 15;
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let (trigger, subscription, secret) = fx.webhook().await;
    let flow = fx.enabled_flow("On new task", None).await;
    let flow = flows.set_trigger(&flow.id, Some(&trigger.id)).await.unwrap();
    assert_eq!(flow.trigger_id.as_ref(), Some(&trigger.id));

    let producing = Arc::new(AtomicBool::new(true));
    let producer = {
        let (store, producing) = (db.open().await, Arc::clone(&producing));
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            for batch in 0..BATCHES {
                let notes: Vec<Notification> = (0..PER_BATCH)
                    .map(|n| Notification {
                        subscription_id: subscription.id.clone(),
                        secret: secret.clone(),
                        headers: json!({"x-batch": batch}),
                        body: json!({"n": batch * PER_BATCH + n}),
                    })
                    .collect();
                seqs.extend(
                    store.triggers().accept_notifications(&notes).await.unwrap().into_iter().flatten(),
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            producing.store(false, Ordering::SeqCst);
            seqs
        })
    };
    let mut consumers = Vec::new();
    for _ in 0..2 {
        let (store, flow, producing) = (db.open().await, flow.id.clone(), Arc::clone(&producing));
        consumers.push(tokio::spawn(async move {
            let mut runs = Vec::new();
            loop {
                let done = !producing.load(Ordering::SeqCst);
                let batch = store.flows().enqueue_from_events(&flow, 7).await.unwrap();
                if batch.is_empty() {
                    if done {
                        break runs;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                runs.extend(batch);
            }
        }));
    }
    let seqs = producer.await.unwrap();
    assert_eq!(seqs.len() as i64, BATCHES * PER_BATCH);
    let mut runs: Vec<Run> = Vec::new();
    let mut per_consumer = Vec::new();
    for consumer in consumers {
        let mine = consumer.await.unwrap();
        per_consumer.push(mine.len());
        runs.extend(mine);
    }
    let made: Vec<i64> = runs.iter().map(|run| run.event_seq.unwrap()).collect();
    let distinct: BTreeSet<i64> = made.iter().copied().collect();
    assert_eq!(made.len(), distinct.len(), "no event made two runs ({per_consumer:?})");
    assert_eq!(distinct, seqs.iter().copied().collect::<BTreeSet<_>>(), "every event made a run");
    let run = runs.iter().find(|run| run.event_seq == Some(seqs[20])).unwrap();
    assert_eq!(run.trigger, json!({"headers": {"x-batch": 1}, "body": {"n": 20}}));
    assert_eq!((run.status, run.revision), (RunStatus::Queued, 1));
    assert_eq!(flows.get(&flow.id).await.unwrap().event_cursor, *seqs.iter().max().unwrap());
    assert!(flows.flows_with_pending_events().await.unwrap().is_empty());
    assert_eq!(flows.list_runs(&flow.id, None, 1000).await.unwrap().len() as i64, BATCHES * PER_BATCH);
});

store_test!(events_wait_for_an_enabled_flow_with_a_trigger, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let triggers = fx.store.triggers();
    let (trigger, subscription, secret) = fx.webhook().await;
    let note = |n: i64| Notification {
        subscription_id: subscription.id.clone(),
        secret: secret.clone(),
        headers: json!({}),
        body: json!({"n": n}),
    };
    triggers.accept_notifications(&[note(1), note(2), note(3)]).await.unwrap();
    let flow = flows.create(&fx.new_flow("Later", None)).await.unwrap();
    assert!(flows.enqueue_from_events(&flow.id, 10).await.unwrap().is_empty(), "no trigger");
    flows.set_trigger(&flow.id, Some(&trigger.id)).await.unwrap();
    assert!(flows.enqueue_from_events(&flow.id, 10).await.unwrap().is_empty(), "disabled");
    assert!(flows.flows_with_pending_events().await.unwrap().is_empty(), "disabled flows wait");
    flows.set_enabled(&flow.id, true).await.unwrap();
    assert_eq!(flows.flows_with_pending_events().await.unwrap(), std::slice::from_ref(&flow.id));
    assert!(flows.enqueue_from_events(&flow.id, 0).await.unwrap().is_empty());

    let first = flows.enqueue_from_events(&flow.id, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|run| run.trigger["body"]["n"].clone()).collect::<Vec<_>>(),
        [json!(1), json!(2)]
    );
    let cursor = flows.get(&flow.id).await.unwrap().event_cursor;
    assert_eq!(Some(cursor), first[1].event_seq);
    flows.set_trigger(&flow.id, Some(&trigger.id)).await.unwrap();
    assert_eq!(flows.get(&flow.id).await.unwrap().event_cursor, cursor, "the same trigger keeps its cursor");
    let updated = flows.update(&flow.id, &definition("v2"), &json!({}), None).await.unwrap();
    let rest = flows.enqueue_from_events(&flow.id, 10).await.unwrap();
    assert_eq!((rest.len(), rest[0].revision), (1, updated.revision), "runs start on the current revision");

    // Clearing and setting the trigger again rewinds the cursor, yet no event makes a second run.
    flows.set_trigger(&flow.id, None).await.unwrap();
    let rewound = flows.set_trigger(&flow.id, Some(&trigger.id)).await.unwrap();
    assert_eq!(rewound.event_cursor, 0);
    assert!(flows.enqueue_from_events(&flow.id, 10).await.unwrap().is_empty(), "each event once per flow");
    triggers.accept_notifications(&[note(4)]).await.unwrap();
    assert_eq!(flows.enqueue_from_events(&flow.id, 10).await.unwrap().len(), 1);

    let other_env_flow = {
        let mut new = fx.new_flow("Elsewhere", None);
        new.environment_id = fx.seed.other_env.clone();
        new.owner_id = fx.seed.stranger.id.clone();
        flows.create(&new).await.unwrap()
    };
    assert!(matches!(
        flows.set_trigger(&other_env_flow.id, Some(&trigger.id)).await,
        Err(StoreError::NotFound { kind: "trigger", .. })
    ));
    assert!(matches!(
        flows.set_trigger(&flow.id, Some(&"trg_missing".into())).await,
        Err(StoreError::NotFound { kind: "trigger", .. })
    ));
    assert_eq!(
        flows.get(&flow.id).await.unwrap().trigger_id,
        Some(trigger.id.clone()),
        "a refused change changes nothing"
    );

    triggers.delete(&trigger.id).await.unwrap();
    let orphan = flows.get(&flow.id).await.unwrap();
    assert_eq!(orphan.trigger_id, None, "deleting the trigger detaches it");
    assert_eq!(
        flows.count_runs_by_status(&flow.id).await.unwrap(),
        [(RunStatus::Queued, 4)],
        "its runs stay"
    );
});

store_test!(a_dump_of_the_tables_shows_flows_runs_and_journals, |db| {
    let fx = fixture(&db).await;
    let flows = fx.store.flows();
    let flow = fx.enabled_flow("Dumped", Some(1)).await;
    flows
        .update(&flow.id, &definition("revision-two-marker"), &json!({"shared_x": "cxn_dump"}), Some(1))
        .await
        .unwrap();
    let (run, _) = flows
        .enqueue(&flow.id, 1, &json!({"body": "trigger-body-marker"}), Some("key-marker"))
        .await
        .unwrap();
    let lease = flows.claim_runs("node-dump", now_ms(), LEASE, 1).await.unwrap().remove(0);
    flows.record_action(&lease, &entry("Compose", "Succeeded", json!("action-output-marker"))).await.unwrap();
    flows.set_response(&lease, &json!({"body": "response-marker"})).await.unwrap();

    let tables = db.raw_tables().await;
    for table in ["flows", "flow_revisions", "runs", "run_actions"] {
        assert!(tables.iter().any(|name| name == table), "{table} in {tables:?}");
    }
    let has = |cells: &[Vec<u8>], needle: &str| cells.iter().any(|cell| contains(cell, needle.as_bytes()));
    let flow_cells = db.raw_cells("flows").await;
    assert!(has(&flow_cells, "Dumped") && has(&flow_cells, flow.id.as_str()));
    let revisions = db.raw_cells("flow_revisions").await;
    assert!(
        has(&revisions, "\"first\"") && has(&revisions, "revision-two-marker") && has(&revisions, "cxn_dump")
    );
    let runs = db.raw_cells("runs").await;
    for needle in
        [run.id.as_str(), "trigger-body-marker", "key-marker", "node-dump", "response-marker", "Running"]
    {
        assert!(has(&runs, needle), "{needle} in runs");
    }
    let actions = db.raw_cells("run_actions").await;
    assert!(has(&actions, "action-output-marker") && has(&actions, run.id.as_str()));
});
