//! One poll of a polling trigger (spec §5.2.1): 200 fires, 202 is nothing new, anything else is an
//! error that leaves the state as it was; the `Location` of a 200 or 202 is the next poll's URL
//! (a missing one keeps the previous), and a `pollingtrigger` policy turns a plain list API into
//! the same contract (§4.9). The choices are in the [module docs](super).

use super::{PollState, TriggerKind, headers_json, override_query, require_kind, with_query_inputs};
use crate::bind::Inputs;
use crate::pipeline::{
    Call, Ctx, ExchangeRecord, InvokeError, Runtime, auth_headers, resolve, respond, scope_base,
};
use crate::plan::CompiledConnector;
use crate::policy::{PolicyScope, PollingTriggerConfig, polling_trigger_config};
use crate::response::InvokeResponse;
use crate::security::{ConnectionValues, apply_operation_security};
use crate::transport::{is_http, location_header, parse_retry_after, same_origin};
use crate::wire::WireRequest;
use serde_json::Value;
use std::time::{Duration, SystemTime};
use url::Url;

/// One poll to make.
pub struct PollCall<'a> {
    /// The compiled connector.
    pub connector: &'a CompiledConnector,
    /// The trigger operation.
    pub operation_id: &'a str,
    /// The connection's values and tokens.
    pub connection: &'a ConnectionValues,
    /// The trigger's inputs.
    pub inputs: &'a Inputs,
    /// The state the previous poll left ([`PollState::default`] for the first).
    pub state: &'a PollState,
}

/// The outputs of a poll that fired (before `splitOn`).
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// The response headers, as a JSON object.
    pub headers: Value,
    /// The response body (JSON as it is, text as a string).
    pub body: Value,
}

/// What one poll did.
#[derive(Debug)]
pub struct Polled {
    /// The backend's status (after retries).
    pub status: u16,
    /// The outputs, when the poll fired.
    pub fired: Option<Fired>,
    /// The state for the next poll (equal to the input state after an error status).
    pub next_state: PollState,
    /// The wait the backend asked for (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
    /// What was sent and received, masked (when the runtime records exchanges).
    pub exchanges: Vec<ExchangeRecord>,
}

impl Runtime {
    /// Polls a polling trigger once, through the request pipeline, without following a 202.
    pub async fn poll_trigger(&self, call: PollCall<'_>) -> Result<Polled, InvokeError> {
        require_kind(call.connector, call.operation_id, TriggerKind::Polling)?;
        let polling = polling_trigger_config(&call.connector.connector, call.operation_id).transpose()?;
        let query = call.state.query_pairs();
        let plan = call
            .connector
            .operation(call.operation_id)
            .ok_or_else(|| InvokeError::UnknownOperation(call.operation_id.to_string()))?;
        let inputs = with_query_inputs(plan, call.inputs, &query);
        let inner = Call {
            connector: call.connector,
            operation_id: call.operation_id,
            connection: call.connection,
            inputs: &inputs,
        };
        let (plan, ctx) = resolve(&inner)?;
        let mut exchanges = Vec::new();
        let adjust = |draft: &mut crate::draft::HttpDraft| override_query(&mut draft.query, &query);
        let built = self.build_with(&inner, &ctx, adjust, &mut exchanges).await?;
        let wire = match stored_location(call.state) {
            Some(location) => self.location_request(&built, location, &query, &ctx).await?,
            None => built,
        };
        let response = self.send_first(&wire, &ctx.link(), &[], &mut exchanges).await?;
        let (result, _) = respond(plan, response, call.connection)?;
        let scope = scope_base(plan, call.connection);
        let (fired, mut next_state) = advance(&result, &wire.url, call.state, polling.as_ref(), &scope)?;
        if let Some(location) = &next_state.location {
            next_state.location = Some(without_secrets(location, &call.connection.secrets()));
        }
        Ok(Polled {
            status: result.status.as_u16(),
            fired,
            next_state,
            retry_after: parse_retry_after(&result.headers, SystemTime::now()),
            exchanges,
        })
    }

    /// `GET <location>` in place of the operation's own request: with that request's headers and
    /// the connection's security on the same origin, bare elsewhere.
    async fn location_request(
        &self,
        built: &WireRequest,
        location: Url,
        query: &[(String, String)],
        ctx: &Ctx<'_>,
    ) -> Result<WireRequest, InvokeError> {
        let mut wire = WireRequest::new(http::Method::GET, location);
        if !query.is_empty() {
            let mut pairs: Vec<(String, String)> = wire.url.query_pairs().into_owned().collect();
            override_query(&mut pairs, query);
            wire.url.query_pairs_mut().clear().extend_pairs(&pairs);
        }
        if same_origin(&wire.url, &built.url) {
            wire.headers = auth_headers(&built.headers);
            let connector = &ctx.connector.connector;
            apply_operation_security(&mut wire, connector, ctx.operation, ctx.connection, &self.tokens)
                .await?;
        }
        Ok(wire)
    }
}

/// The stored `Location`, when it is an absolute http(s) URL.
fn stored_location(state: &PollState) -> Option<Url> {
    state.location.as_deref().and_then(|text| Url::parse(text.trim()).ok()).filter(is_http)
}

/// A stored `Location` without query parameters whose value is a connection secret (a backend
/// that echoes an API key sent in the query): state is stored in clear, and the key is added
/// again when the next poll goes to the backend's origin.
fn without_secrets(location: &str, secrets: &[String]) -> String {
    let Ok(mut url) = Url::parse(location) else { return location.to_string() };
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if !pairs.iter().any(|(_, value)| secrets.contains(value)) {
        return location.to_string();
    }
    let kept: Vec<&(String, String)> = pairs.iter().filter(|(_, value)| !secrets.contains(value)).collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.to_string()
}

/// What an answer means: whether it fires, and the next state (spec §5.2.1, §4.9).
fn advance(
    result: &InvokeResponse,
    requested: &Url,
    state: &PollState,
    polling: Option<&PollingTriggerConfig>,
    scope: &PolicyScope,
) -> Result<(Option<Fired>, PollState), InvokeError> {
    let status = result.status.as_u16();
    if status != 200 && status != 202 {
        return Ok((None, state.clone()));
    }
    let mut next = state.clone();
    if let Some(location) = location_header(&result.headers, requested) {
        next.location = Some(location.to_string());
    }
    let body = result.body.to_value();
    let fired = |body: Value| Fired { headers: headers_json(&result.headers), body };
    let Some(config) = polling else {
        return Ok(((status == 200).then(|| fired(body)), next));
    };
    let baseline = !state.baselined;
    next.baselined = true;
    if status == 202 || config.items(&body).is_empty() {
        return Ok((None, next));
    }
    for (name, value) in config.next_query(&body, scope)? {
        next.query.insert(name, Value::String(value));
    }
    Ok(((!baseline).then(|| fired(body)), next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Params;
    use crate::response::ResponseBody;
    use http::{HeaderMap, StatusCode};
    use serde_json::json;

    fn answer(status: u16, location: Option<&str>, body: Value) -> InvokeResponse {
        let mut headers = HeaderMap::new();
        if let Some(l) = location {
            headers.insert("location", l.parse().unwrap());
        }
        let body = if body.is_null() { ResponseBody::Empty } else { ResponseBody::Json(body) };
        InvokeResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body,
            schema_warnings: vec![],
        }
    }

    fn requested() -> Url {
        Url::parse("https://api.example/v1/poll?since=1").unwrap()
    }

    fn newest_first() -> PollingTriggerConfig {
        let map = json!({"triggerConfig": {"since": "@{triggerBody().value[0].seq}"},
                         "triggerDataPath": "@triggerBody().value"});
        PollingTriggerConfig::from_params(&Params::from_map(
            "pollingtrigger",
            map.as_object().cloned().unwrap(),
        ))
        .unwrap()
    }

    fn step(
        r: &InvokeResponse,
        state: &PollState,
        c: Option<&PollingTriggerConfig>,
    ) -> (Option<Fired>, PollState) {
        advance(r, &requested(), state, c, &PolicyScope::default()).unwrap()
    }

    #[test]
    fn an_echoed_secret_is_not_kept_in_the_stored_location() {
        let secrets = vec!["k3y".to_string()];
        assert_eq!(
            without_secrets("https://a.example/p?since=2&key=k3y", &secrets),
            "https://a.example/p?since=2"
        );
        assert_eq!(without_secrets("https://a.example/p?key=k3y", &secrets), "https://a.example/p");
        assert_eq!(
            without_secrets("https://a.example/p?since=%3A2", &secrets),
            "https://a.example/p?since=%3A2"
        );
        assert_eq!(without_secrets("not a url", &secrets), "not a url");
    }

    #[test]
    fn location_state_moves_on_200_and_202_and_stays_without_one() {
        let start =
            PollState { location: Some("https://api.example/v1/poll?since=1".into()), ..Default::default() };
        let (fired, next) = step(&answer(202, Some("poll?since=2"), Value::Null), &start, None);
        assert!(fired.is_none());
        assert_eq!(next.location.as_deref(), Some("https://api.example/v1/poll?since=2"));
        let (fired, kept) = step(&answer(202, None, Value::Null), &next, None);
        assert!(fired.is_none());
        assert_eq!(kept, next, "a 202 without Location keeps the previous location");
        let (fired, moved) = step(
            &answer(200, Some("https://api.example/v1/poll?since=3"), json!({"value": [1]})),
            &kept,
            None,
        );
        assert_eq!(fired.unwrap().body, json!({"value": [1]}));
        assert_eq!(moved.location.as_deref(), Some("https://api.example/v1/poll?since=3"));
        let (fired, same) = step(&answer(200, None, json!({"value": []})), &moved, None);
        assert!(fired.is_some(), "without pollingtrigger every 200 fires");
        assert_eq!(same, moved);
    }

    #[test]
    fn an_error_status_or_another_success_keeps_the_state() {
        let start = PollState { location: Some("https://api.example/a".into()), ..Default::default() };
        for status in [500, 404, 429, 201, 204] {
            let (fired, next) =
                step(&answer(status, Some("https://api.example/b"), json!({"x": 1})), &start, None);
            assert!(fired.is_none(), "{status}");
            assert_eq!(next, start, "{status}");
        }
    }

    #[test]
    fn polling_trigger_takes_a_baseline_then_fires_only_on_items() {
        let c = newest_first();
        let (fired, base) = step(
            &answer(200, None, json!({"value": [{"seq": 7}, {"seq": 6}]})),
            &PollState::default(),
            Some(&c),
        );
        assert!(fired.is_none(), "the first poll only takes a baseline");
        assert!(base.baselined);
        assert_eq!(base.query, *json!({"since": "7"}).as_object().unwrap());
        let (fired, same) = step(&answer(200, None, json!({"value": []})), &base, Some(&c));
        assert!(fired.is_none(), "an empty list is nothing new");
        assert_eq!(same, base, "and keeps the query");
        let (fired, same) = step(&answer(202, None, Value::Null), &base, Some(&c));
        assert!(fired.is_none());
        assert_eq!(same, base);
        let (fired, next) = step(&answer(200, None, json!({"value": [{"seq": 9}]})), &base, Some(&c));
        assert_eq!(fired.unwrap().body["value"][0]["seq"], 9);
        assert_eq!(next.query["since"], "9");
    }

    #[test]
    fn an_empty_first_answer_still_counts_as_the_baseline() {
        let c = newest_first();
        let (_, base) = step(&answer(200, None, json!({"value": []})), &PollState::default(), Some(&c));
        assert!(base.baselined && base.query.is_empty());
        let (fired, _) = step(&answer(200, None, json!({"value": [{"seq": 1}]})), &base, Some(&c));
        assert!(fired.is_some(), "items after an empty baseline are new");
    }
}
