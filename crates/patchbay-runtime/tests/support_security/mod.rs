//! Helpers for the security tests: an HTTP client adapter, a recording/echoing server, the
//! Contoso Tasks server, and connector builders. Everything runs on real sockets on 127.0.0.1.
#![allow(dead_code, unused_imports, missing_docs)]

use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use contoso_tasks::{Config, OAuthClient, Running};
use http::{HeaderMap, Method, StatusCode};
use patchbay_runtime::security::{
    ConnectionValues, HttpSend, SendFuture, TokenManager, TokenSet, authorization_url, pkce_pair,
};
use patchbay_runtime::transport::TransportError;
use patchbay_runtime::{WireRequest, WireResponse};
use patchbay_spec::Connector;
use patchbay_spec::model::{
    ConnectionParameter, ConnectionParameterType, IdentityProvider, Location, OAuthSettings, ParameterSet,
    ParameterSets, SecurityScheme, SecuritySchemeKind,
};
use serde_json::{Map, Value, json};
use url::Url;

pub use contoso_tasks::{DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

/// The redirect URL used for sign-ins (never contacted: the redirect is read, not followed).
pub const REDIRECT_URL: &str = "http://127.0.0.1:9/callback";

/// Installs the ring crypto provider for reqwest (rustls without a built-in provider).
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A plain reqwest client that sends wire requests as they are (no redirects, no proxy).
#[derive(Clone)]
pub struct ReqwestSend(pub reqwest::Client);

impl ReqwestSend {
    pub fn new() -> Self {
        init();
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("reqwest client");
        ReqwestSend(client)
    }

    /// Sends and reads the whole response.
    pub async fn send(&self, request: WireRequest) -> Result<WireResponse, TransportError> {
        let response = self
            .0
            .request(request.method, request.url)
            .headers(request.headers)
            .body(request.body)
            .send()
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| TransportError::Other(e.to_string()))?;
        Ok(WireResponse { status, headers, body })
    }
}

impl HttpSend for ReqwestSend {
    fn send_http(&self, request: WireRequest) -> SendFuture<'_> {
        Box::pin(self.send(request))
    }
}

/// A token manager over [`ReqwestSend`].
pub fn token_manager() -> TokenManager {
    TokenManager::new(Arc::new(ReqwestSend::new()))
}

/// Sends a request with a fresh client.
pub async fn send(request: WireRequest) -> WireResponse {
    ReqwestSend::new().send(request).await.expect("request sent")
}

/// `GET url`.
pub fn get(url: &str) -> WireRequest {
    WireRequest::new(Method::GET, Url::parse(url).expect("url"))
}

// ---------------------------------------------------------------- recording server

/// One request as the recording server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

#[derive(Clone)]
struct RecorderState {
    upstream: Option<String>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    client: reqwest::Client,
}

/// A server that records every request, then forwards it to `upstream` (answering with the
/// upstream's response) or, without one, echoes it back as JSON.
pub struct Recorder {
    pub base_url: String,
    pub host: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    pub async fn start(upstream: Option<&str>) -> Recorder {
        init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = RecorderState {
            upstream: upstream.map(str::to_string),
            requests: Arc::clone(&requests),
            client: ReqwestSend::new().0,
        };
        let app = Router::new().fallback(record).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Recorder { base_url: format!("http://{addr}"), host: addr.to_string(), requests }
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn record(State(state): State<RecorderState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    state.requests.lock().unwrap().push(recorded.clone());
    match &state.upstream {
        Some(upstream) => forward(&state.client, upstream, parts, body).await,
        None => axum::Json(echo(&recorded)).into_response(),
    }
}

fn echo(r: &Recorded) -> Value {
    let headers: Map<String, Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_str().unwrap_or("").to_string())))
        .collect();
    json!({ "method": r.method, "path": r.path, "query": r.query, "headers": headers, "body": r.body })
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    parts: http::request::Parts,
    body: Bytes,
) -> Response {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers.clone();
    headers.remove(http::header::HOST);
    headers.remove(http::header::CONTENT_LENGTH);
    let sent =
        client.request(parts.method, format!("{upstream}{path}")).headers(headers).body(body).send().await;
    let Ok(response) = sent else {
        return (StatusCode::BAD_GATEWAY, "upstream unreachable").into_response();
    };
    let status = response.status();
    let mut headers = response.headers().clone();
    headers.remove(http::header::TRANSFER_ENCODING);
    headers.remove(http::header::CONTENT_LENGTH);
    let body = response.bytes().await.unwrap_or_default();
    (status, headers, body).into_response()
}

// ---------------------------------------------------------------- Contoso Tasks

/// Starts Contoso Tasks with this access token lifetime; its demo client requires PKCE.
pub async fn contoso(ttl: Duration) -> Running {
    init();
    let client = OAuthClient { require_pkce: true, ..OAuthClient::default() };
    let config = Config { access_token_ttl: ttl, oauth_clients: vec![client], ..Config::default() };
    contoso_tasks::start(config).await.expect("contoso-tasks starts")
}

/// Token-endpoint calls per grant type (`/oauth/stats`).
pub async fn stats(base_url: &str) -> Value {
    let response = send(get(&format!("{base_url}/oauth/stats"))).await;
    serde_json::from_slice(&response.body).expect("stats JSON")
}

/// One grant's count from `/oauth/stats`.
pub async fn grant_calls(base_url: &str, grant: &str) -> u64 {
    stats(base_url).await[grant].as_u64().expect("count")
}

/// The status of `GET {base}/projects` sent with the request's headers.
pub async fn api_status(base_url: &str, prepared: &WireRequest) -> StatusCode {
    let mut request = get(&format!("{base_url}/projects"));
    request.headers = prepared.headers.clone();
    send(request).await.status
}

/// Signs in with the authorization code flow (PKCE): builds the authorization URL, reads the
/// server's redirect, checks `state`, and exchanges the code.
pub async fn sign_in(
    tokens: &TokenManager,
    settings: &OAuthSettings,
    connection: &ConnectionValues,
) -> TokenSet {
    let (verifier, challenge) = pkce_pair().expect("pkce");
    let url =
        authorization_url(settings, REDIRECT_URL, "state-1", Some(&challenge), connection).expect("url");
    let (code, state) = follow_authorize(url.as_str()).await;
    assert_eq!(state, "state-1");
    tokens
        .exchange_code(settings, connection, &code, Some(&verifier), REDIRECT_URL)
        .await
        .expect("code exchange")
}

/// Calls an authorization URL and reads `code` and `state` from the redirect it answers with.
pub async fn follow_authorize(url: &str) -> (String, String) {
    let response = send(get(url)).await;
    assert_eq!(response.status, StatusCode::FOUND, "authorize answered {:?}", response.body);
    let location = Url::parse(response.header("location").expect("Location")).expect("redirect URL");
    assert!(location.as_str().starts_with(REDIRECT_URL), "redirected to {location}");
    let param = |name: &str| location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("error"), None, "authorize error: {:?}", param("error_description"));
    (param("code").expect("code"), param("state").expect("state"))
}

// ---------------------------------------------------------------- connector builders

/// A connection parameter of a type.
pub fn parameter(name: &str, kind: &str) -> ConnectionParameter {
    ConnectionParameter {
        name: name.into(),
        kind: Some(ConnectionParameterType::parse(kind)),
        default_value: None,
        allowed_values: Vec::new(),
        ui: None,
        oauth: None,
        extra: Map::new(),
    }
}

/// An `oauthSetting` parameter named `token`.
pub fn token_parameter(settings: OAuthSettings) -> ConnectionParameter {
    ConnectionParameter { oauth: Some(settings), ..parameter("token", "oauthSetting") }
}

/// A security definition.
pub fn scheme(name: &str, kind: SecuritySchemeKind) -> SecurityScheme {
    SecurityScheme { name: name.into(), kind, description: None, extra: Map::new() }
}

/// An `apiKey` definition.
pub fn api_key_scheme(name: &str, header: &str, location: Location) -> SecurityScheme {
    scheme(name, SecuritySchemeKind::ApiKey { name: header.into(), location })
}

/// An `oauth2` definition.
pub fn oauth2_scheme() -> SecurityScheme {
    scheme(
        "oauth2_auth",
        SecuritySchemeKind::OAuth2 {
            flow: Some("accessCode".into()),
            authorization_url: None,
            token_url: None,
            scopes: Map::new(),
        },
    )
}

/// A connector with these definitions and plain connection parameters.
pub fn connector(schemes: Vec<SecurityScheme>, parameters: Vec<ConnectionParameter>) -> Connector {
    let mut c = Connector::default();
    c.security.schemes = schemes;
    c.security.connection_parameters = parameters;
    c
}

/// A connector with these definitions and parameter sets.
pub fn connector_with_sets(
    schemes: Vec<SecurityScheme>,
    sets: Vec<(&str, Vec<ConnectionParameter>)>,
) -> Connector {
    let mut c = connector(schemes, Vec::new());
    let values = sets
        .into_iter()
        .map(|(name, parameters)| ParameterSet { name: name.into(), parameters, ..ParameterSet::default() })
        .collect();
    c.security.parameter_sets = Some(ParameterSets { values, ..ParameterSets::default() });
    c
}

/// OAuth settings of a provider with these custom parameters and the demo client.
pub fn oauth_settings(provider: &str, custom: Value) -> OAuthSettings {
    OAuthSettings {
        identity_provider: IdentityProvider::parse(provider),
        client_id: Some(DEMO_CLIENT_ID.into()),
        client_secret: Some(DEMO_CLIENT_SECRET.into()),
        scopes: vec!["tasks".into()],
        redirect_mode: None,
        redirect_url: None,
        properties: Map::new(),
        custom_parameters: custom.as_object().cloned().unwrap_or_default(),
        extra: Map::new(),
    }
}

/// `oauth2` settings pointing at a Contoso Tasks server (or a recorder in front of it).
pub fn contoso_oauth2(base_url: &str) -> OAuthSettings {
    oauth_settings(
        "oauth2",
        json!({
            "authorizationUrl": { "value": format!("{base_url}/oauth/authorize") },
            "tokenUrl": { "value": format!("{base_url}/oauth/token") },
            "refreshUrl": { "value": format!("{base_url}/oauth/token") }
        }),
    )
}

/// A connector whose only parameter is the OAuth `token`.
pub fn oauth_connector(settings: OAuthSettings) -> Connector {
    connector(vec![oauth2_scheme()], vec![token_parameter(settings)])
}

/// The OAuth settings of a connector built by [`oauth_connector`].
pub fn settings_of(connector: &Connector) -> &OAuthSettings {
    connector.security.connection_parameters[0].oauth.as_ref().expect("oauth settings")
}
