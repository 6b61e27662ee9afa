//! Portal page times with a big store: 500 connectors and 10,000 runs of one flow (seeded beside
//! the store), on SQLite and PostgreSQL. Every page is fetched several times; the server's own time
//! (its `Server-Timing` header) must stay under 200 ms. The figures are printed (`--nocapture`).

mod common;

use common::{Harness, connect, contoso, contoso_upload, upload_contoso};
use patchbay_store::ConnectorPackage;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;

/// The most a page may take on the server.
const BUDGET_MS: f64 = 200.0;
/// Fetches per page.
const TRIES: usize = 5;

server_test!(every_page_renders_within_budget_with_500_connectors_and_10000_runs, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let upload = contoso_upload(&api);
    let package = ConnectorPackage {
        api_definition: upload["apiDefinition"].as_str().unwrap().to_owned(),
        api_properties: upload["apiProperties"].as_str().unwrap().to_owned(),
        script: None,
        icon: None,
    };
    let admin = h.store.people().authenticate_token(h.admin.token()).await.unwrap().unwrap();
    for n in 1..500 {
        h.store.connectors().create(&admin.id, &format!("Seeded connector {n:03}"), &package).await.unwrap();
    }
    let [(_, sample), _] = contoso_tasks::SAMPLE_FLOWS;
    let definition: serde_json::Value = serde_json::from_str(sample).unwrap();
    let (_, flow) = h
        .admin
        .post(
            "/api/flows",
            json!({"name": "Busy", "definition": definition, "connections": {"contoso": connection}}),
        )
        .await;
    let flow = flow["id"].as_str().unwrap().to_owned();
    let seeded = db
        .raw_execute(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) \
             INSERT INTO runs (id, flow_id, revision, status, trigger_outputs, created_ms, started_ms, ended_ms) \
             SELECT 'run_seed' || (1000000000 + i), '{flow}', 1, 'Succeeded', '{{\"body\": {{}}}}', \
             1700000000000 + i, 1700000000000 + i, 1700000000005 + i FROM n"
        ))
        .await
        .expect("runs seeded");
    assert_eq!(seeded, 10_000);
    let run = "run_seed1000005000";

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed = http
        .post(format!("{}/portal/login", h.server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", h.admin.token()))
        .send()
        .await
        .unwrap();
    let cookie = signed.headers()[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let pages = [
        "/portal/connectors".to_owned(),
        "/portal/connectors?page=10".to_owned(),
        "/portal/connectors?q=connector+4".to_owned(),
        format!("/portal/connectors/{connector}"),
        format!("/portal/connections/new?connector={connector}"),
        "/portal/connections".to_owned(),
        format!("/portal/connections/{connection}"),
        format!("/portal/connections/{connection}/try?operation=CreateTask"),
        "/portal/flows".to_owned(),
        format!("/portal/flows/{flow}"),
        format!("/portal/flows/{flow}?before={run}"),
        format!("/portal/runs/{run}"),
    ];
    println!("page times ({:?}; server-side ms, median and max of {TRIES}):", db.kind);
    for path in &pages {
        let mut times = Vec::new();
        for _ in 0..TRIES {
            let response =
                http.get(format!("{}{path}", h.server.url)).header(COOKIE, &cookie).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let timing = response.headers()["server-timing"].to_str().unwrap().to_owned();
            let millis: f64 = timing.trim_start_matches("app;dur=").parse().unwrap();
            let body = response.text().await.unwrap();
            assert!(body.contains("</html>"), "{path}");
            times.push(millis);
        }
        times.sort_by(f64::total_cmp);
        let (median, max) = (times[TRIES / 2], times[TRIES - 1]);
        println!("  {median:7.1} {max:7.1}  {path}");
        assert!(median < BUDGET_MS, "{path} took {median} ms on the server (budget {BUDGET_MS} ms)");
    }
    api.shutdown().await.unwrap();
    h.server.shutdown().await.unwrap();
});
