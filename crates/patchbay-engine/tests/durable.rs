//! Durable runs: journal replay after a crash, parking on 202 and `Wait`, idempotency keys,
//! cancellation. A real HTTP server on 127.0.0.1; the clock is the test's.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::durable::{HostEnv, server, t0};
use common::load;
use patchbay_engine::{
    ActionRecord, ActionStatus, Definition, MemoryJournal, MemoryObserver, RunOutcome, RunRecord, RunStatus,
    TriggerOutputs, resume_flow, run_flow,
};
use serde_json::{Value, json};

type Key = (String, Vec<usize>);

fn manual(actions: Value) -> Value {
    json!({"definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {}}}},
        "actions": actions,
    }})
}

/// Resumes with `journal`; returns the outcome and what the observer was told.
async fn resume(def: &Definition, env: &HostEnv, journal: &MemoryJournal) -> (RunOutcome, Vec<ActionRecord>) {
    let observer = MemoryObserver::default();
    let outcome = resume_flow(def, TriggerOutputs::default(), env, &observer, journal).await;
    (outcome, observer.records())
}

fn finished(outcome: RunOutcome) -> RunRecord {
    match outcome {
        RunOutcome::Finished(record) => record,
        RunOutcome::Parked { wake } => panic!("expected a finished run, parked until {wake}"),
    }
}

fn parked(outcome: &RunOutcome) -> chrono::DateTime<chrono::Utc> {
    match outcome {
        RunOutcome::Parked { wake } => *wake,
        RunOutcome::Finished(r) => panic!("expected a parked run, finished {:?}: {:#?}", r.status, r.actions),
    }
}

fn by_key(records: &[ActionRecord]) -> BTreeMap<Key, &ActionRecord> {
    records.iter().map(|r| ((r.name.clone(), r.iteration.clone()), r)).collect()
}

fn key_of(r: &ActionRecord) -> String {
    let mut key = format!("run-1/{}", r.name);
    if !r.iteration.is_empty() {
        key += &format!("/{}", r.iteration.iter().map(ToString::to_string).collect::<Vec<_>>().join("."));
    }
    key
}

/// Variables, an `Http` before, inside (a concurrent `Foreach`) and after, and a `Response`.
fn replay_flow() -> Definition {
    load(manual(json!({
        "Init": {"type": "InitializeVariable",
                 "inputs": {"variables": [{"name": "sum", "type": "integer", "value": 0},
                                          {"name": "list", "type": "array", "value": []}]}},
        "First": {"type": "Http", "runAfter": {"Init": ["Succeeded"]},
                  "inputs": {"method": "GET", "uri": "{base}/items/1"}},
        "Loop": {"type": "Foreach", "foreach": "@range(0, 4)", "runAfter": {"First": ["Succeeded"]},
                 "runtimeConfiguration": {"concurrency": {"repetitions": 3}},
                 "actions": {
                     "Get": {"type": "Http", "inputs": {"method": "GET", "uri": "{base}/items/@{add(item(), 10)}"}},
                     "Add": {"type": "IncrementVariable", "runAfter": {"Get": ["Succeeded"]},
                             "inputs": {"name": "sum", "value": "@body('Get')?['double']"}}
                 }},
        "Total": {"type": "Compose", "inputs": "@add(variables('sum'), body('First')?['n'])",
                  "runAfter": {"Loop": ["Succeeded"]}},
        "Append": {"type": "AppendToArrayVariable", "runAfter": {"Total": ["Succeeded"]},
                   "inputs": {"name": "list", "value": "@outputs('Total')"}},
        "Final": {"type": "Http", "runAfter": {"Append": ["Succeeded"]},
                  "inputs": {"method": "POST", "uri": "{base}/items/99",
                             "body": {"sum": "@variables('sum')", "list": "@variables('list')"}}},
        "Reply": {"type": "Response", "runAfter": {"Final": ["Succeeded"]},
                  "inputs": {"statusCode": 200, "body": "@body('Final')"}}
    })))
}

#[tokio::test]
async fn a_run_cut_after_any_action_resumes_without_calling_finished_actions_again() {
    let server = server().await;
    let env = HostEnv::new(&server);
    let def = replay_flow();
    let (outcome, journal) = resume(&def, &env, &MemoryJournal::default()).await;
    let whole = finished(outcome);
    assert_eq!(whole.status, RunStatus::Succeeded, "{:#?}", whole.actions);
    // 1 + 4 + 1 HTTP calls; sum = 2 * (10 + 11 + 12 + 13) = 92, Total = 93.
    assert_eq!(server.seen.calls.lock().unwrap().len(), 6);
    assert_eq!(whole.response.as_ref().unwrap().body["received"], json!({"sum": 92, "list": [93]}));
    assert_eq!(journal.len(), whole.actions.len());
    assert_eq!(journal.len(), 15);
    let all_http: BTreeSet<String> =
        journal.iter().filter(|r| matches!(r.name.as_str(), "First" | "Get" | "Final")).map(key_of).collect();
    assert_eq!(all_http.len(), 6);

    for cut in 0..=journal.len() {
        server.seen.reset();
        let prefix = &journal[..cut];
        let (outcome, told) = resume(&def, &env, &MemoryJournal::new(prefix.to_vec())).await;
        let again = finished(outcome);
        // Every HTTP action finished before the cut is not called again; every other one is, once.
        let done_http: BTreeSet<String> =
            prefix.iter().filter(|r| all_http.contains(&key_of(r))).map(key_of).collect();
        let called = server.seen.keys();
        let called_set: BTreeSet<String> = called.iter().cloned().collect();
        assert_eq!(called.len(), called_set.len(), "cut {cut}: a call was repeated: {called:?}");
        assert!(done_http.is_disjoint(&called_set), "cut {cut}: called again: {called:?}");
        assert_eq!(&done_http | &called_set, all_http, "cut {cut}");
        // The observer is not told again of what the journal holds for external actions.
        for r in &told {
            if done_http.contains(&key_of(r)) {
                panic!("cut {cut}: {} reported again", key_of(r));
            }
        }
        // The final record equals the uninterrupted run's.
        assert_eq!(again.status, whole.status, "cut {cut}");
        assert_eq!(again.response, whole.response, "cut {cut}");
        let (a, b) = (by_key(&again.actions), by_key(&whole.actions));
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "cut {cut}");
        for (key, record) in &a {
            let expected = b[key];
            assert_eq!(record.status, expected.status, "cut {cut} {key:?}");
            // `Add` inside the concurrent loop shows the running sum, whose order is not fixed.
            if key.0 != "Add" {
                assert_eq!(record.outputs, expected.outputs, "cut {cut} {key:?}");
                assert_eq!(record.inputs, expected.inputs, "cut {cut} {key:?}");
            }
        }
        for r in prefix.iter().filter(|r| all_http.contains(&key_of(r))) {
            let kept = a[&(r.name.clone(), r.iteration.clone())];
            assert_eq!(
                (kept.started, kept.ended),
                (r.started, r.ended),
                "cut {cut}: the stored record is used"
            );
        }
    }
}

#[tokio::test]
async fn idempotency_keys_are_per_iteration_and_stable_across_retries_and_replay() {
    let server = server().await;
    let env = HostEnv::new(&server);
    let def = load(manual(json!({
        "Outer": {"type": "Foreach", "foreach": "@range(0, 2)",
                  "actions": {"Inner": {"type": "Foreach", "foreach": "@range(0, 2)",
                      "runtimeConfiguration": {"concurrency": {"repetitions": 2}},
                      "actions": {"Get": {"type": "Http",
                          "inputs": {"method": "GET", "uri": "{base}/items/@{add(mul(items('Outer'), 2), item())}"}}}}}},
        "Flaky": {"type": "Http", "runAfter": {"Outer": ["Succeeded"]},
                  "inputs": {"method": "GET", "uri": "{base}/flaky/a",
                             "retryPolicy": {"type": "fixed", "interval": "PT5S", "count": 2}}}
    })));
    let (outcome, journal) = resume(&def, &env, &MemoryJournal::default()).await;
    let run = finished(outcome);
    assert_eq!(run.status, RunStatus::Succeeded, "{:#?}", run.actions);
    let keys = server.seen.keys();
    let expected =
        ["run-1/Get/0.0", "run-1/Get/0.1", "run-1/Get/1.0", "run-1/Get/1.1", "run-1/Flaky", "run-1/Flaky"];
    assert_eq!(keys.iter().map(String::as_str).collect::<BTreeSet<_>>(), expected.into_iter().collect());
    assert_eq!(keys.len(), 6, "the retry of Flaky sends the same key: {keys:?}");
    let flaky = run.actions.iter().find(|a| a.name == "Flaky").unwrap();
    assert_eq!(flaky.attempts, 2);
    assert_eq!(*env.sleeps.lock().unwrap(), vec![std::time::Duration::from_secs(5)], "the retry interval");

    // A crash after the first two records: the calls made again carry the keys of the first run.
    server.seen.reset();
    let (outcome, _) = resume(&def, &env, &MemoryJournal::new(journal[..2].to_vec())).await;
    assert_eq!(finished(outcome).status, RunStatus::Succeeded);
    let again: BTreeSet<String> = server.seen.keys().into_iter().collect();
    let first_two: BTreeSet<String> = journal[..2].iter().map(key_of).collect();
    assert!(again.is_disjoint(&first_two), "{again:?} {first_two:?}");
    assert!(again.iter().all(|k| expected.contains(&k.as_str())), "{again:?}");
}

fn job_flow(kind: &str, timeout: Option<&str>) -> Definition {
    let mut job = json!({"type": "OpenApiConnection",
        "inputs": {"host": {"connectionName": "jobs", "operationId": "StartJob"}, "parameters": {"kind": kind}}});
    if let Some(t) = timeout {
        job["limit"] = json!({"timeout": t});
    }
    load(manual(json!({
        "Job": job,
        "After": {"type": "Compose", "inputs": "@body('Job')", "runAfter": {"Job": ["Succeeded"]}},
        "Late": {"type": "Compose", "inputs": "@actions('Job')?['status']", "runAfter": {"Job": ["TimedOut"]}}
    })))
}

#[tokio::test]
async fn a_202_parks_the_run_and_the_resumed_run_polls_until_done() {
    let server = server().await;
    let env = HostEnv::new(&server);
    let def = job_flow("slow", None);
    let secs = |s| t0() + chrono::TimeDelta::seconds(s);
    let journal = MemoryJournal::default();

    // t0: the call answers 202 (Retry-After 30): Waiting, parked until t0 + 30 s.
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), secs(30));
    assert_eq!(told.len(), 1, "{told:#?}");
    let waiting = &told[0];
    assert_eq!((waiting.name.as_str(), waiting.status), ("Job", ActionStatus::Waiting));
    let pending = waiting.pending.clone().expect("the Waiting record says how to go on");
    assert_eq!(pending.wake, secs(30));
    assert_eq!(pending.state["location"], json!(format!("{}/jobs/slow/status", server.base)));
    told.into_iter().for_each(|r| journal.add(r));

    // t0 + 10 s: too early: parked again, same wake, nothing called, nothing reported.
    env.at(10);
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), secs(30));
    assert!(told.is_empty(), "{told:#?}");
    assert_eq!(server.seen.polls("slow"), 0);

    // t0 + 30 s: one poll, still 202: a new wake.
    env.at(30);
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), secs(60));
    assert_eq!(server.seen.polls("slow"), 1);
    assert_eq!(told.len(), 1);
    told.into_iter().for_each(|r| journal.add(r));

    // t0 + 60 s: the second poll answers 200: the run goes on and finishes.
    env.at(60);
    let (outcome, told) = resume(&def, &env, &journal).await;
    let run = finished(outcome);
    assert_eq!(run.status, RunStatus::Succeeded, "{:#?}", run.actions);
    assert_eq!(server.seen.polls("slow"), 2);
    assert_eq!(server.seen.keys(), vec!["run-1/Job".to_string()], "the job was started once");
    let job = run.actions.iter().find(|a| a.name == "Job").unwrap();
    assert_eq!(job.started, t0(), "the action's start is its first start");
    assert_eq!(job.ended, secs(60));
    assert!(job.pending.is_none());
    assert_eq!(common::outputs(&run, "After"), json!({"job": "slow", "polls": 2}));
    let told: BTreeSet<&str> = told.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(told, ["Job", "After", "Late"].into_iter().collect());
    assert!(env.sleeps.lock().unwrap().is_empty(), "nothing slept");
}

#[tokio::test]
async fn a_parked_action_times_out_from_its_first_start() {
    let server = server().await;
    let env = HostEnv::new(&server);
    let def = job_flow("never", Some("PT45S"));
    let journal = MemoryJournal::default();
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), t0() + chrono::TimeDelta::seconds(30));
    told.into_iter().for_each(|r| journal.add(r));
    env.at(30);
    let (outcome, told) = resume(&def, &env, &journal).await;
    // The next poll would be at 60 s; the timeout comes first.
    assert_eq!(parked(&outcome), t0() + chrono::TimeDelta::seconds(45));
    told.into_iter().for_each(|r| journal.add(r));
    env.at(45);
    let (outcome, _) = resume(&def, &env, &journal).await;
    let run = finished(outcome);
    assert_eq!(common::status(&run, "Job"), "TimedOut");
    assert_eq!(common::outputs(&run, "Late"), json!("TimedOut"));
    assert_eq!(run.status, RunStatus::Succeeded, "the timeout was handled");
    assert_eq!(server.seen.polls("never"), 1, "no poll once the time is up");
}

#[tokio::test]
async fn in_process_runs_poll_a_202_inline() {
    let server = server().await;
    let env = HostEnv::new(&server);
    let run = run_flow(&job_flow("slow", None), TriggerOutputs::default(), &env).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:#?}", run.actions);
    assert_eq!(common::outputs(&run, "After"), json!({"job": "slow", "polls": 2}));
    let waits = env.sleeps.lock().unwrap().clone();
    assert_eq!(waits, vec![std::time::Duration::from_secs(30); 2], "Retry-After honoured in process");
}

#[tokio::test]
async fn a_long_wait_parks_and_a_short_one_sleeps() {
    let server = server().await;
    let env = HostEnv::new(&server);
    let def = load(manual(json!({
        "Short": {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Second"}}},
        "Long": {"type": "Wait", "runAfter": {"Short": ["Succeeded"]}, "inputs": {"interval": {"count": 5, "unit": "Second"}}},
        "Then": {"type": "Http", "runAfter": {"Long": ["Succeeded"]}, "inputs": {"method": "GET", "uri": "{base}/items/7"}}
    })));
    let journal = MemoryJournal::default();
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), t0() + chrono::TimeDelta::seconds(5));
    assert_eq!(
        *env.sleeps.lock().unwrap(),
        vec![std::time::Duration::from_secs(1)],
        "1 s is not above the threshold"
    );
    let long = told.iter().find(|r| r.name == "Long").unwrap();
    assert_eq!(long.status, ActionStatus::Waiting);
    assert_eq!(long.pending.as_ref().unwrap().state, json!({"until": "2030-01-01T00:00:05.000Z"}));
    assert!(server.seen.keys().is_empty());
    told.into_iter().for_each(|r| journal.add(r));

    env.at(3);
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), t0() + chrono::TimeDelta::seconds(5));
    assert!(told.is_empty());

    env.at(5);
    let (outcome, told) = resume(&def, &env, &journal).await;
    let run = finished(outcome);
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(common::outputs(&run, "Then")["body"], json!({"n": 7, "double": 14}));
    assert_eq!(told.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Long", "Then"]);
    assert_eq!(env.sleeps.lock().unwrap().len(), 1, "Short was not waited again");
}

#[tokio::test]
async fn a_run_cancelled_before_it_starts_runs_nothing() {
    let server = server().await;
    let env = HostEnv::new(&server);
    env.cancel(true);
    let (outcome, told) = resume(&replay_flow(), &env, &MemoryJournal::default()).await;
    let run = finished(outcome);
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(run.error.as_ref().unwrap()["code"], json!("Cancelled"));
    assert_eq!(told.len(), 1);
    assert_eq!((told[0].name.as_str(), told[0].status), ("Init", ActionStatus::Cancelled));
    assert!(server.seen.keys().is_empty());
}

#[tokio::test]
async fn a_run_cancelled_while_running_lets_the_running_action_finish_and_starts_nothing_more() {
    let server = server().await;
    *server.seen.cancel_on.lock().unwrap() = Some("/items/1".into());
    let env = HostEnv::new(&server);
    let (outcome, told) = resume(&replay_flow(), &env, &MemoryJournal::default()).await;
    let run = finished(outcome);
    assert_eq!(run.status, RunStatus::Cancelled);
    let statuses: Vec<(&str, ActionStatus)> = told.iter().map(|r| (r.name.as_str(), r.status)).collect();
    assert_eq!(
        statuses,
        [
            ("Init", ActionStatus::Succeeded),
            ("First", ActionStatus::Succeeded),
            ("Loop", ActionStatus::Cancelled)
        ]
    );
    assert_eq!(server.seen.keys(), vec!["run-1/First".to_string()]);
}

#[tokio::test]
async fn cancelling_a_parked_run_cancels_its_waiting_actions() {
    let server = server().await;
    // Two branches: a job that parks, and a call that requests cancellation while it runs.
    *server.seen.cancel_on.lock().unwrap() = Some("/items/3".into());
    let env = HostEnv::new(&server);
    let def = load(manual(json!({
        "Job": {"type": "OpenApiConnection",
                "inputs": {"host": {"connectionName": "jobs", "operationId": "StartJob"}, "parameters": {"kind": "never"}}},
        "Get": {"type": "Http", "inputs": {"method": "GET", "uri": "{base}/items/3"}},
        "After": {"type": "Compose", "inputs": 1, "runAfter": {"Get": ["Succeeded"]}}
    })));
    let (outcome, told) = resume(&def, &env, &MemoryJournal::default()).await;
    let run = finished(outcome);
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(common::status(&run, "Job"), "Cancelled");
    assert_eq!(common::status(&run, "Get"), "Succeeded");
    assert_eq!(common::status(&run, "After"), "Cancelled");
    let job: Vec<ActionStatus> = told.iter().filter(|r| r.name == "Job").map(|r| r.status).collect();
    assert_eq!(job, [ActionStatus::Waiting, ActionStatus::Cancelled]);
    assert_eq!(server.seen.polls("never"), 0);

    // A run parked earlier and cancelled meanwhile: the resume records the wait `Cancelled` at once.
    server.seen.reset();
    *server.seen.cancel_on.lock().unwrap() = None;
    env.cancel(false);
    let def = job_flow("never", None);
    let journal = MemoryJournal::default();
    let (outcome, told) = resume(&def, &env, &journal).await;
    parked(&outcome);
    told.into_iter().for_each(|r| journal.add(r));
    env.cancel(true);
    env.at(1);
    let (outcome, told) = resume(&def, &env, &journal).await;
    let run = finished(outcome);
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].name.as_str(), told[0].status, told[0].started),
        ("Job", ActionStatus::Cancelled, t0())
    );
    assert_eq!(server.seen.polls("never"), 0);
}

#[tokio::test]
async fn waits_in_a_concurrent_foreach_park_together_and_later_iterations_start_on_resume() {
    let server = server().await;
    let env = HostEnv::new(&server);
    let def = load(manual(json!({
        "Loop": {"type": "Foreach", "foreach": "@range(0, 3)",
                 "runtimeConfiguration": {"concurrency": {"repetitions": 2}},
                 "actions": {
                     "Pause": {"type": "Wait", "inputs": {"interval": {"count": 5, "unit": "Second"}}},
                     "Get": {"type": "Http", "runAfter": {"Pause": ["Succeeded"]},
                             "inputs": {"method": "GET", "uri": "{base}/items/@{item()}"}}
                 }},
        "Sum": {"type": "Compose", "runAfter": {"Loop": ["Succeeded"]},
                "inputs": "@length(result('Loop'))"}
    })));
    let journal = MemoryJournal::default();
    // Iterations 0 and 1 park; iteration 2 does not start.
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), t0() + chrono::TimeDelta::seconds(5));
    let waiting: BTreeSet<Vec<usize>> = told.iter().map(|r| r.iteration.clone()).collect();
    assert_eq!(waiting, [vec![0], vec![1]].into_iter().collect());
    told.into_iter().for_each(|r| journal.add(r));
    // At 5 s both go on and call; iteration 2 starts and parks until 10 s.
    env.at(5);
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), t0() + chrono::TimeDelta::seconds(10));
    assert_eq!(server.seen.keys().len(), 2);
    told.into_iter().for_each(|r| journal.add(r));
    env.at(10);
    let (outcome, _) = resume(&def, &env, &journal).await;
    let run = finished(outcome);
    assert_eq!(run.status, RunStatus::Succeeded, "{:#?}", run.actions);
    let mut keys = server.seen.keys();
    keys.sort();
    assert_eq!(keys, ["run-1/Get/0", "run-1/Get/1", "run-1/Get/2"], "each iteration called once, by index");
    let gets: BTreeMap<Vec<usize>, Value> = run
        .actions
        .iter()
        .filter(|a| a.name == "Get")
        .map(|a| (a.iteration.clone(), a.outputs["body"]["n"].clone()))
        .collect();
    assert_eq!(gets, [(vec![0], json!(0)), (vec![1], json!(1)), (vec![2], json!(2))].into_iter().collect());
}

#[tokio::test]
async fn a_branch_that_parks_does_not_hold_up_a_parallel_branch() {
    let server = server().await;
    let env = HostEnv::new(&server);
    let def = load(manual(json!({
        "Pause": {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Minute"}}},
        "Get": {"type": "Http", "inputs": {"method": "GET", "uri": "{base}/items/1"}},
        "Then": {"type": "Http", "runAfter": {"Get": ["Succeeded"]}, "inputs": {"method": "GET", "uri": "{base}/items/2"}},
        "Join": {"type": "Compose", "inputs": "@body('Then')?['n']", "runAfter": {"Pause": ["Succeeded"], "Then": ["Succeeded"]}}
    })));
    let journal = MemoryJournal::default();
    let (outcome, told) = resume(&def, &env, &journal).await;
    assert_eq!(parked(&outcome), t0() + chrono::TimeDelta::seconds(60));
    assert_eq!(server.seen.keys(), ["run-1/Get", "run-1/Then"], "the other branch went to its end");
    told.into_iter().for_each(|r| journal.add(r));
    env.at(60);
    let (outcome, told) = resume(&def, &env, &journal).await;
    let run = finished(outcome);
    assert_eq!(common::outputs(&run, "Join"), json!(2));
    assert_eq!(told.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Pause", "Join"]);
    assert_eq!(server.seen.keys().len(), 2, "nothing called again");
}
