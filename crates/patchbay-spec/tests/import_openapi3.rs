//! The OpenAPI 3.0/3.1 importer, checked field by field against fixtures in
//! `tests/fixtures/openapi3/`.

use patchbay_spec::diag::Diagnostic;
use patchbay_spec::fields::Ctx;
use patchbay_spec::import::openapi3::{CLIENT_ID_PLACEHOLDER, GRANT_KEY, import_openapi3};
use patchbay_spec::model::{
    Cardinality, ConnectionParameter, ConnectionParameterType, IdentityProvider, Location, Method, Operation,
    OperationKind, Parameter, PathItem, SecuritySchemeKind, TriggerKind, UrlEncoding, Visibility,
};
use patchbay_spec::{Connector, Severity};
use serde_json::{Value, json};

/// A fixture imported, with what the importer reported.
struct Imported {
    connector: Connector,
    diagnostics: Vec<Diagnostic>,
}

impl Imported {
    /// Reads and imports a fixture (`.yaml` files through the YAML parser).
    fn load(name: &str) -> Imported {
        let path = format!("{}/tests/fixtures/openapi3/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let document: Value = if name.ends_with(".yaml") {
            yaml_serde::from_str(&text).expect("fixture is YAML")
        } else {
            serde_json::from_str(&text).expect("fixture is JSON")
        };
        let mut diagnostics = Vec::new();
        let mut ctx = Ctx { file: name, diagnostics: &mut diagnostics };
        let connector = import_openapi3(document, &mut ctx);
        Imported { connector, diagnostics }
    }

    fn tasks() -> Imported {
        Imported::load("contoso-tasks-3.0.json")
    }

    fn notes() -> Imported {
        Imported::load("contoso-notes-3.1.yaml")
    }

    /// The operation with this id and its path item.
    fn op(&self, id: &str) -> (&PathItem, &Operation) {
        self.connector.operation(id).unwrap_or_else(|| panic!("operation {id} is imported"))
    }

    /// A parameter of an operation (its own or its path item's), by name.
    fn param(&self, id: &str, name: &str) -> &Parameter {
        let (item, op) = self.op(id);
        let params = op.effective_parameters(item);
        params.into_iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{id} has parameter {name}"))
    }

    fn definition(&self, name: &str) -> &Value {
        self.connector.definitions.get(name).unwrap_or_else(|| panic!("definition {name} exists"))
    }

    /// Whether a `PB0109` was reported at exactly this pointer.
    fn lost_at(&self, pointer: &str) -> bool {
        self.diagnostics.iter().any(|d| d.code == "PB0109" && d.pointer == pointer)
    }

    /// The connection parameters of the parameter set named after a security scheme.
    fn set(&self, name: &str) -> &[ConnectionParameter] {
        let sets =
            self.connector.security.parameter_sets.as_ref().expect("several schemes give parameter sets");
        let set = sets.values.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("set {name} exists"));
        &set.parameters
    }
}

#[test]
fn identity_comes_from_info() {
    let imported = Imported::tasks();
    let identity = &imported.connector.identity;
    assert_eq!(identity.name, "Contoso-Tasks-Preview");
    assert_eq!(identity.title, "Contoso Tasks (Preview)");
    assert_eq!(identity.description.as_deref(), Some("Create, track and react to tasks in Contoso Tasks."));
    assert_eq!(identity.version, "2.1.0");
    assert_eq!(identity.info_extra["x-ms-api-annotation"]["status"], "Preview", "the release status");
    assert_eq!(identity.info_extra["contact"]["email"], "dev@contoso.example");
    assert_eq!(identity.metadata[0], ("Website".to_string(), "https://contoso.example".to_string()));
    assert_eq!(
        imported.connector.extra["tags"],
        json!([{"name": "Tasks", "description": "Task operations"}])
    );
}

#[test]
fn backend_is_the_first_server_with_variables_fixed_to_defaults() {
    let imported = Imported::tasks();
    let backend = &imported.connector.backend;
    assert_eq!(backend.schemes, ["https"]);
    assert_eq!(backend.host.as_deref(), Some("eu.api.contoso.example:8443"));
    assert_eq!(backend.base_path.as_deref(), Some("/v2"));
    assert!(imported.lost_at("/servers/1"), "the sandbox server is reported");
    assert!(imported.lost_at("/servers/0/variables/region"));
    assert!(imported.lost_at("/servers/0/variables/port"));
}

#[test]
fn component_schemas_become_definitions_with_refs_rewritten() {
    let imported = Imported::tasks();
    let task = imported.definition("Task");
    assert_eq!(task["properties"]["status"], json!({"$ref": "#/definitions/TaskStatus"}));
    assert_eq!(task["properties"]["due"]["x-nullable"], true);
    assert!(task["properties"]["due"].get("nullable").is_none());
    assert_eq!(task["properties"]["assignee"], json!({"allOf": [{"$ref": "#/definitions/User"}]}));
    assert_eq!(imported.definition("NewTask")["allOf"], json!([{"$ref": "#/definitions/TaskPatch"}]));
    assert_eq!(imported.definition("Team")["properties"]["members"]["items"]["$ref"], "#/definitions/User");
    assert_eq!(imported.definition("TaskEvent")["discriminator"], "event");
}

#[test]
fn schema_keywords_without_swagger_equivalent_are_reported() {
    let imported = Imported::tasks();
    let task = imported.definition("Task");
    assert_eq!(task["properties"]["owner"], json!({}), "two alternatives leave the value open");
    assert!(imported.lost_at("/components/schemas/Task/properties/owner/anyOf"));
    assert_eq!(task["properties"]["secret"], json!({"type": "string"}));
    assert!(imported.lost_at("/components/schemas/Task/properties/secret/writeOnly"));
    assert!(imported.lost_at("/components/schemas/TaskEvent/discriminator/mapping"));
}

#[test]
fn path_level_parameters_are_resolved_from_components() {
    let imported = Imported::tasks();
    let (item, _) = imported.op("ListTasks");
    let project = &item.parameters[0];
    assert_eq!((project.name.as_str(), &project.location), ("projectId", &Location::Path));
    assert!(project.required);
    assert_eq!(project.reference, None, "the copy is inline");
    assert_eq!(project.summary.as_deref(), Some("Project"));
    assert_eq!(project.description.as_deref(), Some("The project."));
    assert_eq!(project.schema, json!({"type": "string"}));
    let dynamic = project.dynamic_values.as_ref().expect("x-ms-dynamic-values is typed");
    assert_eq!(dynamic.operation_id.as_deref(), Some("ListProjects"));
    assert_eq!(dynamic.value_collection.as_deref(), Some("value"));
    let task_id = imported.param("UpdateTask", "taskId");
    assert_eq!(task_id.url_encoding, Some(UrlEncoding::Double));
    assert_eq!(task_id.summary.as_deref(), Some("Task ID"));
}

#[test]
fn array_parameter_styles_map_to_collection_formats() {
    let imported = Imported::tasks();
    let format = |name: &str| imported.param("ListTasks", name).collection_format.clone();
    assert_eq!(format("status").as_deref(), Some("multi"), "form + explode (the query default)");
    assert_eq!(format("labels").as_deref(), Some("csv"), "form without explode");
    assert_eq!(format("assignees").as_deref(), Some("ssv"));
    assert_eq!(format("fields").as_deref(), Some("pipes"));
    assert_eq!(format("X-Trace").as_deref(), Some("csv"), "simple");
    let status = imported.param("ListTasks", "status");
    assert_eq!(
        status.schema,
        json!({"type": "array", "items": {"type": "string", "enum": ["open", "done"]}})
    );
}

#[test]
fn parameter_schemas_are_flattened_into_value_keys() {
    let imported = Imported::tasks();
    let top = imported.param("ListTasks", "$top");
    assert_eq!(top.location, Location::Query);
    assert_eq!(
        top.schema,
        json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 100, "default": 25})
    );
    assert_eq!(top.summary.as_deref(), Some("Page size"));
    assert_eq!(top.visibility, Some(Visibility::Advanced));
    assert_eq!(top.test_value, Some(json!(10)));
    let request_id = imported.param("ListTasks", "X-Request-Id");
    assert_eq!(request_id.location, Location::Header);
    assert_eq!(request_id.schema, json!({"type": "string", "format": "uuid"}));
    assert_eq!(request_id.description.as_deref(), Some("Correlation id."));
}

#[test]
fn parameters_without_connector_equivalent_are_reported() {
    let imported = Imported::tasks();
    let (_, op) = imported.op("ListTasks");
    let names: Vec<&str> = op.parameters.iter().map(|p| p.name.as_str()).collect();
    assert!(!names.contains(&"session"), "cookie parameters are left out");
    assert!(!names.contains(&"Accept"), "Accept is ignored, as OpenAPI says");
    assert!(imported.lost_at("/paths/~1projects~1{projectId}~1tasks/get/parameters/8"));
    assert!(imported.lost_at("/paths/~1projects~1{projectId}~1tasks/get/parameters/9"));
    assert_eq!(imported.param("ListTasks", "filter").schema, json!({"type": "string"}));
    assert!(imported.lost_at("/paths/~1projects~1{projectId}~1tasks/get/parameters/5/style"));
}

#[test]
fn json_request_body_becomes_one_body_parameter() {
    let imported = Imported::tasks();
    let (_, op) = imported.op("CreateTask");
    assert_eq!(op.consumes, ["application/json"]);
    let body = imported.param("CreateTask", "body");
    assert_eq!(body.location, Location::Body);
    assert!(body.required);
    assert_eq!(body.schema, json!({"$ref": "#/definitions/NewTask"}));
    assert_eq!(body.summary.as_deref(), Some("Task"));
    assert_eq!(body.description.as_deref(), Some("The task to create."));
    let xml = "/paths/~1projects~1{projectId}~1tasks/post/requestBody/content/application~1xml";
    assert!(imported.lost_at(xml), "the second media type is reported");
}

#[test]
fn json_flavoured_media_types_count_as_json() {
    let imported = Imported::tasks();
    let (_, op) = imported.op("UpdateTask");
    assert_eq!(op.consumes, ["application/merge-patch+json"]);
    assert_eq!(imported.param("UpdateTask", "body").schema, json!({"$ref": "#/definitions/TaskPatch"}));
}

#[test]
fn multipart_body_becomes_form_data_with_files() {
    let imported = Imported::tasks();
    let (_, op) = imported.op("UploadAttachment");
    assert_eq!(op.consumes, ["multipart/form-data"]);
    let file = imported.param("UploadAttachment", "file");
    assert_eq!((&file.location, file.required), (&Location::FormData, true));
    assert_eq!(file.schema, json!({"type": "file"}));
    assert_eq!(file.description.as_deref(), Some("The file."));
    let caption = imported.param("UploadAttachment", "caption");
    assert_eq!(caption.schema, json!({"type": "string", "maxLength": 200}));
    assert_eq!(caption.summary.as_deref(), Some("Caption"), "the title is the label");
    assert!(!caption.required);
    let tags = imported.param("UploadAttachment", "tags");
    assert_eq!(tags.schema, json!({"type": "array", "items": {"type": "string"}}));
    let encoding =
        "/paths/~1projects~1{projectId}~1attachments/post/requestBody/content/multipart~1form-data/encoding";
    assert!(imported.lost_at(encoding));
}

#[test]
fn urlencoded_body_becomes_form_data_from_a_referenced_schema() {
    let imported = Imported::tasks();
    let (_, op) = imported.op("AddComment");
    assert_eq!(op.consumes, ["application/x-www-form-urlencoded"]);
    let text = imported.param("AddComment", "text");
    assert_eq!((&text.location, text.required), (&Location::FormData, true));
    assert_eq!(text.description.as_deref(), Some("The comment."));
    let notify = imported.param("AddComment", "notify");
    assert_eq!(notify.schema, json!({"type": "boolean", "default": true}));
    assert!(op.parameters.iter().all(|p| p.location != Location::Body));
}

#[test]
fn responses_keep_schema_headers_and_description() {
    let imported = Imported::tasks();
    let (_, op) = imported.op("ListTasks");
    let ok = &op.responses[0];
    assert_eq!(ok.status, "200");
    assert_eq!(ok.description.as_deref(), Some("A page of tasks"));
    assert_eq!(ok.schema, Some(json!({"$ref": "#/definitions/TaskPage"})));
    assert_eq!(
        ok.headers["X-Rate-Limit-Remaining"],
        json!({"description": "Calls left this hour.", "type": "integer"})
    );
    assert_eq!(ok.headers["X-Page-Ids"], json!({"type": "array", "items": {"type": "string"}}));
    let problem = &op.responses[1];
    assert_eq!(problem.status, "400", "4XX becomes 400");
    assert_eq!(problem.schema, Some(json!({"$ref": "#/definitions/Problem"})));
    assert_eq!(problem.description.as_deref(), Some("Something went wrong"));
    assert!(imported.lost_at("/paths/~1projects~1{projectId}~1tasks/get/responses/4XX"));
    assert_eq!(op.produces, ["application/json", "application/problem+json"]);
}

#[test]
fn missing_operation_id_is_generated_and_reported() {
    let imported = Imported::tasks();
    let (item, op) = imported.op("GetProjectsByProjectIdTasksByTaskId");
    assert_eq!(op.method, Method::Get);
    assert_eq!(item.path, "/projects/{projectId}/tasks/{taskId}");
    assert_eq!(op.summary.as_deref(), Some("One task"), "the path item's summary applies");
    assert_eq!(op.description.as_deref(), Some("Reads one task."));
    let note = imported
        .diagnostics
        .iter()
        .find(|d| d.pointer == "/paths/~1projects~1{projectId}~1tasks~1{taskId}/get");
    assert_eq!(note.map(|d| (d.code, d.severity)), Some(("PB0109", Severity::Info)), "a note, not a warning");
}

#[test]
fn operation_extensions_land_in_typed_fields() {
    let imported = Imported::tasks();
    let (_, list) = imported.op("ListTasks");
    assert_eq!(list.next_link_name.as_deref(), Some("nextLink"));
    assert!(list.no_generic_test);
    assert_eq!(list.extra["tags"], json!(["Tasks"]));
    assert_eq!(list.extra["x-ms-openai-data"], json!({"openai-enabled": true}));
    let (_, projects) = imported.op("ListProjects");
    assert_eq!(projects.visibility, Some(Visibility::Internal));
    let (_, delete) = imported.op("DeleteTask");
    assert!(delete.deprecated);
    let (_, hook) = imported.op("OnTaskCompleted");
    assert_eq!(hook.trigger_hint.as_deref(), Some("To see it work now, complete a task."));
}

#[test]
fn security_requirements_keep_only_imported_schemes() {
    let imported = Imported::tasks();
    assert_eq!(imported.connector.security.requirement, Some(json!([{"apiKeyHeader": []}])));
    let (_, delete) = imported.op("DeleteTask");
    assert_eq!(
        delete.security,
        Some(json!([{"oauthCode": ["tasks.write"]}])),
        "the OpenID alternative is gone"
    );
    let (_, projects) = imported.op("ListProjects");
    assert_eq!(projects.security, Some(json!([])), "an explicit no-auth stays");
}

#[test]
fn each_security_scheme_becomes_a_connection_parameter_set() {
    let imported = Imported::tasks();
    let security = &imported.connector.security;
    let names: Vec<&str> = security.schemes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "apiKeyHeader",
            "apiKeyQuery",
            "basicAuth",
            "bearerAuth",
            "oauthCode",
            "oauthClient",
            "oauthImplicit",
            "oauthPassword"
        ]
    );
    assert!(security.connection_parameters.is_empty(), "sets, not plain parameters");
    let sets = security.parameter_sets.as_ref().expect("sets");
    assert_eq!(sets.values.len(), 8);
    assert_eq!(
        security.schemes[0].kind,
        SecuritySchemeKind::ApiKey { name: "X-Api-Key".into(), location: Location::Header }
    );
    assert_eq!(
        security.schemes[1].kind,
        SecuritySchemeKind::ApiKey { name: "api_key".into(), location: Location::Query }
    );
    let api_key = &imported.set("apiKeyHeader")[0];
    assert_eq!(api_key.name, "api_key");
    assert_eq!(api_key.kind, Some(ConnectionParameterType::SecureString));
    assert!(api_key.is_required());
    assert_eq!(api_key.ui.as_ref().and_then(|u| u.description.as_deref()), Some("Your Contoso API key"));
    let basic: Vec<_> = imported.set("basicAuth").iter().map(|p| (p.name.as_str(), p.kind.clone())).collect();
    assert_eq!(
        basic,
        [
            ("username", Some(ConnectionParameterType::String)),
            ("password", Some(ConnectionParameterType::SecureString))
        ]
    );
    assert_eq!(security.schemes[2].kind, SecuritySchemeKind::Basic);
}

#[test]
fn bearer_becomes_an_api_key_in_the_authorization_header() {
    let imported = Imported::tasks();
    let scheme = &imported.connector.security.schemes[3];
    assert_eq!(
        scheme.kind,
        SecuritySchemeKind::ApiKey { name: "Authorization".into(), location: Location::Header }
    );
    let token = &imported.set("bearerAuth")[0];
    assert_eq!(
        (token.name.as_str(), token.kind.clone()),
        ("api_key", Some(ConnectionParameterType::SecureString))
    );
    assert!(imported.lost_at("/components/securitySchemes/bearerAuth"), "users must type `Bearer `");
}

#[test]
fn authorization_code_flow_becomes_oauth_settings() {
    let imported = Imported::tasks();
    let token = &imported.set("oauthCode")[0];
    assert_eq!(token.name, "token");
    assert_eq!(token.kind, Some(ConnectionParameterType::OAuthSetting));
    let oauth = token.oauth.as_ref().expect("oAuthSettings");
    assert_eq!(oauth.identity_provider, IdentityProvider::OAuth2);
    assert_eq!(oauth.client_id.as_deref(), Some(CLIENT_ID_PLACEHOLDER));
    assert_eq!(oauth.scopes, ["tasks.read", "tasks.write"]);
    assert_eq!(
        oauth.custom_parameter("authorizationUrl"),
        Some("https://id.contoso.example/oauth2/authorize")
    );
    assert_eq!(oauth.custom_parameter("tokenUrl"), Some("https://id.contoso.example/oauth2/token"));
    assert_eq!(oauth.custom_parameter("refreshUrl"), Some("https://id.contoso.example/oauth2/refresh"));
    assert!(oauth.extra.get(GRANT_KEY).is_none());
    let SecuritySchemeKind::OAuth2 { flow, scopes, .. } = &imported.connector.security.schemes[4].kind else {
        panic!("oauthCode is an OAuth 2.0 definition");
    };
    assert_eq!(flow.as_deref(), Some("accessCode"));
    assert_eq!(scopes["tasks.write"], "Change tasks");
    assert!(imported.lost_at("/components/securitySchemes/oauthCode/flows/implicit"), "one flow per scheme");
}

#[test]
fn other_oauth_flows_map_what_fits_and_are_reported() {
    let imported = Imported::tasks();
    let settings = |set: &str| imported.set(set)[0].oauth.clone().expect("oAuthSettings");
    let client = settings("oauthClient");
    assert_eq!(client.extra[GRANT_KEY], "client_credentials");
    assert_eq!(client.custom_parameter("authorizationUrl"), None);
    assert_eq!(client.custom_parameter("refreshUrl"), Some("https://id.contoso.example/oauth2/token"));
    assert!(imported.lost_at("/components/securitySchemes/oauthClient"));
    let implicit = settings("oauthImplicit");
    assert_eq!(implicit.extra[GRANT_KEY], "implicit");
    assert_eq!(implicit.custom_parameter("tokenUrl"), None);
    assert!(imported.lost_at("/components/securitySchemes/oauthImplicit"));
    let password = settings("oauthPassword");
    assert_eq!(password.extra[GRANT_KEY], "password");
    assert!(imported.lost_at("/components/securitySchemes/oauthPassword"));
    assert!(imported.connector.security.schemes.iter().all(|s| s.name != "oidc"));
    assert!(imported.lost_at("/components/securitySchemes/oidc"), "OpenID Connect has no equivalent");
}

#[test]
fn body_callback_becomes_a_webhook_trigger() {
    let imported = Imported::tasks();
    let (item, op) = imported.op("OnTaskCompleted");
    let definitions = &imported.connector.definitions;
    assert_eq!(
        op.kind(item, definitions),
        OperationKind::Trigger { kind: TriggerKind::Webhook, cardinality: Cardinality::Single }
    );
    let body = imported.param("OnTaskCompleted", "body");
    assert_eq!(body.notification_url_path(definitions), Some(vec!["callbackUrl".to_string()]));
    assert_eq!(body.schema["properties"]["callbackUrl"]["x-ms-visibility"], "internal");
    assert_eq!(body.schema["properties"]["projectId"]["x-ms-summary"], "Project", "the $ref was inlined");
    assert_eq!(
        item.notification_content,
        Some(json!({"description": "Task completed event", "schema": {"$ref": "#/definitions/TaskEvent"}}))
    );
    let shared = &definitions["Subscription"]["properties"]["callbackUrl"];
    assert!(shared.get("x-ms-notification-url").is_none(), "the shared definition is untouched");
}

#[test]
fn callback_url_not_from_the_body_is_reported() {
    let imported = Imported::tasks();
    let (item, op) = imported.op("RequestReport");
    assert_eq!(op.kind(item, &imported.connector.definitions), OperationKind::Action);
    assert!(item.notification_content.is_none());
    assert!(imported.lost_at("/paths/~1reports/post/callbacks/reportReady/{$request.query.notify}"));
}

#[test]
fn openapi31_type_arrays_with_null_become_x_nullable() {
    let imported = Imported::notes();
    let note = imported.definition("Note");
    assert_eq!(note["properties"]["body"], json!({"type": "string", "x-nullable": true}));
    assert_eq!(imported.definition("NewNote")["properties"]["body"]["x-nullable"], true);
    assert_eq!(
        note["properties"]["color"],
        json!({"x-nullable": true, "allOf": [{"$ref": "#/definitions/Color"}]})
    );
    let tag = imported.param("ListNotes", "tag");
    assert_eq!(tag.schema, json!({"type": "string"}));
    assert_eq!(tag.extra["x-nullable"], true);
}

#[test]
fn openapi31_const_examples_and_numeric_bounds_are_rewritten() {
    let imported = Imported::notes();
    let note = imported.definition("Note");
    let props = &note["properties"];
    assert_eq!(props["kind"], json!({"enum": ["note"], "type": "string"}));
    assert_eq!(props["title"], json!({"type": "string", "example": "Groceries"}));
    assert!(imported.lost_at("/components/schemas/Note/properties/title/examples"), "the second example");
    assert_eq!(note["example"], json!({"id": "n1", "title": "Groceries"}));
    assert_eq!(
        props["rating"],
        json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 5, "exclusiveMaximum": true})
    );
    assert_eq!(props["thumbnail"], json!({"type": "string", "format": "byte"}));
    assert_eq!(
        props["parent"],
        json!({"description": "The note this one answers.", "allOf": [{"$ref": "#/definitions/Note"}]})
    );
    assert_eq!(props["meta"], json!({}));
    assert!(imported.lost_at("/components/schemas/Note/properties/meta/type"));
    assert!(imported.lost_at("/components/schemas/Note/properties/labels/prefixItems"));
}

#[test]
fn openapi31_examples_become_test_values_and_response_examples() {
    let imported = Imported::notes();
    assert_eq!(imported.param("ListNotes", "tag").test_value, Some(json!("work")));
    assert_eq!(imported.param("ListNotes", "updatedSince").test_value, Some(json!("2024-05-01T00:00:00Z")));
    let (_, op) = imported.op("ListNotes");
    assert_eq!(op.responses[0].status, "200", "YAML integer keys are statuses too");
    assert_eq!(
        op.responses[0].schema,
        Some(json!({"type": "array", "items": {"$ref": "#/definitions/Note"}}))
    );
    assert_eq!(op.responses[0].extra["examples"]["application/json"][0]["title"], "Groceries");
}

#[test]
fn openapi31_webhooks_are_reported_not_imported() {
    let imported = Imported::notes();
    assert!(imported.lost_at("/webhooks/noteCreated"));
    let definitions = &imported.connector.definitions;
    assert!(
        imported.connector.operations().all(|(item, op)| op.kind(item, definitions) == OperationKind::Action)
    );
}

#[test]
fn openapi31_single_scheme_uses_plain_connection_parameters() {
    let imported = Imported::notes();
    let security = &imported.connector.security;
    assert!(security.parameter_sets.is_none());
    let names: Vec<&str> = security.connection_parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["api_key"]);
    assert_eq!(security.requirement, Some(json!([{"bearer": []}])));
    assert_eq!(security.schemes[0].description.as_deref(), Some("A Contoso Notes personal access token."));
}

#[test]
fn openapi31_info_summary_license_and_dialect() {
    let imported = Imported::notes();
    let identity = &imported.connector.identity;
    assert_eq!(identity.description.as_deref(), Some("Shared notes for teams"), "summary stands in");
    assert_eq!(identity.info_extra["license"], json!({"name": "MIT"}));
    assert!(imported.lost_at("/info/license/identifier"));
    assert!(imported.lost_at("/jsonSchemaDialect"));
    assert_eq!(imported.connector.backend.base_path.as_deref(), Some("/api"), "trailing slash dropped");
}

#[test]
fn ill_typed_documents_give_diagnostics_not_panics() {
    let imported = Imported::load("odd-3.0.json");
    let has = |code: &str, pointer: &str| {
        imported.diagnostics.iter().any(|d| d.code == code && d.pointer == pointer)
    };
    assert!(has("PB0105", "/info"));
    assert!(has("PB0105", "/servers"));
    assert!(has("PB0202", "/paths/~1loop/parameters/0"), "a $ref cycle is reported");
    assert!(has("PB0201", "/paths/~1missing/post/requestBody"), "a dangling $ref is reported");
    assert!(has("PB0105", "/components/schemas/Bad"));
    assert!(has("PB0105", "/components/securitySchemes/broken"));
    assert!(has("PB0109", "/components/securitySchemes/session"), "API keys in cookies");
    assert!(has("PB0109", "/paths/x-internal"));
    let ids: Vec<String> = imported.connector.operations().map(|(_, op)| op.display_id()).collect();
    assert_eq!(ids, ["GetLoop", "PostMissing", "GetExternal"]);
    let (_, external) = imported.op("GetExternal");
    assert_eq!(external.responses[0].schema, Some(json!({"$ref": "other.yaml#/Thing"})));
}

#[test]
fn a_document_that_is_not_an_object_is_reported() {
    let mut diagnostics = Vec::new();
    let mut ctx = Ctx { file: "list.json", diagnostics: &mut diagnostics };
    let connector = import_openapi3(json!(["not", "a", "document"]), &mut ctx);
    assert_eq!(connector, Connector::default());
    assert_eq!(diagnostics[0].code, "PB0106");
}
