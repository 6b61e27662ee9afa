//! `Recurrence` triggers: an enabled flow with one starts a run at each slot of its schedule —
//! `startTime` (or the time the flow was last enabled or changed) plus whole multiples of its
//! `frequency` × `interval`, the first at that start itself, as Logic Apps does. Nothing is stored
//! for it but the runs: each slot's run is enqueued with the idempotency key `recurrence:<slot ms>`,
//! so every node may look and a slot still makes one run. After downtime only the latest slot runs
//! (missed ones are not replayed). Run every pass of the run worker.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::DateTime;
use patchbay_store::{Flow, FlowId, now_ms};
use serde_json::{Value, json};

use super::wiring::{raw_trigger, recurrence_ms};
use crate::state::SharedState;

/// When a recurrence's slots fall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The first slot (epoch ms).
    pub start_ms: i64,
    /// The time between two slots (ms, at least 1 s).
    pub every_ms: i64,
}

/// The schedule of `flow`'s `Recurrence` trigger, if it has one.
pub fn schedule(flow: &Flow) -> Option<Schedule> {
    let trigger = raw_trigger(&flow.definition)?;
    if trigger["type"].as_str() != Some("Recurrence") {
        return None;
    }
    let every_ms = recurrence_ms(trigger.get("recurrence"))?.max(1_000);
    let start_ms = trigger["recurrence"]["startTime"]
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map_or(flow.updated_ms, |time| time.timestamp_millis());
    Some(Schedule { start_ms, every_ms })
}

/// The latest slot at or before `now_ms`, once the schedule has started.
pub fn latest_slot(schedule: Schedule, now_ms: i64) -> Option<i64> {
    if now_ms < schedule.start_ms {
        return None;
    }
    let passed = (now_ms - schedule.start_ms) / schedule.every_ms;
    Some(schedule.start_ms + passed * schedule.every_ms)
}

/// The slot each flow last enqueued on this node (saves asking the store again).
#[derive(Debug, Default)]
pub struct Enqueued(Mutex<HashMap<FlowId, i64>>);

/// Enqueues the due slot of every enabled `Recurrence` flow; answers whether a run was made.
pub async fn enqueue_due(state: &SharedState, enqueued: &Enqueued) -> bool {
    let flows = match state.store.flows().list_enabled().await {
        Ok(flows) => flows,
        Err(error) => {
            tracing::warn!(%error, "could not look for recurrence triggers");
            return false;
        }
    };
    let mut made = false;
    let now = now_ms();
    for flow in flows {
        let Some(slot) = schedule(&flow).and_then(|schedule| latest_slot(schedule, now)) else { continue };
        let seen = enqueued.0.lock().ok().and_then(|map| map.get(&flow.id).copied());
        if seen == Some(slot) {
            continue;
        }
        let trigger = json!({"headers": {}, "body": Value::Null, "scheduledTime": slot});
        let key = format!("recurrence:{slot}");
        match state.store.flows().enqueue(&flow.id, flow.revision, &trigger, Some(&key)).await {
            Ok((_, created)) => {
                made |= created;
                if let Ok(mut map) = enqueued.0.lock() {
                    map.insert(flow.id.clone(), slot);
                }
            }
            Err(error) => tracing::warn!(flow = %flow.id, %error, "could not start a recurrence run"),
        }
    }
    made
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_start_at_the_start_and_follow_the_interval() {
        let schedule = Schedule { start_ms: 10_000, every_ms: 60_000 };
        assert_eq!(latest_slot(schedule, 9_999), None);
        assert_eq!(latest_slot(schedule, 10_000), Some(10_000));
        assert_eq!(latest_slot(schedule, 69_999), Some(10_000));
        assert_eq!(latest_slot(schedule, 70_000), Some(70_000));
        assert_eq!(latest_slot(schedule, 10_000 + 60_000 * 100 + 5), Some(10_000 + 60_000 * 100));
    }
}
