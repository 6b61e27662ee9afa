//! Between the engine's action records and the store's journal entries.

use chrono::{DateTime, TimeZone, Utc};
use patchbay_engine::{ActionRecord, ActionStatus, Pending};
use patchbay_store::ActionEntry;
use serde_json::{Value, json};

/// Every action status, to read stored names back.
const STATUSES: [ActionStatus; 6] = [
    ActionStatus::Succeeded,
    ActionStatus::Failed,
    ActionStatus::Skipped,
    ActionStatus::TimedOut,
    ActionStatus::Cancelled,
    ActionStatus::Waiting,
];

/// The store key of an action record: `Name`, or `Name#0.2` in loop iterations.
pub fn key(name: &str, iteration: &[usize]) -> String {
    if iteration.is_empty() {
        return name.to_owned();
    }
    let indexes: Vec<String> = iteration.iter().map(ToString::to_string).collect();
    format!("{name}#{}", indexes.join("."))
}

/// A record as a journal entry.
pub fn entry(record: &ActionRecord) -> ActionEntry {
    ActionEntry {
        key: key(&record.name, &record.iteration),
        name: record.name.clone(),
        iteration: record.iteration.iter().map(|index| *index as i64).collect(),
        status: record.status.as_str().to_owned(),
        inputs: record.inputs.clone(),
        outputs: record.outputs.clone(),
        error: record.error.clone(),
        started_ms: record.started.timestamp_millis(),
        ended_ms: Some(record.ended.timestamp_millis()),
        attempts: i64::from(record.attempts),
        pending: record
            .pending
            .as_ref()
            .map(|pending| json!({"state": pending.state, "wake": pending.wake.timestamp_millis()})),
    }
}

/// A journal entry as the record the engine replays; `None` for an entry it cannot read.
pub fn record(entry: &ActionEntry) -> Option<ActionRecord> {
    let status = STATUSES.into_iter().find(|status| status.as_str() == entry.status)?;
    let pending = match &entry.pending {
        Some(stored) => {
            Some(Pending { state: stored["state"].clone(), wake: time(stored["wake"].as_i64()?) })
        }
        None => None,
    };
    Some(ActionRecord {
        name: entry.name.clone(),
        iteration: entry.iteration.iter().map(|index| (*index).max(0) as usize).collect(),
        status,
        inputs: entry.inputs.clone(),
        outputs: entry.outputs.clone(),
        error: entry.error.clone(),
        started: time(entry.started_ms),
        ended: time(entry.ended_ms.unwrap_or(entry.started_ms)),
        attempts: u32::try_from(entry.attempts).unwrap_or(0),
        pending,
    })
}

/// Epoch milliseconds as a time (the epoch itself for an impossible value).
pub fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// The reply a `Response` action's inputs describe: `{statusCode, headers, body}`.
pub fn response_of(inputs: &Value) -> Value {
    json!({
        "statusCode": inputs.get("statusCode").and_then(Value::as_u64).unwrap_or(200),
        "headers": inputs.get("headers").cloned().unwrap_or_else(|| json!({})),
        "body": inputs.get("body").cloned().unwrap_or(Value::Null),
    })
}
