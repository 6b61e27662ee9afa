//! Webhook subscriptions (spec §5.3.2): subscribe by calling the trigger operation with the
//! callback URL in its `x-ms-notification-url` property; unsubscribe with a `DELETE` of the
//! `Location` the subscription answered.
//!
//! An unsubscribe goes through the connector's own `DELETE` operation when one matches the
//! `Location` (same origin as the connector's host, path under its base path, template segments
//! matching any segment; the most literal match wins), so its parameters, policies and security
//! apply; otherwise it is a plain `DELETE` carrying the connection's security only on the
//! backend's origin.

use super::{TriggerKind, override_query, require_kind, with_query_inputs};
use crate::bind::{Inputs, flattened_path, merge_flattened, set_path};
use crate::pipeline::{Call, ExchangeRecord, InvokeError, Link, Runtime, resolve, respond};
use crate::plan::CompiledConnector;
use crate::security::{ConnectionValues, apply_security};
use crate::transport::{location_header, same_origin};
use crate::wire::WireRequest;
use patchbay_spec::model::{Location, Method, Parameter, UrlEncoding};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};
use url::Url;

/// A subscription to make.
pub struct SubscribeCall<'a> {
    /// The compiled connector.
    pub connector: &'a CompiledConnector,
    /// The webhook trigger operation.
    pub operation_id: &'a str,
    /// The connection's values and tokens.
    pub connection: &'a ConnectionValues,
    /// The trigger's inputs (whatever they hold at the notification URL is replaced).
    pub inputs: &'a Inputs,
    /// The URL the backend is to call for each event (masked in the exchange records).
    pub callback_url: &'a str,
}

/// What the backend answered to a subscription.
#[derive(Debug)]
pub struct Subscribed {
    /// The status; a non-2xx is a refusal whose body says why.
    pub status: u16,
    /// The subscription's URL (its `Location`, after response policies), for the unsubscribe;
    /// `None` when a 2xx carried none (the trigger then cannot be deleted at the backend).
    pub location: Option<Url>,
    /// The answer's body.
    pub body: Value,
    /// What was sent and received, masked (when the runtime records exchanges).
    pub exchanges: Vec<ExchangeRecord>,
}

impl Subscribed {
    /// Whether the backend accepted the subscription (any 2xx).
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A subscription to remove.
pub struct UnsubscribeCall<'a> {
    /// The compiled connector.
    pub connector: &'a CompiledConnector,
    /// The connection's values and tokens.
    pub connection: &'a ConnectionValues,
    /// The subscription's URL, as [`Subscribed::location`] gave it.
    pub location: &'a Url,
}

/// Whether an unsubscribe status means the subscription is gone: any 2xx, 404 or 410.
pub fn unsubscribed(status: u16) -> bool {
    (200..300).contains(&status) || status == 404 || status == 410
}

impl Runtime {
    /// Subscribes a webhook trigger: the callback URL goes into its `x-ms-notification-url`
    /// property and the operation is called through the pipeline (no 202 polling).
    pub async fn subscribe(&self, call: SubscribeCall<'_>) -> Result<Subscribed, InvokeError> {
        require_kind(call.connector, call.operation_id, TriggerKind::Webhook)?;
        let inputs = with_callback(call.connector, call.operation_id, call.inputs, call.callback_url)?;
        let inner = Call {
            connector: call.connector,
            operation_id: call.operation_id,
            connection: call.connection,
            inputs: &inputs,
        };
        let (plan, ctx) = resolve(&inner)?;
        let mut exchanges = Vec::new();
        let wire = self.build(&inner, &ctx, &mut exchanges).await?;
        let response = self.send_first(&wire, &ctx.link(), &[call.callback_url], &mut exchanges).await?;
        let (result, _) = respond(plan, response, call.connection)?;
        let status = result.status.as_u16();
        let location = location_header(&result.headers, &wire.url).filter(|_| (200..300).contains(&status));
        Ok(Subscribed { status, location, body: result.body.to_value(), exchanges })
    }

    /// Removes a subscription with a `DELETE` of its URL; returns the status (see [`unsubscribed`]).
    pub async fn unsubscribe(&self, call: UnsubscribeCall<'_>) -> Result<u16, InvokeError> {
        let base = call.connector.connector.backend.base_url().and_then(|b| Url::parse(&b).ok());
        let mut exchanges = Vec::new();
        if let Some((operation_id, inputs)) =
            base.as_ref().and_then(|base| match_delete(call.connector, base, call.location))
        {
            let query: Vec<(String, String)> = call.location.query_pairs().into_owned().collect();
            let plan = call
                .connector
                .operation(&operation_id)
                .ok_or_else(|| InvokeError::UnknownOperation(operation_id.clone()))?;
            let inputs = with_query_inputs(plan, &inputs, &query);
            let inner = Call {
                connector: call.connector,
                operation_id: &operation_id,
                connection: call.connection,
                inputs: &inputs,
            };
            let (plan, ctx) = resolve(&inner)?;
            let adjust = |draft: &mut crate::draft::HttpDraft| override_query(&mut draft.query, &query);
            let wire = self.build_with(&inner, &ctx, adjust, &mut exchanges).await?;
            let response = self.send_first(&wire, &ctx.link(), &[], &mut exchanges).await?;
            let (result, _) = respond(plan, response, call.connection)?;
            return Ok(result.status.as_u16());
        }
        let mut wire = WireRequest::new(http::Method::DELETE, call.location.clone());
        if base.as_ref().is_some_and(|base| same_origin(base, call.location)) {
            apply_security(&mut wire, &call.connector.connector, call.connection, &self.tokens).await?;
        }
        let link = Link { connector: call.connector, connection: call.connection };
        let response = self.send_first(&wire, &link, &[], &mut exchanges).await?;
        Ok(response.status.as_u16())
    }
}

/// The inputs with the callback URL at the operation's notification URL (parameter or body
/// property), replacing whatever was there, flattened `body/…` inputs folded in first.
fn with_callback(
    connector: &CompiledConnector,
    operation_id: &str,
    inputs: &Inputs,
    callback_url: &str,
) -> Result<Inputs, InvokeError> {
    let plan = connector
        .operation(operation_id)
        .ok_or_else(|| InvokeError::UnknownOperation(operation_id.to_string()))?;
    let definitions = &connector.connector.definitions;
    let (parameter, path) = plan
        .parameters
        .iter()
        .find_map(|p| p.notification_url_path(definitions).map(|path| (p, path)))
        .ok_or_else(|| InvokeError::NotATrigger {
            operation: operation_id.to_string(),
            reason: "has no `x-ms-notification-url` parameter or property to carry the callback URL".into(),
        })?;
    let url = Value::String(callback_url.to_string());
    let mut out = inputs.clone();
    if path.is_empty() {
        out.insert(parameter.name.clone(), url);
        return Ok(out);
    }
    let mut value = given_value(parameter, inputs);
    if parameter.location == Location::Body {
        merge_flattened(&mut value, &parameter.name, inputs);
        out.retain(|key, _| flattened_path(key, &parameter.name).is_none() && key != "body");
    }
    let mut value = value.filter(Value::is_object).unwrap_or_else(|| Value::Object(Map::new()));
    set_path(&mut value, path.iter().map(String::as_str), url);
    out.insert(parameter.name.clone(), value);
    Ok(out)
}

/// The value given for a parameter (a body also under the generic name `body`).
fn given_value(parameter: &Parameter, inputs: &Inputs) -> Option<Value> {
    let body = (parameter.location == Location::Body).then(|| inputs.get("body")).flatten();
    inputs.get(&parameter.name).or(body).filter(|v| !v.is_null()).cloned()
}

/// The connector's `DELETE` operation whose path matches `location`, with its path values.
fn match_delete(connector: &CompiledConnector, base: &Url, location: &Url) -> Option<(String, Inputs)> {
    if !same_origin(base, location) {
        return None;
    }
    let base_segments: Vec<&str> = base.path_segments()?.filter(|s| !s.is_empty()).collect();
    let segments: Vec<&str> = location.path_segments()?.filter(|s| !s.is_empty()).collect();
    let rest = segments.strip_prefix(base_segments.as_slice())?;
    let mut best: Option<(usize, String, Inputs)> = None;
    for (item, operation) in connector.connector.operations() {
        let Some(id) = operation.id.as_ref().filter(|_| operation.method == Method::Delete) else { continue };
        let parameters = operation.effective_parameters(item);
        let Some((literals, inputs)) = match_path(&operation.path, rest, &parameters) else { continue };
        if best.as_ref().is_none_or(|(most, ..)| literals > *most) {
            best = Some((literals, id.clone(), inputs));
        }
    }
    best.map(|(_, id, inputs)| (id, inputs))
}

/// Matches a path template against URL segments; the count of literal segments and the path
/// parameters' values (decoded as their `x-ms-url-encoding` encoded them).
fn match_path(template: &str, segments: &[&str], parameters: &[&Parameter]) -> Option<(usize, Inputs)> {
    let pattern: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    if pattern.len() != segments.len() {
        return None;
    }
    let mut literals = 0;
    let mut inputs = Inputs::new();
    for (part, segment) in pattern.iter().zip(segments) {
        let Some((prefix, name, suffix)) = placeholder(part) else {
            if part != segment {
                return None;
            }
            literals += 1;
            continue;
        };
        let raw = segment.strip_prefix(prefix)?.strip_suffix(suffix)?;
        if raw.is_empty() {
            return None;
        }
        let double = parameters.iter().any(|p| {
            p.name == name && p.location == Location::Path && p.url_encoding == Some(UrlEncoding::Double)
        });
        let mut text = percent_decode_str(raw).decode_utf8_lossy().into_owned();
        if double {
            text = percent_decode_str(&text).decode_utf8_lossy().into_owned();
        }
        inputs.insert(name.to_string(), Value::String(text));
    }
    Some((literals, inputs))
}

/// `pre{name}post` → `(pre, name, post)`; `None` for a literal segment.
fn placeholder(part: &str) -> Option<(&str, &str, &str)> {
    let open = part.find('{')?;
    let close = open + part[open..].find('}')?;
    Some((&part[..open], &part[open + 1..close], &part[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path_param(name: &str, double: bool) -> Parameter {
        let mut p = Parameter::new(name, Location::Path);
        p.url_encoding = double.then_some(UrlEncoding::Double);
        p
    }

    #[test]
    fn templates_match_whole_segments_and_decode_values() {
        let id = path_param("hookId", false);
        let (literals, inputs) = match_path("/hooks/{hookId}", &["hooks", "hk%201"], &[&id]).unwrap();
        assert_eq!(literals, 1);
        assert_eq!(inputs, *json!({"hookId": "hk 1"}).as_object().unwrap());
        assert!(match_path("/hooks/{hookId}", &["hooks"], &[&id]).is_none());
        assert!(match_path("/hooks/{hookId}", &["other", "1"], &[&id]).is_none());
        let (_, inputs) = match_path("/files/{name}.json", &["files", "a.json"], &[]).unwrap();
        assert_eq!(inputs["name"], "a");
        let double = path_param("p", true);
        let (_, inputs) = match_path("/x/{p}", &["x", "a%252Fb"], &[&double]).unwrap();
        assert_eq!(inputs["p"], "a/b");
    }

    #[test]
    fn unsubscribed_statuses() {
        for status in [200, 202, 204, 404, 410] {
            assert!(unsubscribed(status), "{status}");
        }
        for status in [400, 401, 403, 409, 500] {
            assert!(!unsubscribed(status), "{status}");
        }
    }
}
