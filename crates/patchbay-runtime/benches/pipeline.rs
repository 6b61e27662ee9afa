//! Benchmark of the request pipeline, against baselines measured in the same run:
//! 1. the cost of building one request (bind, API-key security, two policies) without the network,
//!    against building the same request by hand;
//! 2. end-to-end throughput through the pipeline against a local backend, against sending the
//!    same request directly with the same client, at the same concurrency.
//!
//! Run: `cargo bench -p patchbay-runtime --bench pipeline`.

use patchbay_runtime::bind::Inputs;
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::transport::{RetryPolicy, TransportOptions};
use patchbay_runtime::{Call, Runtime, RuntimeOptions, WireRequest};
use patchbay_spec::fields::Ctx;
use patchbay_spec::package::{read_properties, read_swagger};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The allocator the `patchbay` binary uses, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BUILD_ITERATIONS: u32 = 100_000;
const CONCURRENCY: usize = 16;
const DURATION: Duration = Duration::from_secs(3);

fn connector(host: &str) -> CompiledConnector {
    let swagger = json!({"swagger": "2.0", "info": {"title": "Bench", "version": "1"}, "host": host, "basePath": "/v1",
    "schemes": ["http"], "produces": ["application/json"],
    "securityDefinitions": {"api_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
    "paths": {"/tasks/{taskId}": {"get": {"operationId": "GetTask", "responses": {"200": {"description": "ok"}},
        "parameters": [
            {"name": "taskId", "in": "path", "required": true, "type": "string"},
            {"name": "expand", "in": "query", "type": "string"}
        ]}}}});
    let properties = json!({"properties": {
    "connectionParameters": {"api_key": {"type": "securestring"}, "tenant": {"type": "string"}},
    "policyTemplateInstances": [
        {"templateId": "setheader", "parameters": {"x-ms-apimTemplateParameter.name": "X-Tenant",
            "x-ms-apimTemplateParameter.value": "@connectionParameters('tenant')"}},
        {"templateId": "setqueryparameter", "parameters": {"x-ms-apimTemplateParameter.name": "format",
            "x-ms-apimTemplateParameter.value": "json"}}
    ]}});
    let mut diagnostics = Vec::new();
    let mut ctx = Ctx { file: "bench", diagnostics: &mut diagnostics };
    let mut c = read_swagger(swagger, &Default::default(), &mut ctx);
    read_properties(properties, &mut c, &mut ctx);
    CompiledConnector::compile(Arc::new(c))
}

fn runtime() -> Runtime {
    let transport = TransportOptions { allow_loopback: true, ..TransportOptions::default() };
    Runtime::new(transport, RuntimeOptions { retry: RetryPolicy::None, ..RuntimeOptions::default() }).unwrap()
}

/// The same request built by hand: the floor for part 1.
fn by_hand(host: &str) -> WireRequest {
    let url = url::Url::parse(&format!("http://{host}/v1/tasks/t-42?expand=comments&format=json")).unwrap();
    let mut request = WireRequest::new(http::Method::GET, url);
    request.headers.insert("accept", "application/json".parse().unwrap());
    request.headers.insert("x-api-key", "key-123".parse().unwrap());
    request.headers.insert("x-tenant", "contoso".parse().unwrap());
    request
}

async fn build_cost(rt: &Runtime, c: &CompiledConnector, connection: &ConnectionValues, inputs: &Inputs) {
    let start = Instant::now();
    for _ in 0..BUILD_ITERATIONS {
        std::hint::black_box(by_hand("api.example.com"));
    }
    let hand = start.elapsed() / BUILD_ITERATIONS;
    let start = Instant::now();
    for _ in 0..BUILD_ITERATIONS {
        let call = Call { connector: c, operation_id: "GetTask", connection, inputs };
        std::hint::black_box(rt.prepare(call).await.unwrap());
    }
    let pipeline = start.elapsed() / BUILD_ITERATIONS;
    println!("build one request ({BUILD_ITERATIONS} times):");
    println!("  baseline, by hand:                        {:>8.2} µs", hand.as_secs_f64() * 1e6);
    println!(
        "  pipeline (bind, API key, two policies):   {:>8.2} µs  ({:.1}x the baseline)",
        pipeline.as_secs_f64() * 1e6,
        pipeline.as_secs_f64() / hand.as_secs_f64()
    );
}

/// Runs `CONCURRENCY` loops of `f` for `DURATION`; returns calls per second.
async fn throughput<F, Fut>(f: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + DURATION;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (f, done) = (f.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    f().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / DURATION.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = axum::Router::new().route(
        "/v1/tasks/{id}",
        axum::routing::get(|| async {
            axum::Json(json!({"id": "t-42", "title": "Write the docs", "done": false}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let rt = runtime();
    let compiled = Arc::new(connector(&addr));
    let connection = Arc::new(
        ConnectionValues::new("bench")
            .with_value("api_key", "key-123")
            .with_value("tenant", "contoso")
            .with_secrets_from(&compiled.connector),
    );
    let inputs = Arc::new(json!({"taskId": "t-42", "expand": "comments"}).as_object().cloned().unwrap());
    let offline = connector("api.example.com");
    build_cost(&rt, &offline, &connection, &inputs).await;

    let (mut direct, mut through, mut prepared) = (0.0_f64, 0.0_f64, 0.0_f64);
    // Alternate the two, twice, and keep the best of each, so warm-up and noise favour neither.
    for _ in 0..2 {
        let (transport, request) = (rt.transport.clone(), by_hand(&addr));
        let d = throughput(move || {
            let (t, r) = (transport.clone(), request.clone());
            async move {
                assert_eq!(t.send(r).await.unwrap().status, 200);
            }
        })
        .await;
        let (rt2, c2, conn2, in2) = (rt.clone(), compiled.clone(), connection.clone(), inputs.clone());
        let p = throughput(move || {
            let (rt, c, conn, inputs) = (rt2.clone(), c2.clone(), conn2.clone(), in2.clone());
            async move {
                let call =
                    Call { connector: &c, operation_id: "GetTask", connection: &conn, inputs: &inputs };
                rt.invoke(call).await.unwrap();
            }
        })
        .await;
        // Breakdown: the request built by the pipeline, sent directly (no decoding, no response stage).
        let (rt3, c3, conn3, in3) = (rt.clone(), compiled.clone(), connection.clone(), inputs.clone());
        let b = throughput(move || {
            let (rt, c, conn, inputs) = (rt3.clone(), c3.clone(), conn3.clone(), in3.clone());
            async move {
                let call =
                    Call { connector: &c, operation_id: "GetTask", connection: &conn, inputs: &inputs };
                let wire = rt.prepare(call).await.unwrap();
                assert_eq!(rt.transport.send(wire).await.unwrap().status, 200);
            }
        })
        .await;
        direct = direct.max(d);
        through = through.max(p);
        prepared = prepared.max(b);
    }
    println!(
        "end to end against a local backend, concurrency {CONCURRENCY}, best of 2 runs of {DURATION:?}:"
    );
    println!("  baseline, same request sent directly:     {direct:>8.0} calls/s");
    println!(
        "  breakdown: pipeline-built, sent directly: {prepared:>8.0} calls/s  ({:.0}% of direct)",
        100.0 * prepared / direct
    );
    println!(
        "  through the pipeline:                     {through:>8.0} calls/s  ({:.0}% of direct)",
        100.0 * through / direct
    );
}
