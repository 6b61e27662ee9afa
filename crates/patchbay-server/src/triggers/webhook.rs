//! Webhook subscriptions: subscribing a trigger with its callback URL, and removing subscriptions.
//!
//! The callback URL is `{public}/hooks/{subscription id}/{secret}`; the secret is random, shown only
//! to the backend and stored hashed. A subscription is created (and accepts callbacks: backends
//! often send a validation ping before answering) before the subscribe call, and marked active with
//! the backend's `Location` after it. Removal DELETEs that `Location` through the connection, a few
//! times with a pause when it fails; a subscription that could not be removed stays listed with its
//! error, and accepts no more callbacks either way.

use std::time::Duration;

use axum::http::StatusCode;
use patchbay_runtime::{SubscribeCall, UnsubscribeCall, unsubscribed};
use patchbay_store::{Subscription, SubscriptionStatus, Trigger};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::routes::invoke::{connection_context, masked_message};
use crate::state::SharedState;

/// Attempts at removing one subscription before it is reported as not removed.
const REMOVE_ATTEMPTS: u32 = 3;
/// The pause between two attempts.
const REMOVE_PAUSE: Duration = Duration::from_millis(500);

/// Subscribes `trigger` at its backend; the subscription is active when this returns `Ok`.
pub async fn subscribe(state: &SharedState, trigger: &Trigger) -> Result<Subscription, ApiError> {
    let store = state.store.triggers();
    let (subscription, secret) = store.new_subscription(&trigger.id).await?;
    let callback_url = format!("{}/hooks/{}/{}", state.public_url, subscription.id, secret);
    let connection = state.store.connections().get(&trigger.connection_id).await?;
    let (compiled, values) = connection_context(state, &connection).await?;
    let inputs = match &trigger.inputs {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let call = SubscribeCall {
        connector: &compiled,
        operation_id: &trigger.operation_id,
        connection: &values,
        inputs: &inputs,
        callback_url: &callback_url,
    };
    let failure = match crate::gateway::runtime_for(state, &connection).subscribe(call).await {
        Ok(subscribed) if subscribed.succeeded() => {
            if subscribed.location.is_none() {
                tracing::warn!(trigger = %trigger.id, "the subscribe answer has no Location: the subscription cannot be removed at the backend");
            }
            let location = subscribed.location.as_ref().map(url::Url::as_str);
            store.activate_subscription(&subscription.id, location).await?;
            return Ok(store.subscription(&subscription.id).await?);
        }
        Ok(subscribed) => format!("the backend refused the subscription with status {}", subscribed.status),
        Err(error) => masked_message(&error, &values),
    };
    store.mark_removed(&subscription.id).await?;
    Err(ApiError::new(StatusCode::BAD_GATEWAY, "subscribe_failed", failure))
}

/// What became of one subscription on removal.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    /// The subscription.
    pub subscription: String,
    /// Whether it is gone at the backend (or never existed there).
    pub removed: bool,
    /// Why not, when not.
    pub error: Option<String>,
}

/// Removes every live subscription of `trigger` at its backend.
pub async fn unsubscribe_all(state: &SharedState, trigger: &Trigger) -> Result<Vec<Removal>, ApiError> {
    let mut removals = Vec::new();
    for subscription in state.store.triggers().subscriptions(&trigger.id).await? {
        if matches!(subscription.status, SubscriptionStatus::Removed) {
            continue;
        }
        removals.push(remove(state, trigger, &subscription).await?);
    }
    Ok(removals)
}

/// Removes one subscription, retrying a failed DELETE; records the result.
async fn remove(
    state: &SharedState,
    trigger: &Trigger,
    subscription: &Subscription,
) -> Result<Removal, ApiError> {
    let store = state.store.triggers();
    let id = subscription.id.to_string();
    let Some(location) = subscription.location.as_deref() else {
        store.mark_removed(&subscription.id).await?;
        let error = "the backend gave no Location when subscribing; remove it there by hand".to_owned();
        return Ok(Removal { subscription: id, removed: false, error: Some(error) });
    };
    let mut error = match url::Url::parse(location) {
        Ok(url) => match try_delete(state, trigger, &url).await {
            Ok(()) => {
                store.mark_removed(&subscription.id).await?;
                return Ok(Removal { subscription: id, removed: true, error: None });
            }
            Err(error) => error,
        },
        Err(parse) => format!("the stored Location `{location}` is not a URL: {parse}"),
    };
    if error.is_empty() {
        error = "unknown failure".to_owned();
    }
    store.mark_remove_failed(&subscription.id, &error).await?;
    tracing::warn!(trigger = %trigger.id, subscription = %subscription.id, %error, "could not remove a webhook subscription");
    Ok(Removal { subscription: id, removed: false, error: Some(error) })
}

/// DELETEs `location` through the trigger's connection, up to [`REMOVE_ATTEMPTS`] times.
async fn try_delete(state: &SharedState, trigger: &Trigger, location: &url::Url) -> Result<(), String> {
    let connection =
        state.store.connections().get(&trigger.connection_id).await.map_err(|error| error.to_string())?;
    let (compiled, values) = connection_context(state, &connection).await.map_err(|error| error.message)?;
    let runtime = crate::gateway::runtime_for(state, &connection);
    let mut last = String::new();
    for attempt in 0..REMOVE_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(REMOVE_PAUSE * attempt).await;
        }
        let call = UnsubscribeCall { connector: &compiled, connection: &values, location };
        match runtime.unsubscribe(call).await {
            Ok(status) if unsubscribed(status) => return Ok(()),
            Ok(status) => last = format!("the backend answered {status} to DELETE"),
            Err(error) => last = masked_message(&error, &values),
        }
    }
    Err(last)
}
