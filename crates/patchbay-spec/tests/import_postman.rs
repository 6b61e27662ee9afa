//! The Postman collection importer, checked field by field against fixtures in
//! `tests/fixtures/postman/`.

use patchbay_spec::Connector;
use patchbay_spec::diag::Diagnostic;
use patchbay_spec::fields::Ctx;
use patchbay_spec::import::postman::{CLIENT_ID_PLACEHOLDER, GRANT_KEY, import_postman, infer_schema};
use patchbay_spec::model::{
    ConnectionParameter, ConnectionParameterType, IdentityProvider, Location, Method, Operation,
    OperationKind, Parameter, PathItem, SecuritySchemeKind,
};
use serde_json::{Value, json};

/// A fixture imported, with what the importer reported.
struct Imported {
    connector: Connector,
    diagnostics: Vec<Diagnostic>,
}

impl Imported {
    fn load(name: &str) -> Imported {
        let path = format!("{}/tests/fixtures/postman/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let document: Value = serde_json::from_str(&text).expect("fixture is JSON");
        let mut diagnostics = Vec::new();
        let mut ctx = Ctx { file: name, diagnostics: &mut diagnostics };
        let connector = import_postman(document, &mut ctx);
        Imported { connector, diagnostics }
    }

    fn tasks() -> Imported {
        Imported::load("contoso-tasks.postman_collection.json")
    }

    fn op(&self, id: &str) -> (&PathItem, &Operation) {
        self.connector.operation(id).unwrap_or_else(|| panic!("operation {id} is imported"))
    }

    fn param(&self, id: &str, name: &str) -> &Parameter {
        let (_, op) = self.op(id);
        op.parameters.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{id} has parameter {name}"))
    }

    fn names(&self, id: &str) -> Vec<(&str, Location)> {
        let (_, op) = self.op(id);
        op.parameters.iter().map(|p| (p.name.as_str(), p.location.clone())).collect()
    }

    fn lost_at(&self, pointer: &str) -> bool {
        self.diagnostics.iter().any(|d| d.code == "PB0109" && d.pointer == pointer)
    }

    fn set(&self, name: &str) -> &[ConnectionParameter] {
        let sets =
            self.connector.security.parameter_sets.as_ref().expect("several methods give parameter sets");
        let set = sets.values.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("set {name} exists"));
        &set.parameters
    }
}

#[test]
fn collection_info_becomes_identity() {
    let imported = Imported::tasks();
    let identity = &imported.connector.identity;
    assert_eq!(identity.name, "Contoso-Tasks");
    assert_eq!(identity.title, "Contoso Tasks");
    assert_eq!(identity.description.as_deref(), Some("Requests for the Contoso Tasks API."));
    assert_eq!(identity.version, "1.0");
}

#[test]
fn most_common_host_becomes_the_backend_with_the_shared_base_path() {
    let imported = Imported::tasks();
    let backend = &imported.connector.backend;
    assert_eq!(backend.schemes, ["https"]);
    assert_eq!(backend.host.as_deref(), Some("api.contoso.example"));
    assert_eq!(backend.base_path.as_deref(), Some("/v1"), "from {{baseUrl}}, shared by every request");
    assert!(imported.connector.operation("SignIn").is_none());
    assert!(imported.lost_at("/item/4"), "the sign-in request goes to another host");
}

#[test]
fn requests_become_operations_named_in_pascal_case() {
    let imported = Imported::tasks();
    let ids: Vec<String> = imported.connector.operations().map(|(_, op)| op.display_id()).collect();
    assert_eq!(
        ids,
        [
            "ListProjects",
            "ListTasks",
            "CreateTask",
            "GetTask",
            "CreateTask2",
            "UploadAttachment",
            "AddComment",
            "Health",
            "LegacyExport",
            "ExportTasks"
        ]
    );
    let (item, op) = imported.op("CreateTask2");
    assert_eq!((op.method, item.path.as_str()), (Method::Post, "/archive/tasks"));
    assert_eq!(op.summary.as_deref(), Some("Create task"));
    let (_, create) = imported.op("CreateTask");
    assert_eq!(create.description.as_deref(), Some("Creates a task in a project."));
    let definitions = &imported.connector.definitions;
    assert!(
        imported.connector.operations().all(|(item, op)| op.kind(item, definitions) == OperationKind::Action)
    );
}

#[test]
fn a_second_request_on_the_same_method_and_path_is_reported() {
    let imported = Imported::tasks();
    let (item, _) = imported.op("ListProjects");
    assert_eq!(item.path, "/projects");
    assert_eq!(item.operations.len(), 1);
    assert!(imported.lost_at("/item/0/item/1"), "`List archived projects` is GET /projects again");
}

#[test]
fn folders_become_tags() {
    let imported = Imported::tasks();
    assert_eq!(imported.op("ListProjects").1.extra["tags"], json!(["Projects"]));
    assert_eq!(imported.op("ListTasks").1.extra["tags"], json!(["Tasks"]), "the innermost folder");
    assert!(imported.op("Health").1.extra.get("tags").is_none());
    let tags = &imported.connector.extra["tags"];
    assert_eq!(tags[0], json!({"name": "Projects", "description": "Browse projects and their tasks."}));
    assert_eq!(tags[1]["name"], "Tasks");
}

#[test]
fn path_variables_become_path_parameters() {
    let imported = Imported::tasks();
    let (item, _) = imported.op("ListTasks");
    assert_eq!(item.path, "/projects/{projectId}/tasks");
    let project = imported.param("ListTasks", "projectId");
    assert_eq!(project.location, Location::Path);
    assert!(project.required);
    assert_eq!(project.schema, json!({"type": "string"}));
    assert_eq!(project.description.as_deref(), Some("The project"));
    assert_eq!(project.test_value, Some(json!("p-42")), "the collection variable's value");
    let (item, _) = imported.op("GetTask");
    assert_eq!(item.path, "/projects/{projectId}/tasks/{taskId}", "{{var}} and :var segments");
    assert_eq!(imported.names("GetTask"), [("projectId", Location::Path), ("taskId", Location::Path)]);
    assert_eq!(imported.param("GetTask", "taskId").test_value, None);
}

#[test]
fn query_entries_become_query_parameters_with_test_values() {
    let imported = Imported::tasks();
    assert_eq!(imported.names("ListProjects"), [("page", Location::Query), ("pageSize", Location::Query)]);
    let page = imported.param("ListProjects", "page");
    assert_eq!(page.test_value, Some(json!("1")));
    assert_eq!(page.description.as_deref(), Some("Page number"));
    assert!(!page.required);
    let status = imported.param("ListTasks", "status");
    assert_eq!(status.schema, json!({"type": "array", "items": {"type": "string"}}), "a repeated key");
    assert_eq!(status.collection_format.as_deref(), Some("multi"));
    assert_eq!(status.test_value, Some(json!(["open", "done"])));
}

#[test]
fn headers_become_header_parameters_except_content_type_and_credentials() {
    let imported = Imported::tasks();
    let headers: Vec<&str> = imported
        .op("CreateTask")
        .1
        .parameters
        .iter()
        .filter(|p| p.location == Location::Header)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(headers, ["X-Request-Id"], "Content-Type and the disabled X-Debug are left out");
    let request_id = imported.param("CreateTask", "X-Request-Id");
    assert_eq!(request_id.description.as_deref(), Some("Idempotency key"));
    assert_eq!(request_id.test_value, None, "a dynamic variable is no test value");
    assert!(imported.op("AddComment").1.parameters.iter().all(|p| p.location != Location::Header));
    assert!(!imported.lost_at("/item/1/item/1/request/header"), "the bearer auth covers Authorization");
    assert!(imported.op("ListProjects").1.parameters.iter().all(|p| p.name != "Accept"));
}

#[test]
fn raw_json_body_gets_an_inferred_schema() {
    let imported = Imported::tasks();
    assert_eq!(imported.op("CreateTask").1.consumes, ["application/json"]);
    let body = imported.param("CreateTask", "body");
    assert_eq!(body.location, Location::Body);
    assert!(body.required);
    assert_eq!(
        body.schema,
        json!({"type": "object", "properties": {
            "title": {"type": "string"},
            "due": {"type": "string", "format": "date"},
            "priority": {"type": "integer"},
            "estimate": {"type": "number"},
            "done": {"type": "boolean"},
            "labels": {"type": "array", "items": {"type": "string"}},
            "assignee": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
        }})
    );
}

#[test]
fn raw_body_with_bare_placeholders_is_still_read_as_json() {
    let imported = Imported::tasks();
    let body = imported.param("CreateTask2", "body");
    assert_eq!(
        body.schema,
        json!({"type": "object", "properties": {"taskId": {"type": "string"}, "keepDays": {"type": "integer"}}})
    );
}

#[test]
fn urlencoded_and_formdata_bodies_become_form_data() {
    let imported = Imported::tasks();
    let (_, comment) = imported.op("AddComment");
    assert_eq!(comment.consumes, ["application/x-www-form-urlencoded"]);
    assert_eq!(
        imported.names("AddComment"),
        [("projectId", Location::Path), ("text", Location::FormData), ("notify", Location::FormData)]
    );
    assert_eq!(imported.param("AddComment", "text").test_value, Some(json!("Looks good")));
    let (_, upload) = imported.op("UploadAttachment");
    assert_eq!(upload.consumes, ["multipart/form-data"]);
    assert_eq!(imported.param("UploadAttachment", "file").schema, json!({"type": "file"}));
    let caption = imported.param("UploadAttachment", "caption");
    assert_eq!(caption.schema, json!({"type": "string"}));
    assert_eq!(caption.description.as_deref(), Some("Shown under the image"));
    assert!(upload.parameters.iter().all(|p| p.name != "draft"), "disabled fields are skipped");
}

#[test]
fn saved_examples_become_responses() {
    let imported = Imported::tasks();
    let (_, list) = imported.op("ListProjects");
    let ok = &list.responses[0];
    assert_eq!((ok.status.as_str(), ok.description.as_deref()), ("200", Some("OK")));
    let item = &ok.schema.as_ref().expect("inferred")["properties"]["value"]["items"];
    assert_eq!(item["properties"]["created"], json!({"type": "string", "format": "date-time"}));
    assert_eq!(item["properties"]["taskCount"], json!({"type": "integer"}));
    let headers: Vec<&String> = ok.headers.keys().collect();
    assert_eq!(headers, ["X-Rate-Limit-Remaining"], "transport headers are left out");
    assert_eq!(list.produces, ["application/json"]);
    let (_, create) = imported.op("CreateTask");
    let statuses: Vec<&str> = create.responses.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["201", "400"], "one response per status");
    assert_eq!(create.responses[0].headers["Location"], json!({"type": "string"}));
    assert_eq!(create.responses[1].schema, None, "a text body has no schema");
    assert_eq!(create.produces, ["application/json", "text/plain"]);
    let (_, get) = imported.op("GetTask");
    assert_eq!(get.responses[0].status, "default", "no saved example");
}

#[test]
fn auth_at_every_level_becomes_schemes_and_parameter_sets() {
    let imported = Imported::tasks();
    let security = &imported.connector.security;
    let schemes: Vec<(&str, &SecuritySchemeKind)> =
        security.schemes.iter().map(|s| (s.name.as_str(), &s.kind)).collect();
    assert_eq!(schemes.len(), 6);
    assert_eq!(
        schemes[0],
        ("api_key", &SecuritySchemeKind::ApiKey { name: "X-Api-Key".into(), location: Location::Header })
    );
    assert_eq!(schemes[1].0, "oauth2_auth");
    assert_eq!(schemes[2].0, "oauth2_auth_2");
    assert_eq!(schemes[3], ("basic_auth", &SecuritySchemeKind::Basic));
    assert_eq!(
        schemes[4],
        (
            "bearer_auth",
            &SecuritySchemeKind::ApiKey { name: "Authorization".into(), location: Location::Header }
        )
    );
    assert_eq!(
        schemes[5],
        ("api_key_2", &SecuritySchemeKind::ApiKey { name: "token".into(), location: Location::Query })
    );
    assert_eq!(security.requirement, Some(json!([{"api_key": []}])), "the collection's auth");
    assert_eq!(imported.set("api_key")[0].kind, Some(ConnectionParameterType::SecureString));
    let basic: Vec<&str> = imported.set("basic_auth").iter().map(|p| p.name.as_str()).collect();
    assert_eq!(basic, ["username", "password"]);
    assert_eq!(imported.set("bearer_auth")[0].name, "api_key");
    assert!(imported.lost_at("/item/1/item/1/request/auth"), "bearer tokens are typed with `Bearer `");
}

#[test]
fn operations_carry_the_auth_that_differs_from_the_collection() {
    let imported = Imported::tasks();
    let security = |id: &str| imported.op(id).1.security.clone();
    assert_eq!(security("ListProjects"), None, "inherits the collection's API key");
    assert_eq!(security("ListTasks"), Some(json!([{"oauth2_auth": []}])), "from the Tasks folder");
    assert_eq!(security("CreateTask2"), Some(json!([{"oauth2_auth_2": []}])));
    assert_eq!(security("UploadAttachment"), Some(json!([{"basic_auth": []}])));
    assert_eq!(security("AddComment"), Some(json!([{"bearer_auth": []}])));
    assert_eq!(security("Health"), Some(json!([])), "noauth");
    assert_eq!(security("LegacyExport"), Some(json!([])));
    assert!(imported.lost_at("/item/3/request/auth"), "digest has no equivalent");
    assert_eq!(security("ExportTasks"), Some(json!([{"api_key_2": []}])));
}

#[test]
fn an_api_key_in_the_query_is_not_a_query_parameter() {
    let imported = Imported::tasks();
    assert_eq!(imported.names("ExportTasks"), [("format", Location::Query)], "`token` is the credential");
    assert_eq!(imported.param("ExportTasks", "format").test_value, Some(json!("csv")));
    assert_eq!(imported.set("api_key_2")[0].name, "api_key");
}

#[test]
fn oauth2_settings_come_from_postman_auth() {
    let imported = Imported::tasks();
    let token = &imported.set("oauth2_auth")[0];
    assert_eq!(
        (token.name.as_str(), token.kind.clone()),
        ("token", Some(ConnectionParameterType::OAuthSetting))
    );
    let oauth = token.oauth.as_ref().expect("oAuthSettings");
    assert_eq!(oauth.identity_provider, IdentityProvider::OAuth2);
    assert_eq!(oauth.client_id.as_deref(), Some(CLIENT_ID_PLACEHOLDER), "{{clientId}} is not defined");
    assert_eq!(oauth.client_secret, None, "secrets are never imported");
    assert_eq!(oauth.scopes, ["tasks.read", "tasks.write"]);
    assert_eq!(
        oauth.custom_parameter("authorizationUrl"),
        Some("https://id.contoso.example/oauth2/authorize")
    );
    assert_eq!(oauth.custom_parameter("tokenUrl"), Some("https://id.contoso.example/oauth2/token"));
    assert_eq!(oauth.custom_parameter("refreshUrl"), Some("https://id.contoso.example/oauth2/token"));
    let archive = imported.set("oauth2_auth_2")[0].oauth.as_ref().expect("oAuthSettings");
    assert_eq!(archive.client_id.as_deref(), Some("contoso-archiver"));
    assert_eq!(archive.extra[GRANT_KEY], "client_credentials");
    assert_eq!(archive.scopes, ["tasks.archive"]);
    assert!(imported.lost_at("/item/0/item/3/auth"), "client credentials are reported");
}

#[test]
fn scripts_are_reported_not_imported() {
    let imported = Imported::tasks();
    assert!(imported.lost_at("/event/0"), "the collection's pre-request script");
    assert!(imported.lost_at("/item/2/event/0"), "Health's test script");
    assert!(!imported.lost_at("/event/1"), "an empty script is nothing to lose");
}

#[test]
fn v20_collection_with_object_auth_and_header_text() {
    let imported = Imported::load("contoso-status-v2.0.postman_collection.json");
    let connector = &imported.connector;
    assert_eq!(connector.identity.version, "1.2.0");
    assert_eq!(connector.backend.host.as_deref(), Some("status.contoso.example"));
    assert_eq!(connector.backend.base_path.as_deref(), Some("/api"));
    assert_eq!(connector.security.schemes[0].kind, SecuritySchemeKind::Basic);
    let names: Vec<&str> = connector.security.connection_parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["username", "password"], "one method: plain connection parameters");
    assert_eq!(
        imported.names("CurrentStatus"),
        [("verbose", Location::Query), ("Accept-Language", Location::Header)]
    );
    assert_eq!(imported.param("CurrentStatus", "Accept-Language").test_value, Some(json!("en")));
    let (item, op) = imported.op("ListIncidents");
    assert_eq!(
        (op.method, item.path.as_str()),
        (Method::Get, "/incidents"),
        "a request given as a URL string"
    );
}

#[test]
fn infer_schema_describes_example_values() {
    let schema = infer_schema(&json!([{"id": 1, "tags": [], "owner": null}]));
    assert_eq!(
        schema,
        json!({"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "tags": {"type": "array", "items": {}}, "owner": {}
        }}})
    );
}

#[test]
fn ill_formed_items_give_diagnostics_not_panics() {
    let imported = Imported::load("odd.postman_collection.json");
    let has = |code: &str, pointer: &str| {
        imported.diagnostics.iter().any(|d| d.code == code && d.pointer == pointer)
    };
    assert!(has("PB0105", "/item/0"), "neither folder nor request");
    assert!(has("PB0105", "/item/1/item"));
    assert!(has("PB0109", "/item/2/request"), "PROPFIND");
    assert!(has("PB0105", "/item/3/request"), "no URL");
    assert!(has("PB0105", "/item/4/request"), "a numeric URL");
    assert!(has("PB0109", "/item/5/request/body"), "declared JSON that is not");
    assert!(has("PB0109", "/item/6"), "an undefined host variable");
    assert_eq!(imported.connector.identity.name, "connector");
    let ids: Vec<String> = imported.connector.operations().map(|(_, op)| op.display_id()).collect();
    assert_eq!(ids, ["PostById"], "an unnamed request is named after its route");
    assert_eq!(imported.param("PostById", "body").schema, json!({"type": "string"}));
    let (_, op) = imported.op("PostById");
    assert_eq!(op.responses[0].status, "201", "a code that is not a number is skipped");
}

#[test]
fn a_document_without_items_is_reported() {
    let mut diagnostics = Vec::new();
    let mut ctx = Ctx { file: "v1.json", diagnostics: &mut diagnostics };
    let connector = import_postman(json!({"name": "Old", "requests": []}), &mut ctx);
    assert!(connector.paths.is_empty());
    assert_eq!(diagnostics[0].code, "PB0106");
}
