//! The catalogue: only an admin who can edit a connector publishes it, only when it passes the
//! certification checklist; a published connector is usable from every environment.

mod common;

use common::{Harness, contoso, upload_contoso};

server_test!(only_certified_connectors_are_published_and_everyone_can_use_them, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let publish = format!("/api/connectors/{connector}/publish");

    // A maker of another environment neither sees it nor can publish it.
    let sam = h.other_environment_user().await;
    let (status, _) = sam.post(&publish, serde_json::json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = sam.get(&format!("/api/connectors/{connector}")).await;
    assert_eq!(status, 404, "not published yet");

    // The sample package passes the checklist: the admin publishes it.
    let (status, body) = h.admin.post(&publish, serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, list) = sam.get("/api/catalogue").await;
    assert_eq!(status, 200);
    assert!(list.to_string().contains(&connector), "{list}");
    let (status, _) = sam.get(&format!("/api/connectors/{connector}")).await;
    assert_eq!(status, 200, "published connectors are usable everywhere");

    // A revision that fails the checklist (no publisher, no metadata) cannot be published again.
    let mut upload = common::contoso_upload(&api);
    let properties = upload["apiProperties"].as_str().unwrap().replace(r#""publisher""#, r#""publisherX""#);
    upload["apiProperties"] = serde_json::Value::String(properties);
    upload.as_object_mut().unwrap().remove("name");
    let (status, body) = h.admin.put(&format!("/api/connectors/{connector}"), upload).await;
    assert!(status == 200 || status == 201, "{body}");
    let (status, body) = h.admin.post(&publish, serde_json::json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["diagnostics"].to_string().contains("PB0901"), "{body}");

    let (status, _) = h.admin.delete(&publish).await;
    assert_eq!(status, 200);
    let (_, list) = sam.get("/api/catalogue").await;
    assert!(!list.to_string().contains(&connector));
    h.stop().await;
    api.shutdown().await.unwrap();
});
