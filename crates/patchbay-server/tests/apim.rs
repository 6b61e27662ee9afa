//! `/apim/{connector}/{connection}/{path…}`: calls addressed by method and path, as Logic Apps'
//! `ApiConnection` actions write them, reach the right operation and pass the answer through.

mod common;

use common::{Harness, connect, contoso, upload_contoso};
use serde_json::{Value, json};

server_test!(method_and_path_reach_the_operation_and_the_answer_passes_through, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let base = format!("/apim/{connector}/{connection}");

    let (status, project) = h.admin.post(&format!("{base}/projects"), json!({"name": "Through apim"})).await;
    assert_eq!(status, 201, "the backend's status passes through: {project}");
    assert_eq!(project["name"], "Through apim");
    let id = project["id"].as_str().unwrap().to_string();

    let (status, task) =
        h.admin.post(&format!("{base}/projects/{id}/tasks"), json!({"title": "Path param"})).await;
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["projectId"], Value::String(id.clone()));

    let (status, list) = h.admin.get(&format!("{base}/projects/{id}/tasks?$top=1")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["value"].as_array().unwrap().len(), 1);

    // The connector may also be named by its name; an unknown path or another connector is a 404.
    let (status, _) = h.admin.get(&format!("/apim/Contoso%20Tasks/{connection}/projects")).await;
    assert_eq!(status, 200);
    let (status, body) = h.admin.get(&format!("{base}/no/such/path")).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = h.admin.get(&format!("/apim/ctr_other/{connection}/projects")).await;
    assert_eq!(status, 404);
    let (_, stranger) = h.user("stranger@example.com").await;
    let (status, _) = stranger.get(&format!("{base}/projects")).await;
    assert_eq!(status, 404, "another user's connection stays hidden");
    h.stop().await;
    api.shutdown().await.unwrap();
});
