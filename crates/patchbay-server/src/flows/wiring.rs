//! What starts a flow's runs, wired when the flow is enabled: a `Request` trigger needs nothing
//! (callers use `POST /api/flows/{id}/run`); an `OpenApiConnection` (polling) or
//! `OpenApiConnectionWebhook` trigger becomes a trigger of the flow's connection (see
//! [`crate::triggers`]) whose events the run worker turns into runs, one per event, exactly once.
//! Disabling stops the trigger (a webhook unsubscribes); enabling again after an update wires the
//! new definition's trigger. A `Recurrence` trigger needs no wiring: the run worker starts its runs
//! ([`super::recurrence`]).

use patchbay_engine::{Definition, TriggerKind as FlowTrigger};
use patchbay_runtime::TriggerKind as ProtocolKind;
use patchbay_store::{ConnectionId, Flow, NewTrigger, TriggerKind, UserId};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::routes::triggers::start_trigger;
use crate::state::SharedState;
use crate::triggers::webhook;

/// The definition's trigger object (`{type, inputs, recurrence, splitOn, …}`), in any of the three
/// accepted shapes (Logic Apps, bare, Power Automate).
pub fn raw_trigger(definition: &Value) -> Option<&Value> {
    let triggers = [
        definition.pointer("/properties/definition/triggers"),
        definition.pointer("/definition/triggers"),
        definition.get("triggers"),
    ]
    .into_iter()
    .flatten()
    .find(|triggers| triggers.is_object())?;
    triggers.as_object()?.values().next()
}

/// A `recurrence` (`{frequency, interval}`) in milliseconds.
pub(crate) fn recurrence_ms(recurrence: Option<&Value>) -> Option<i64> {
    let recurrence = recurrence?;
    let unit: i64 = match recurrence.get("frequency")?.as_str()?.to_ascii_lowercase().as_str() {
        "second" => 1_000,
        "minute" => 60_000,
        "hour" => 3_600_000,
        "day" => 86_400_000,
        "week" => 7 * 86_400_000,
        "month" => 30 * 86_400_000,
        _ => return None,
    };
    let interval = recurrence.get("interval").and_then(Value::as_i64).unwrap_or(1).max(1);
    Some(unit.saturating_mul(interval))
}

/// Starts what makes `flow`'s runs (its current revision's trigger) and marks it enabled.
pub async fn enable(state: &SharedState, flow: &Flow) -> Result<Flow, ApiError> {
    unwire(state, flow).await?;
    let definition = Definition::parse(&flow.definition)
        .map_err(|_| ApiError::bad_request("invalid_definition", "the flow's definition does not load"))?;
    match definition.triggers.first().map(|trigger| &trigger.kind) {
        Some(FlowTrigger::Request { .. } | FlowTrigger::Recurrence) => {}
        Some(
            FlowTrigger::OpenApiConnection { connection, operation_id }
            | FlowTrigger::OpenApiConnectionWebhook { connection, operation_id },
        ) => {
            let trigger = raw_trigger(&flow.definition).cloned().unwrap_or(Value::Null);
            wire_connector(state, flow, &trigger, connection, operation_id).await?;
        }
        None => {
            return Err(ApiError::bad_request("unsupported_trigger", "the flow has no trigger to enable"));
        }
    }
    Ok(state.store.flows().set_enabled(&flow.id, true).await?)
}

/// Creates and starts the connection trigger behind a connector-triggered flow: operation
/// `operation_id` of the connection the flow maps to `reference`, with the `trigger`'s parameters,
/// recurrence and `splitOn` as written.
async fn wire_connector(
    state: &SharedState,
    flow: &Flow,
    trigger: &Value,
    reference: &str,
    operation_id: &str,
) -> Result<(), ApiError> {
    let connection_id = flow.connections[reference].as_str().unwrap_or_default();
    let connection =
        owned_connection(state, &flow.owner_id, &ConnectionId::from(connection_id), reference).await?;
    let compiled = state.compiled(&connection.connector_id).await?;
    let kind = match compiled.trigger_kind(operation_id) {
        Some(ProtocolKind::Polling) => TriggerKind::Polling,
        Some(ProtocolKind::Webhook) => TriggerKind::Webhook,
        None => {
            let message = format!("`{operation_id}` of connection `{reference}` is not a trigger operation");
            return Err(ApiError::bad_request("not_a_trigger", message));
        }
    };
    let inputs = trigger["inputs"]["parameters"].as_object().cloned().unwrap_or_else(Map::new);
    let recurrence = recurrence_ms(trigger.get("recurrence"))
        .unwrap_or(state.triggers.default_recurrence.as_millis() as i64)
        .max(state.triggers.minimum_interval.as_millis() as i64);
    let new = NewTrigger {
        environment_id: flow.environment_id.clone(),
        owner_id: flow.owner_id.clone(),
        connection_id: connection.id.clone(),
        operation_id: operation_id.to_owned(),
        kind,
        inputs: Value::Object(inputs),
        recurrence_ms: recurrence,
        split_on: trigger["splitOn"].as_str().map(str::to_owned),
        dedup_path: None,
    };
    let created = state.store.triggers().create(&new).await?;
    if let Err(error) = start_trigger(state, &created).await {
        state.store.triggers().delete(&created.id).await?;
        return Err(error);
    }
    state.store.flows().set_trigger(&flow.id, Some(&created.id)).await?;
    Ok(())
}

/// The connection `id` when it belongs to `owner`.
async fn owned_connection(
    state: &SharedState,
    owner: &UserId,
    id: &ConnectionId,
    reference: &str,
) -> Result<patchbay_store::Connection, ApiError> {
    match state.store.connections().get(id).await {
        Ok(connection) if &connection.owner_id == owner => Ok(connection),
        _ => Err(ApiError::bad_request(
            "unknown_connection",
            format!("the flow's connection `{reference}` is not one of your connections"),
        )),
    }
}

/// Stops and removes the trigger behind `flow` (a webhook unsubscribes), if it has one.
pub async fn unwire(state: &SharedState, flow: &Flow) -> Result<(), ApiError> {
    let Some(id) = &flow.trigger_id else { return Ok(()) };
    let trigger = match state.store.triggers().get(id).await {
        Ok(trigger) => trigger,
        Err(patchbay_store::StoreError::NotFound { .. }) => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    state.store.triggers().set_enabled(id, false, None).await?;
    for removal in webhook::unsubscribe_all(state, &trigger).await? {
        if !removal.removed {
            tracing::warn!(flow = %flow.id, subscription = %removal.subscription, error = ?removal.error, "a webhook subscription of a flow could not be removed");
        }
    }
    state.store.flows().set_trigger(&flow.id, None).await?;
    state.store.triggers().delete(id).await?;
    Ok(())
}

/// Stops what starts `flow`'s runs and marks it disabled (runs under way go on).
pub async fn disable(state: &SharedState, flow: &Flow) -> Result<Flow, ApiError> {
    unwire(state, flow).await?;
    Ok(state.store.flows().set_enabled(&flow.id, false).await?)
}
