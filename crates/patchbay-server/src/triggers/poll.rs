//! One poll of a polling trigger under a lease: call the trigger operation through the pipeline
//! with the stored state, turn a firing answer into events (split by `splitOn`, de-duplicated by
//! the trigger's item id path), and store the new state, the next due time and the events in one
//! transaction that only commits while the lease is still ours.
//!
//! Choices: a failed poll (transport error or a status other than 200/202) keeps the old state and
//! waits one recurrence, as Logic Apps does after its retries; the failure is kept on the trigger
//! (`lastStatus`, `lastError`) and counted in the metrics. A poll whose lease was lost (this node was
//! too slow and another took over) stores nothing: the other node's poll counts.

use std::time::Duration;

use patchbay_runtime::{
    ExchangeRecord, InvokeError, PollCall, PollState, Polled, dedup_key, default_split_on, next_poll_delay,
    split_items,
};
use patchbay_store::{EventSource, NewEvent, PollDone, PollLease, StoreError, now_ms};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::routes::invoke::{connection_context, masked_message};
use crate::state::SharedState;

/// What one poll did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PollReport {
    /// `fired`, `nothing_new` or `failed`.
    pub outcome: &'static str,
    /// The backend's status, when it answered.
    pub backend_status: Option<u16>,
    /// Events stored by this poll.
    pub events_stored: usize,
    /// Items skipped because an event with the same id was stored before.
    pub duplicates: usize,
    /// Why the poll failed (secrets masked).
    pub error: Option<String>,
    /// When the trigger is due next (epoch ms), when it is enabled.
    pub next_due_ms: Option<i64>,
    /// The requests and responses, masked, when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
}

/// One request and its response, as text with secrets masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Exchange {
    /// The request line, headers and body.
    pub request: String,
    /// The response, when one came.
    pub response: Option<String>,
}

impl From<ExchangeRecord> for Exchange {
    fn from(record: ExchangeRecord) -> Self {
        Exchange { request: record.request, response: record.response }
    }
}

/// Runs one poll under `lease` and stores its outcome; `record` keeps the exchanges in the report.
pub async fn run(state: &SharedState, lease: &PollLease, record: bool) -> Result<PollReport, ApiError> {
    let trigger = &lease.trigger;
    if let Some(due) = trigger.next_due_ms {
        let late = (now_ms() - due).max(0) as f64 / 1e3;
        metrics::histogram!("patchbay_trigger_poll_lateness_seconds").record(late);
    }
    let connection = state.store.connections().get(&trigger.connection_id).await?;
    let (compiled, values) = connection_context(state, &connection).await?;
    let mut runtime = crate::gateway::runtime_for(state, &connection);
    runtime.options.record_exchanges |= record;
    let previous = PollState::from_json(&trigger.state);
    let inputs = match &trigger.inputs {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let call = PollCall {
        connector: &compiled,
        operation_id: &trigger.operation_id,
        connection: &values,
        inputs: &inputs,
        state: &previous,
    };
    let polled = runtime.poll_trigger(call).await;
    let recurrence = Duration::from_millis(trigger.recurrence_ms.max(0) as u64);
    let minimum = state.triggers.minimum_interval;
    let mut report = PollReport {
        outcome: "failed",
        backend_status: None,
        events_stored: 0,
        duplicates: 0,
        error: None,
        next_due_ms: None,
        exchanges: Vec::new(),
    };
    let (new_state, delay, events) = match polled {
        Ok(polled) => {
            report.backend_status = Some(polled.status);
            let delay = next_poll_delay(polled.status, polled.retry_after, recurrence, minimum);
            let events = match events_of(
                &polled,
                trigger.split_on.as_deref(),
                trigger.dedup_path.as_deref(),
                &compiled,
                &trigger.operation_id,
            ) {
                Ok(events) => events,
                Err(message) => {
                    report.error = Some(message);
                    None
                }
            };
            report.outcome = match (&events, polled.status) {
                (Some(_), _) => "fired",
                (None, 200 | 202) if report.error.is_none() => "nothing_new",
                _ => "failed",
            };
            if report.outcome == "failed" && report.error.is_none() {
                report.error = Some(format!("the backend answered {}", polled.status));
            }
            report.exchanges = polled.exchanges.into_iter().map(Exchange::from).collect();
            let keep = if report.outcome == "failed" { previous.clone() } else { polled.next_state };
            (keep, delay, events.unwrap_or_default())
        }
        Err(error) => {
            if matches!(&error, InvokeError::Security(security) if security.needs_sign_in()) {
                crate::routes::oauth::mark_unauthenticated(state, &connection.id).await;
            }
            report.error = Some(masked_message(&error, &values));
            (previous.clone(), recurrence.max(minimum), Vec::new())
        }
    };
    let next_due = now_ms() + delay.as_millis() as i64;
    let done = PollDone {
        state: new_state.to_json(),
        next_due_ms: Some(next_due),
        status: report.outcome.to_owned(),
        error: report.error.clone(),
        events,
    };
    metrics::counter!("patchbay_trigger_polls_total", "outcome" => report.outcome).increment(1);
    match state.store.triggers().complete_poll(lease, &done).await {
        Ok(stored) => {
            report.events_stored = stored.stored;
            report.duplicates = stored.duplicates;
            report.next_due_ms = trigger.enabled.then_some(next_due);
            if stored.stored > 0 {
                metrics::counter!("patchbay_trigger_events_total", "source" => "poll")
                    .increment(stored.stored as u64);
                state.events_stored.notify_waiters();
            }
            Ok(report)
        }
        Err(StoreError::LeaseLost { .. }) => {
            tracing::warn!(trigger = %trigger.id, "poll finished after its lease was taken over; nothing stored");
            Err(ApiError::conflict("lease_lost", "another node took this poll over; its result counts"))
        }
        Err(error) => Err(error.into()),
    }
}

/// The events of a firing answer (`None` when it did not fire), or why they could not be made.
fn events_of(
    polled: &Polled,
    split_on: Option<&str>,
    dedup_path: Option<&str>,
    compiled: &patchbay_runtime::plan::CompiledConnector,
    operation_id: &str,
) -> Result<Option<Vec<NewEvent>>, String> {
    let Some(fired) = &polled.fired else { return Ok(None) };
    let split = split_on.map(str::to_owned).or_else(|| default_split_on(compiled, operation_id));
    let items = split_items(fired, split.as_deref()).map_err(|error| format!("splitOn: {error}"))?;
    if items.is_empty() {
        return Ok(None);
    }
    let events = items
        .into_iter()
        .map(|item| NewEvent {
            source: EventSource::Poll,
            headers: fired.headers.clone(),
            dedup_key: dedup_path.and_then(|path| dedup_key(&item, path)),
            body: item,
        })
        .collect();
    Ok(Some(events))
}
