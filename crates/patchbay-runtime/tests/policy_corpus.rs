//! Real connector packages from the shared corpus: every policy instance of an implemented template
//! compiles, and the Planner chains (string to array, encode, replace, array ↔ object) turn real
//! request and response bodies into what Microsoft Graph expects and back.

use http::{HeaderMap, Method, StatusCode};
use patchbay_runtime::draft::{DraftBody, HttpDraft};
use patchbay_runtime::policy::{
    PolicyError, PolicyScope, PolicySet, RequestStage, ResponseFlags, ResponseStage, next_link_location,
    polling_trigger_config,
};
use patchbay_runtime::response::ResponseBody;
use patchbay_spec::Connector;
use patchbay_spec::model::PolicyTemplate;
use serde_json::{Value, json};
use std::path::PathBuf;

/// `/work/shared/corpus/connectors`, found from this crate.
fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/connectors");
    assert!(dir.is_dir(), "the connector corpus is missing: expected it at {}", dir.display());
    dir
}

/// Loads one package of the corpus, e.g. `certified-connectors/Planner`.
fn load(relative: &str) -> Connector {
    let path = corpus_dir().join(relative);
    let loaded = patchbay_spec::load_path(&path);
    loaded.connector.unwrap_or_else(|| panic!("{} did not load: {:?}", path.display(), loaded.diagnostics))
}

/// Every package folder of the corpus (`<category>/<package>`), sorted.
fn packages() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for category in std::fs::read_dir(corpus_dir()).expect("the corpus can be listed").flatten() {
        if let Ok(entries) = std::fs::read_dir(category.path()) {
            out.extend(
                entries.flatten().map(|e| e.path()).filter(|p| p.join("apiProperties.json").is_file()),
            );
        }
    }
    out.sort();
    out
}

/// Compiles each instance of `connector` on its own; pushes the reasons of those skipped.
fn compile_each(connector: &Connector, label: &str, figures: &mut Figures) {
    for instance in &connector.policies {
        let op = instance.operations.first().map_or("AnyOperation", String::as_str);
        let alone = Connector { policies: vec![instance.clone()], ..Connector::default() };
        let set = PolicySet::compile(&alone, op);
        figures.instances += 1;
        if instance.template() == Some(PolicyTemplate::PollingTrigger) {
            match polling_trigger_config(&alone, op) {
                Some(Ok(_)) => figures.polling += 1,
                other => {
                    figures.failures.push(format!("{label}: pollingtrigger: {:?}", other.map(|r| r.err())))
                }
            }
            continue;
        }
        figures.compiled += set.request.len() + set.response.len() + set.failure.len();
        for (id, reason) in set.skipped {
            match reason {
                PolicyError::Unknown(_) => figures.unknown.push(format!("{label}: {id}")),
                other if expected_skip(label, &id, &other) => figures.broken += 1,
                other => figures.failures.push(format!("{label}: {id}: {other}")),
            }
        }
    }
}

/// Corpus instances that are rightly rejected: `(package, template id, part of the reason)`.
const BROKEN_INSTANCES: &[(&str, &str, &str)] = &[
    // A placeholder left in the package: `"name": "[[Dummy]]"` is not a header name.
    ("Assently E-Sign", "setheader", "invalid HTTP header name"),
];

/// Whether a skip is one of [`BROKEN_INSTANCES`].
fn expected_skip(label: &str, id: &str, reason: &PolicyError) -> bool {
    let text = reason.to_string();
    BROKEN_INSTANCES.iter().any(|(p, t, r)| *p == label && t.eq_ignore_ascii_case(id) && text.contains(r))
}

#[derive(Default)]
struct Figures {
    packages: usize,
    instances: usize,
    compiled: usize,
    polling: usize,
    broken: usize,
    unknown: Vec<String>,
    failures: Vec<String>,
}

#[test]
fn every_corpus_instance_of_a_known_template_compiles() {
    let mut figures = Figures::default();
    for path in packages() {
        let Some(connector) = patchbay_spec::load_path(&path).connector else { continue };
        figures.packages += 1;
        let label = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        compile_each(&connector, &label, &mut figures);
    }
    println!(
        "{} packages, {} policy instances: {} compiled, {} polling triggers, {} broken, {} of unknown templates {:?}",
        figures.packages,
        figures.instances,
        figures.compiled,
        figures.polling,
        figures.broken,
        figures.unknown.len(),
        figures.unknown
    );
    assert!(figures.failures.is_empty(), "instances skipped:\n{}", figures.failures.join("\n"));
    assert!(figures.packages > 100, "only {} packages loaded", figures.packages);
    assert_eq!(figures.broken, BROKEN_INSTANCES.len(), "a known broken instance was not seen");
    let accounted = figures.compiled + figures.polling + figures.broken + figures.unknown.len();
    assert_eq!(accounted, figures.instances);
}

#[test]
fn packages_using_the_new_templates_compile_for_every_operation() {
    let packages = [
        "certified-connectors/Planner",
        "certified-connectors/AzureAD",
        "certified-connectors/Cradl AI",
        "certified-connectors/DeskDirector",
        "certified-connectors/Microsoft 365 Lighthouse",
        "custom-connectors/Facebook",
        "independent-publisher-connectors/CO2 Signal",
        "independent-publisher-connectors/FreeAgent",
        "independent-publisher-connectors/Pushover",
    ];
    let mut used = std::collections::HashSet::new();
    for package in packages {
        let connector = load(package);
        let ids: Vec<String> = connector.operations().filter_map(|(_, op)| op.id.clone()).collect();
        assert!(!ids.is_empty(), "{package} has no operations");
        for id in &ids {
            let set = PolicySet::compile(&connector, id);
            let reasons: Vec<String> = set.skipped.iter().map(|(t, e)| format!("{t}: {e}")).collect();
            assert!(reasons.is_empty(), "{package} {id}: {reasons:?}");
            for p in set.request.iter().chain(&set.response).chain(&set.failure) {
                used.insert(p.template);
            }
        }
    }
    let new_templates = [
        PolicyTemplate::ConvertArrayToObject,
        PolicyTemplate::ConvertObjectToArray,
        PolicyTemplate::StringToArray,
        PolicyTemplate::StringReplace,
        PolicyTemplate::EncodePropertyValue,
        PolicyTemplate::MoveProperties,
        PolicyTemplate::UpdateNextLink,
        PolicyTemplate::SetValueFromUrl,
        PolicyTemplate::SetConnectionStatusToUnauthenticated,
    ];
    for template in new_templates {
        assert!(used.contains(&template), "{} compiled nowhere", template.spec().id);
    }
}

/// Runs the request policies of `op` on a JSON body.
fn run_request(connector: &Connector, op: &str, body: Value) -> HttpDraft {
    let set = PolicySet::compile(connector, op);
    assert!(set.skipped.is_empty(), "{op}: {:?}", set.skipped);
    let mut draft = HttpDraft {
        method: Method::PATCH,
        base_url: "https://graph.microsoft.com".into(),
        path: "/virtual".into(),
        query: Vec::new(),
        headers: HeaderMap::new(),
        body: DraftBody::Json(body),
    };
    let path_values = vec![("id".to_string(), "task1".to_string())];
    for policy in &set.request {
        let body = match &draft.body {
            DraftBody::Json(v) => v.clone(),
            _ => Value::Null,
        };
        let scope = PolicyScope { body, original_method: "PATCH".into(), ..PolicyScope::default() };
        let mut stage = RequestStage { draft: &mut draft, scope: &scope, path_values: &path_values };
        policy.behavior.on_request(&mut stage).unwrap_or_else(|e| panic!("{}: {e}", policy.title));
    }
    draft
}

/// Runs the response policies of `op` on a JSON body.
fn run_response(connector: &Connector, op: &str, body: Value) -> Value {
    let set = PolicySet::compile(connector, op);
    let mut body = ResponseBody::Json(body);
    let mut headers = HeaderMap::new();
    let mut flags = ResponseFlags::default();
    for policy in &set.response {
        let scope = PolicyScope { body: body.to_value(), ..PolicyScope::default() };
        let mut stage = ResponseStage {
            status: StatusCode::OK,
            headers: &mut headers,
            body: &mut body,
            scope: &scope,
            flags: &mut flags,
        };
        policy.behavior.on_response(&mut stage).unwrap_or_else(|e| panic!("{}: {e}", policy.title));
    }
    body.to_value()
}

#[test]
fn planner_create_task_assignments_become_an_object_of_encoded_ids() {
    let planner = load("certified-connectors/Planner");
    let draft =
        run_request(&planner, "CreateTask_V3", json!({"title": "T", "assignments": "ann@contoso.com; bob"}));
    assert_eq!(draft.path, "/v1.0/planner/tasks");
    assert_eq!(
        draft.body,
        DraftBody::Json(json!({"title": "T", "assignments": {
            "ann%40contoso%2Ecom": {"@odata.type": "microsoft.graph.plannerAssignment", "orderHint": " !"},
            "bob": {"@odata.type": "microsoft.graph.plannerAssignment", "orderHint": " !"}
        }}))
    );
}

#[test]
fn planner_task_details_round_trip() {
    let planner = load("certified-connectors/Planner");
    let request = json!({
        "description": "d",
        "references": [{"resourceLink": "https://contoso.example/a.docx", "alias": "Spec", "type": "Word"}],
        "checklist": [{"id": "c1", "title": "Read", "isChecked": false}]
    });
    let draft = run_request(&planner, "UpdateTaskDetails_V2", request);
    assert_eq!(draft.path, "/v1.0/planner/tasks/task1/details");
    assert_eq!(
        draft.body,
        DraftBody::Json(json!({
            "description": "d",
            "references": {"https%3A//contoso%2Eexample/a%2Edocx": {
                "alias": "Spec", "type": "Word", "previewPriority": " !",
                "@odata.type": "microsoft.graph.plannerExternalReference"
            }},
            "checklist": {"c1": {"title": "Read", "isChecked": false, "@odata.type": "microsoft.graph.plannerChecklistItem"}}
        }))
    );
    let set = PolicySet::compile(&planner, "UpdateTaskDetails_V2");
    assert!(set.request.iter().any(|p| p.template == PolicyTemplate::SetValueFromUrl));

    // Graph answers with objects keyed by the encoded link; the response policies give arrays back.
    let graph = json!({
        "id": "task1",
        "references": {"https%3A//contoso%2Eexample/a%2Edocx": {"alias": "Spec", "type": "Word"}},
        "checklist": {"c1": {"title": "Read", "isChecked": false}}
    });
    let out = run_response(&planner, "GetTaskDetails_V2", graph);
    assert_eq!(
        out,
        json!({
            "id": "task1",
            "references": [{"resourceLink": "https://contoso.example/a.docx",
                            "value": {"alias": "Spec", "type": "Word"}}],
            "checklist": [{"id": "c1", "value": {"title": "Read", "isChecked": false}}]
        })
    );
}

#[test]
fn planner_list_tasks_adds_assignment_arrays_per_task() {
    let planner = load("certified-connectors/Planner");
    let graph = json!({"value": [{"id": "t1", "assignments": {"u1": {"orderHint": "x"}}}, {"id": "t2"}]});
    let out = run_response(&planner, "ListTasks_V3", graph);
    assert_eq!(
        out,
        json!({"value": [
            {"id": "t1", "assignments": {"u1": {"orderHint": "x"}},
             "_assignments": [{"userId": "u1", "value": {"orderHint": "x"}}]},
            {"id": "t2"}
        ]})
    );
    let location = next_link_location(&planner, "ListTasks_V3").expect("updatenextlink applies").unwrap();
    assert_eq!(location.name, "@odata.nextLink");
}

#[test]
fn azure_ad_update_user_flattens_custom_properties() {
    let azure_ad = load("certified-connectors/AzureAD");
    let draft = run_request(
        &azure_ad,
        "UpdateUser",
        json!({"jobTitle": "Dev", "customProperties": {"extension_x": "1"}}),
    );
    assert_eq!(draft.body, DraftBody::Json(json!({"jobTitle": "Dev", "extension_x": "1"})));
}

#[test]
fn facebook_polling_trigger_config() {
    let facebook = load("custom-connectors/Facebook");
    let config = polling_trigger_config(&facebook, "TriggerNewPost").expect("a polling trigger").unwrap();
    let body = json!({"data": [{"id": "2", "created_time": "2024-05-02T10:00:00+0000"}, {"id": "1"}]});
    assert_eq!(config.items(&body).len(), 2);
    let query = config.next_query(&body, &PolicyScope::default()).unwrap();
    assert_eq!(query, vec![("since".to_string(), "2024-05-02T10:00:00+0000".to_string())]);
    assert!(polling_trigger_config(&facebook, "PostToPage").is_none());
}
