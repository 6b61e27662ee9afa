//! The request pipeline, top to bottom (spec §4.2): bind → security → request policies → send
//! (retries; 202 polled or handed back; pages) → response policies → result.

use crate::bind::{BindError, Inputs, bind, encode_path_value, to_text, value_for};
use crate::draft::{DraftBody, HttpDraft, UrlError};
use crate::mask::mask;
use crate::plan::{CompiledConnector, OperationPlan};
use crate::policy::{PolicyError, PolicyScope, RequestStage, ResponseFlags, ResponseStage};
use crate::response::{InvokeResponse, excerpt};
use crate::security::{
    ConnectionValues, Credential, SecurityError, TokenManager, apply_operation_security, select_credential,
};
use crate::transport::{
    LongRunningError, LongRunningOptions, PageOptions, PagingError, Pending, PollStep, RetryPolicy,
    Transport, TransportError, classify_async,
};
use crate::wire::{WireRequest, WireResponse};
use http::{HeaderMap, StatusCode};
use patchbay_spec::model::{Location, Operation};
use serde_json::Value;

/// How calls behave.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// The retry policy of every call (Logic Apps' default: exponential, 4 retries).
    pub retry: RetryPolicy,
    /// Bounds on polling a 202 answer.
    pub long_running: LongRunningOptions,
    /// Poll a 202 answer until done (true), or hand the pending state back (false).
    pub wait_for_completion: bool,
    /// Follow `x-ms-pageable` next links up to this many items (`None`: first page only).
    pub page_limit: Option<usize>,
    /// Keep a masked record of every exchange (`--verbose`, run history); off on the hot path.
    pub record_exchanges: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            retry: RetryPolicy::default(),
            long_running: LongRunningOptions::default(),
            wait_for_completion: true,
            page_limit: None,
            record_exchanges: false,
        }
    }
}

/// The runtime: one transport and one token manager for the whole process.
#[derive(Clone)]
pub struct Runtime {
    /// The shared HTTP client.
    pub transport: Transport,
    /// OAuth tokens, refreshed once for many callers.
    pub tokens: TokenManager,
    /// Call behaviour.
    pub options: RuntimeOptions,
}

/// One call to make.
pub struct Call<'a> {
    /// The compiled connector.
    pub connector: &'a CompiledConnector,
    /// The operation.
    pub operation_id: &'a str,
    /// The connection's values and tokens.
    pub connection: &'a ConnectionValues,
    /// The inputs.
    pub inputs: &'a Inputs,
}

/// How a call ended.
#[derive(Debug)]
pub enum Outcome {
    /// The final response.
    Done(InvokeResponse),
    /// The backend answered 202 and the caller asked not to wait: poll `pending` later.
    Pending {
        /// Where and when to poll.
        pending: Pending,
        /// Headers to send with the poll (authorization), for a durable caller to keep encrypted.
        headers: HeaderMap,
    },
}

/// One request sent and what came back, with secrets masked (for `--verbose` and run history).
#[derive(Debug, Clone)]
pub struct ExchangeRecord {
    /// `METHOD URL`, headers and body as sent, masked.
    pub request: String,
    /// Status, headers and body as received, masked; `None` when nothing came back.
    pub response: Option<String>,
}

/// A finished call and its exchanges.
#[derive(Debug)]
pub struct Invoked {
    /// The outcome.
    pub outcome: Outcome,
    /// What was sent and received, in order.
    pub exchanges: Vec<ExchangeRecord>,
    /// A response policy asked to mark the connection as needing sign-in.
    pub unauthenticated: bool,
}

/// Why a call failed before a final response. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// No operation with this id.
    #[error("the connector has no operation `{0}`")]
    UnknownOperation(String),
    /// The inputs do not fit the operation.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// Security could not be applied.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// A policy failed.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The URL could not be built.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// Nothing came back.
    #[error("{0}")]
    Transport(String),
    /// Polling a 202 answer failed or ran out of its bounds.
    #[error("{0}")]
    LongRunning(String),
    /// Following next links failed.
    #[error("{0}")]
    Paging(String),
    /// The operation cannot be used as this kind of trigger.
    #[error("operation `{operation}` {reason}")]
    NotATrigger {
        /// The operation.
        operation: String,
        /// What it lacks (e.g. "is not a polling trigger: it has no `x-ms-trigger`").
        reason: String,
    },
}

impl Runtime {
    /// A runtime with its own transport and token manager.
    pub fn new(
        transport: crate::transport::TransportOptions,
        options: RuntimeOptions,
    ) -> Result<Self, TransportError> {
        let transport = Transport::new(transport)?;
        let tokens = TokenManager::new(std::sync::Arc::new(transport.clone()));
        Ok(Runtime { transport, tokens, options })
    }

    /// The same runtime with every backend exchange carried by `relay` (an on-premises gateway);
    /// OAuth token calls keep the shared client.
    pub fn through(&self, relay: std::sync::Arc<dyn crate::transport::Relay>) -> Runtime {
        Runtime { transport: self.transport.through(relay), ..self.clone() }
    }

    /// Makes a call through the whole pipeline.
    pub async fn invoke(&self, call: Call<'_>) -> Result<Invoked, InvokeError> {
        self.invoke_with(call, HeaderMap::new()).await
    }

    /// [`Runtime::invoke`] with `headers` added to the request before security and policies run
    /// (a flow's idempotency headers; a policy may still change them).
    pub async fn invoke_with(&self, call: Call<'_>, headers: HeaderMap) -> Result<Invoked, InvokeError> {
        let (plan, ctx) = resolve(&call)?;
        let mut exchanges = Vec::new();
        let add = |draft: &mut HttpDraft| draft.headers.extend(headers);
        let wire = self.build_with(&call, &ctx, add, &mut exchanges).await?;
        let first = self.send_first(&wire, &ctx.link(), &[], &mut exchanges).await?;
        let response = match classify_async(&first, &wire.url) {
            Some(pending) if !self.options.wait_for_completion => {
                let headers = auth_headers(&wire.headers);
                return Ok(Invoked {
                    outcome: Outcome::Pending { pending, headers },
                    exchanges,
                    unauthenticated: false,
                });
            }
            Some(_) => Box::pin(self.complete(first, &wire, &ctx, &mut exchanges)).await?,
            None => first,
        };
        let response = if plan.next_link_name.is_some() && self.options.page_limit.is_some() {
            Box::pin(self.pages(plan, response, &wire)).await?
        } else {
            response
        };
        let (result, unauthenticated) = respond(plan, response, call.connection)?;
        Ok(Invoked { outcome: Outcome::Done(result), exchanges, unauthenticated })
    }

    /// Continues a long-running call that [`Runtime::invoke`] handed back as [`Outcome::Pending`]
    /// (a durable caller stored only `pending`): one GET of the status URL, with the operation's
    /// headers and security rebuilt from the connection (never stored) and sent only when the
    /// status URL is on the operation's own origin. A 202 is still pending (a new `Location`
    /// replaces the old); any other answer is the result, decoded and shaped by the response
    /// policies like the operation's own answer.
    pub async fn resume_pending(&self, call: Call<'_>, pending: &Pending) -> Result<Outcome, InvokeError> {
        let (plan, ctx) = resolve(&call)?;
        let wire = self.build(&call, &ctx, &mut Vec::new()).await?;
        let headers =
            crate::transport::origin::headers_for(&pending.location, &wire.url, &auth_headers(&wire.headers));
        let secrets = || call.connection.secrets();
        let step = self
            .transport
            .poll_once(pending, headers)
            .await
            .map_err(|e| InvokeError::Transport(mask(&e.to_string(), &secrets())))?;
        match step {
            PollStep::Pending(next) => Ok(Outcome::Pending { pending: next, headers: HeaderMap::new() }),
            PollStep::Done(response) => {
                let (result, _) = respond(plan, response, call.connection)?;
                Ok(Outcome::Done(result))
            }
        }
    }

    /// Builds the request a call would send (bind, security, request policies) without sending it;
    /// side calls that policies need are made. For dry runs and the pipeline benchmark.
    pub async fn prepare(&self, call: Call<'_>) -> Result<WireRequest, InvokeError> {
        let (_, ctx) = resolve(&call)?;
        self.build(&call, &ctx, &mut Vec::new()).await
    }

    /// Binds, secures and runs the request policies.
    pub(crate) async fn build(
        &self,
        call: &Call<'_>,
        ctx: &Ctx<'_>,
        exchanges: &mut Vec<ExchangeRecord>,
    ) -> Result<WireRequest, InvokeError> {
        self.build_with(call, ctx, |_| {}, exchanges).await
    }

    /// [`Runtime::build`] with a change to the bound draft before security and policies see it
    /// (a trigger's query state).
    pub(crate) async fn build_with(
        &self,
        call: &Call<'_>,
        ctx: &Ctx<'_>,
        adjust: impl FnOnce(&mut HttpDraft),
        exchanges: &mut Vec<ExchangeRecord>,
    ) -> Result<WireRequest, InvokeError> {
        let plan = ctx.plan;
        let base = call.connector.connector.backend.base_url().unwrap_or_default();
        let mut draft = bind(plan, &base, call.inputs)?;
        adjust(&mut draft);
        self.secure_draft(&mut draft, call.connector, ctx.operation, call.connection).await?;
        let path_values = path_values(plan, call.inputs)?;
        if !plan.policies.request.is_empty() {
            let mut scope = scope_base(plan, call.connection);
            Box::pin(self.request_policies(plan, &mut draft, &mut scope, &path_values, ctx, exchanges))
                .await?;
        }
        Ok(draft.into_wire()?)
    }

    /// Applies the connection's security to the draft (headers and query).
    async fn secure_draft(
        &self,
        draft: &mut HttpDraft,
        connector: &CompiledConnector,
        operation: &Operation,
        connection: &ConnectionValues,
    ) -> Result<(), InvokeError> {
        // Only an API key in the query changes the URL; the others touch headers alone, so the
        // URL is not built (and parsed) twice on the common path.
        let in_query = matches!(
            select_credential(&connector.connector, connection),
            Ok(Credential::ApiKey { location: Location::Query, .. })
        );
        let url = if in_query { draft.url()? } else { placeholder_url().clone() };
        let mut wire = WireRequest::new(draft.method.clone(), url);
        wire.headers = std::mem::take(&mut draft.headers);
        apply_operation_security(&mut wire, &connector.connector, operation, connection, &self.tokens)
            .await?;
        draft.headers = wire.headers;
        if in_query {
            draft.query = wire.url.query_pairs().into_owned().collect();
        }
        Ok(())
    }

    /// Runs the request-section policies in order, making side calls where a policy needs one.
    async fn request_policies(
        &self,
        plan: &OperationPlan,
        draft: &mut HttpDraft,
        scope: &mut PolicyScope,
        path_values: &[(String, String)],
        ctx: &Ctx<'_>,
        exchanges: &mut Vec<ExchangeRecord>,
    ) -> Result<(), InvokeError> {
        for policy in &plan.policies.request {
            if policy.reads_request {
                refresh_scope(scope, draft);
            }
            let scope = &*scope;
            let side = {
                let stage = RequestStage { draft, scope, path_values };
                policy.behavior.side_request(&stage)?
            };
            if let Some(side) = side {
                let body = self.side_call(draft, side, ctx, exchanges).await?;
                let mut stage = RequestStage { draft, scope, path_values };
                policy.behavior.on_side_response(&mut stage, &body)?;
            }
            let mut stage = RequestStage { draft, scope, path_values };
            policy.behavior.on_request(&mut stage)?;
        }
        Ok(())
    }

    /// A `setvaluefromurl` call: same base URL, same security, its JSON body back.
    async fn side_call(
        &self,
        draft: &HttpDraft,
        side: crate::policy::SideRequest,
        ctx: &Ctx<'_>,
        exchanges: &mut Vec<ExchangeRecord>,
    ) -> Result<Value, InvokeError> {
        let (path, query) = side.path_and_query.split_once('?').unwrap_or((&side.path_and_query, ""));
        let mut side_draft = HttpDraft {
            method: side.method,
            base_url: draft.base_url.clone(),
            path: path.to_string(),
            query: url::form_urlencoded::parse(query.as_bytes()).into_owned().collect(),
            headers: HeaderMap::new(),
            body: DraftBody::None,
        };
        self.secure_draft(&mut side_draft, ctx.connector, ctx.operation, ctx.connection).await?;
        let response = self.send_recorded(side_draft.into_wire()?, ctx.connection, &[], exchanges).await?;
        if !response.status.is_success() {
            let reason = format!("its lookup call answered {}", response.status);
            return Err(InvokeError::Policy(PolicyError::Failed {
                policy: "setvaluefromurl".into(),
                reason,
            }));
        }
        Ok(serde_json::from_slice(&response.body).unwrap_or(Value::Null))
    }

    /// Sends once (with the retry policy) and, on a 401 to an OAuth call, refreshes the token and
    /// sends again; `extra_secrets` are masked in the records besides the connection's.
    pub(crate) async fn send_first(
        &self,
        wire: &WireRequest,
        link: &Link<'_>,
        extra_secrets: &[&str],
        exchanges: &mut Vec<ExchangeRecord>,
    ) -> Result<WireResponse, InvokeError> {
        let first = self.send_recorded(wire.clone(), link.connection, extra_secrets, exchanges).await?;
        if first.status != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        // Rare paths are boxed so the common path's future stays small.
        Box::pin(self.retry_unauthorized(first, wire.clone(), link, extra_secrets, exchanges)).await
    }

    /// Sends with the retry policy and, when asked, records the exchange, masked.
    async fn send_recorded(
        &self,
        wire: WireRequest,
        connection: &ConnectionValues,
        extra_secrets: &[&str],
        exchanges: &mut Vec<ExchangeRecord>,
    ) -> Result<WireResponse, InvokeError> {
        let secrets = || {
            let mut all = connection.secrets();
            all.extend(extra_secrets.iter().map(|s| s.to_string()));
            all
        };
        let request = self.options.record_exchanges.then(|| describe_request(&wire, &secrets()));
        let result = self.transport.send_with_retry(wire, &self.options.retry).await;
        if let Some(request) = request {
            let response = result.as_ref().ok().map(|r| describe_response(r, &secrets()));
            exchanges.push(ExchangeRecord { request, response });
        }
        result.map_err(|e: TransportError| InvokeError::Transport(mask(&e.to_string(), &secrets())))
    }

    /// On a 401 to an OAuth call: refresh the token once and send again.
    async fn retry_unauthorized(
        &self,
        first: WireResponse,
        wire: WireRequest,
        link: &Link<'_>,
        extra_secrets: &[&str],
        exchanges: &mut Vec<ExchangeRecord>,
    ) -> Result<WireResponse, InvokeError> {
        if first.status != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let Ok(Credential::OAuth(_)) = select_credential(&link.connector.connector, link.connection) else {
            return Ok(first);
        };
        let sent = wire.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = sent.strip_prefix("Bearer ").unwrap_or(sent);
        let Ok(outcome) = self.tokens.on_rejected_token(&link.connection.id, token).await else {
            return Ok(first);
        };
        let mut again = wire;
        let bearer = format!("Bearer {}", outcome.tokens.access_token);
        if let Ok(mut value) = http::HeaderValue::from_str(&bearer) {
            value.set_sensitive(true);
            again.headers.insert(http::header::AUTHORIZATION, value);
        }
        let mut secrets = extra_secrets.to_vec();
        secrets.push(&outcome.tokens.access_token);
        self.send_recorded(again, link.connection, &secrets, exchanges).await
    }

    /// Polls a 202 answer until it is done, within the bounds.
    async fn complete(
        &self,
        first: WireResponse,
        wire: &WireRequest,
        ctx: &Ctx<'_>,
        exchanges: &mut Vec<ExchangeRecord>,
    ) -> Result<WireResponse, InvokeError> {
        let secrets = ctx.connection.secrets();
        let secrets = secrets.as_slice();
        let record = self.options.record_exchanges;
        let headers = auth_headers(&wire.headers);
        let result =
            self.transport.poll_until_done(first, &wire.url, headers, &self.options.long_running).await;
        result
            .inspect(|r| {
                if !record {
                    return;
                }
                let response = Some(describe_response(r, secrets));
                exchanges.push(ExchangeRecord {
                    request: format!("GET (polling {})", mask(wire.url.as_str(), secrets)),
                    response,
                });
            })
            .map_err(|e: LongRunningError| InvokeError::LongRunning(mask(&e.to_string(), secrets)))
    }

    /// Follows next links when the operation is pageable and the options ask for it.
    async fn pages(
        &self,
        plan: &OperationPlan,
        response: WireResponse,
        wire: &WireRequest,
    ) -> Result<WireResponse, InvokeError> {
        let (Some(name), Some(limit)) = (&plan.next_link_name, self.options.page_limit) else {
            return Ok(response);
        };
        if !response.status.is_success() {
            return Ok(response);
        }
        let options = PageOptions { limit, ..PageOptions::new(name) };
        let headers = auth_headers(&wire.headers);
        let merged = self
            .transport
            .collect_pages(response.clone(), &wire.url, &options, headers)
            .await
            .map_err(|e: PagingError| InvokeError::Paging(e.to_string()))?;
        Ok(WireResponse { body: bytes::Bytes::from(merged.to_string()), ..response })
    }
}

/// What the pipeline's steps share about the call.
pub(crate) struct Ctx<'a> {
    pub(crate) plan: &'a OperationPlan,
    pub(crate) connector: &'a CompiledConnector,
    pub(crate) operation: &'a Operation,
    pub(crate) connection: &'a ConnectionValues,
}

impl<'a> Ctx<'a> {
    /// The connector and connection the call is made for.
    pub(crate) fn link(&self) -> Link<'a> {
        Link { connector: self.connector, connection: self.connection }
    }
}

/// Who a request is sent for: the connector and the connection (secrets to mask, tokens to renew).
pub(crate) struct Link<'a> {
    pub(crate) connector: &'a CompiledConnector,
    pub(crate) connection: &'a ConnectionValues,
}

/// Finds the call's operation and gathers what every step needs.
pub(crate) fn resolve<'a>(call: &Call<'a>) -> Result<(&'a OperationPlan, Ctx<'a>), InvokeError> {
    let unknown = || InvokeError::UnknownOperation(call.operation_id.into());
    let plan = call.connector.operation(call.operation_id).ok_or_else(unknown)?;
    let (_, operation) = call.connector.connector.operation(call.operation_id).ok_or_else(unknown)?;
    let ctx = Ctx { plan, connector: call.connector, operation, connection: call.connection };
    Ok((plan, ctx))
}

/// A URL for security steps that only set headers.
fn placeholder_url() -> &'static url::Url {
    static URL: std::sync::OnceLock<url::Url> = std::sync::OnceLock::new();
    URL.get_or_init(|| url::Url::parse("http://patchbay.invalid/").expect("a constant URL parses"))
}

/// The part of the policy scope that does not change during a call.
pub(crate) fn scope_base(plan: &OperationPlan, connection: &ConnectionValues) -> PolicyScope {
    PolicyScope {
        connection: connection.values.clone(),
        original_method: plan.method.as_str().to_string(),
        ..PolicyScope::default()
    }
}

/// The operation's path parameter values, encoded as the path encodes them.
fn path_values(plan: &OperationPlan, inputs: &Inputs) -> Result<Vec<(String, String)>, BindError> {
    let mut out = Vec::new();
    for p in plan.parameters.iter().filter(|p| p.location == Location::Path) {
        if let Some(v) = value_for(p, inputs)? {
            out.push((p.name.clone(), encode_path_value(&to_text(v), p.url_encoding.unwrap_or_default())));
        }
    }
    Ok(out)
}

/// Brings a request policy's scope up to date with the draft as it is now.
fn refresh_scope(scope: &mut PolicyScope, draft: &HttpDraft) {
    scope.headers = draft
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
        .collect();
    scope.query.clone_from(&draft.query);
    scope.body = match &draft.body {
        DraftBody::Json(v) => v.clone(),
        _ => Value::Null,
    };
}

/// Headers a poll or a next page needs: authorization and API keys set by security or policies.
pub(crate) fn auth_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        if name != http::header::CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// Decodes the final response and runs the response (and, on errors, failure) policies.
pub(crate) fn respond(
    plan: &OperationPlan,
    wire: WireResponse,
    connection: &ConnectionValues,
) -> Result<(InvokeResponse, bool), InvokeError> {
    let mut result = InvokeResponse::from_wire(wire);
    let mut flags = ResponseFlags::default();
    let failure = result.status.is_client_error() || result.status.is_server_error();
    let policies = plan.policies.response.iter().chain(plan.policies.failure.iter().filter(|_| failure));
    let mut scope: Option<PolicyScope> = None;
    for policy in policies {
        let scope = scope.get_or_insert_with(|| scope_base(plan, connection));
        scope.body = result.body.to_value();
        let mut stage = ResponseStage {
            status: result.status,
            headers: &mut result.headers,
            body: &mut result.body,
            scope,
            flags: &mut flags,
        };
        policy.behavior.on_response(&mut stage)?;
    }
    if let (Some(validator), crate::response::ResponseBody::Json(body), false) =
        (&plan.response_validator, &result.body, failure)
    {
        result.schema_warnings = validator
            .iter_errors(body)
            .take(10)
            .map(|e| format!("{}: {}", e.instance_path(), e.masked()))
            .collect();
    }
    Ok((result, flags.unauthenticated))
}

/// `METHOD URL`, headers and body, masked.
fn describe_request(wire: &WireRequest, secrets: &[String]) -> String {
    let mut out = format!("{} {}\n", wire.method, wire.url);
    append_headers(&mut out, &wire.headers);
    if !wire.body.is_empty() {
        out.push('\n');
        out.push_str(&excerpt(&wire.body, 4000));
    }
    mask(&out, secrets)
}

/// Status, headers and body, masked.
fn describe_response(wire: &WireResponse, secrets: &[String]) -> String {
    let mut out = format!("{}\n", wire.status);
    append_headers(&mut out, &wire.headers);
    if !wire.body.is_empty() {
        out.push('\n');
        out.push_str(&excerpt(&wire.body, 4000));
    }
    mask(&out, secrets)
}

/// Appends headers, hiding credentials whatever their value.
fn append_headers(out: &mut String, headers: &HeaderMap) {
    for (name, value) in headers {
        let shown = if value.is_sensitive()
            || name == http::header::AUTHORIZATION
            || name == http::header::PROXY_AUTHORIZATION
        {
            "***".to_string()
        } else {
            value.to_str().unwrap_or("<binary>").to_string()
        };
        out.push_str(&format!("{name}: {shown}\n"));
    }
}
