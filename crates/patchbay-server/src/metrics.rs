//! Prometheus metrics at `/metrics` (requests by method, route and status; their latency;
//! invocations per connector and backend status; one recorder per process), and one log line per
//! request.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding program); ours then stays empty.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Middleware: counts each request, records its duration (labelled by route template) and logs it.
pub async fn track(request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_string();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed();
    // One log line per request: no bodies, no query strings, no headers (they may carry secrets).
    tracing::info!(target: "patchbay::http", %method, %route, %status, ms = elapsed.as_secs_f64() * 1e3, "request");
    let labels = [("method", method), ("route", route)];
    metrics::histogram!("patchbay_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    let [method, route] = labels;
    metrics::counter!("patchbay_http_requests_total", &[method, route, ("status", status)]).increment(1);
    response
}

/// Counts one invocation of a connector's operation and the backend's answer (0: no answer).
pub fn invocation(connector: &str, status: u16) {
    let labels = [("connector", connector.to_string()), ("status", status.to_string())];
    metrics::counter!("patchbay_invocations_total", &labels).increment(1);
}

/// `GET /metrics`: the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "getMetrics",
    tag = "health",
    summary = "Prometheus metrics",
    description = "`patchbay_http_requests_total{method, route, status}`, \
                   `patchbay_http_request_duration_seconds{method, route}` and \
                   `patchbay_invocations_total{connector, status}`, in the Prometheus text format.",
    responses((status = 200, description = "The metrics", content_type = "text/plain", body = String))
)]
pub async fn render() -> String {
    handle().render()
}
