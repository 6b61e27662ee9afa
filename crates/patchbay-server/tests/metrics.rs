//! `/metrics` counts requests by route and status, and invocations per connector and backend status.

mod common;

use common::{Harness, connect, contoso, create_project, upload_contoso};

server_test!(metrics_count_requests_and_invocations, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (status, _) = create_project(&h.admin, &connection, "Counted").await;
    assert_eq!(status, 200);
    let (status, _) = h.admin.get("/healthz").await;
    assert_eq!(status, 200);
    let text = h.admin.raw(reqwest::Method::GET, "/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains("patchbay_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"),
        "{text}"
    );
    let invoke_route = "route=\"/api/connections/{id}/operations/{operation}\"";
    assert!(text.contains(invoke_route), "{text}");
    let invocation = format!("patchbay_invocations_total{{connector=\"{connector}\",status=\"201\"}}");
    assert!(text.contains(&invocation), "{text}");
    assert!(text.contains("patchbay_http_request_duration_seconds"), "{text}");
    h.stop().await;
    api.shutdown().await.unwrap();
});
