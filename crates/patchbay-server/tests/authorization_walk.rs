//! The authorization walk: every documented route of the API (the OpenAPI document is the list),
//! called by the owner, a user the connector was shared with (can use), an unshared user of the same
//! environment, a user of another environment and an anonymous caller. Any answer other than the
//! expected one is a leak (or a lockout); a documented route without an expectation fails the walk.

mod common;

use common::{Client, Harness, connect, contoso, documented_routes, upload_contoso};
use reqwest::Method;
use serde_json::{Value, json};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    Owner,
    Shared,
    Unshared,
    OtherEnvironment,
    Anonymous,
}

const PERSONAS: [Persona; 5] =
    [Persona::Owner, Persona::Shared, Persona::Unshared, Persona::OtherEnvironment, Persona::Anonymous];

/// What the walk does with one documented route: the concrete path (`{C}` the connector, `{K}` the
/// owner's connection), the body, the status each persona must get, and when it runs (`phase`:
/// routes that publish or delete run after the others, in this order).
struct Expectation {
    path: &'static str,
    body: Option<Value>,
    expect: fn(Persona) -> u16,
    phase: u8,
}

/// Read access to the connector: owner and shared users; others must not learn it exists.
fn read_connector(p: Persona) -> u16 {
    match p {
        Persona::Owner | Persona::Shared => 200,
        Persona::Anonymous => 401,
        _ => 404,
    }
}

/// Changing the connector: owner only; a can-use user is told no; others learn nothing.
fn edit_connector(p: Persona) -> u16 {
    match p {
        Persona::Owner => 200,
        Persona::Shared => 403,
        Persona::Anonymous => 401,
        _ => 404,
    }
}

/// The owner's connection: private to the owner.
fn own_connection(p: Persona) -> u16 {
    match p {
        Persona::Owner => 200,
        Persona::Anonymous => 401,
        _ => 404,
    }
}

/// Any signed-in caller; only the anonymous one is refused.
fn signed_in(p: Persona) -> u16 {
    if p == Persona::Anonymous { 401 } else { 200 }
}

/// Open to everyone.
fn anyone(_: Persona) -> u16 {
    200
}

/// The expectation for a documented route, by `METHOD /template`; `None` for a route the walk does
/// not know yet (the walk then fails and asks for one).
fn expectation(method: &Method, template: &str) -> Option<Expectation> {
    let upload = |c: &str| json!({"apiDefinition": c, "apiProperties": "{\"properties\": {}}"});
    let at = |path, body, expect, phase| Some(Expectation { path, body, expect, phase });
    match (method.as_str(), template) {
        ("GET", "/healthz" | "/readyz" | "/metrics" | "/api/openapi.json") => at("", None, anyone, 0),
        // Anonymous by design: the single-use state is the proof, and there is none here.
        ("GET", "/oauth/callback") => at("/oauth/callback", None, |_| 400, 0),
        ("GET", "/api/connectors" | "/api/connections" | "/api/catalogue") => at("", None, signed_in, 0),
        ("POST", "/api/connectors") => {
            // A broken upload: refused as such for every signed-in caller, and nothing is created.
            let mut body = upload("not json");
            body["name"] = json!("Walk");
            at("", Some(body), |p| if p == Persona::Anonymous { 401 } else { 422 }, 0)
        }
        ("GET", "/api/connectors/{id}") => at("/api/connectors/{C}", None, read_connector, 0),
        ("GET", "/api/connectors/{id}/revisions") => {
            at("/api/connectors/{C}/revisions", None, read_connector, 0)
        }
        ("GET", "/api/connectors/{id}/revisions/{n}") => {
            at("/api/connectors/{C}/revisions/1", None, read_connector, 0)
        }
        ("GET", "/api/connectors/{id}/package") => at("/api/connectors/{C}/package", None, read_connector, 0),
        ("PUT", "/api/connectors/{id}") => {
            // The owner's broken upload is refused as such; the others never get that far.
            let expect = |p| if p == Persona::Owner { 422 } else { edit_connector(p) };
            at("/api/connectors/{C}", Some(upload("not json")), expect, 0)
        }
        ("POST", "/api/connectors/{id}/share") => {
            // Re-grants what the shared user already has, so the walk itself changes no access.
            let body = json!({"user": "shared@example.com", "level": "can_use"});
            at("/api/connectors/{C}/share", Some(body), edit_connector, 0)
        }
        ("POST", "/api/connectors/{id}/connections") => {
            let body = json!({"parameterSet": "apiKey", "values": {"api_key": "k"}});
            let expect = |p| match p {
                Persona::Owner | Persona::Shared => 201,
                other => read_connector(other),
            };
            at("/api/connectors/{C}/connections", Some(body), expect, 0)
        }
        // The owner is an admin and the sample passes the certification checklist: it is published.
        ("POST", "/api/connectors/{id}/publish") => {
            at("/api/connectors/{C}/publish", None, edit_connector, 1)
        }
        ("DELETE", "/api/connectors/{id}/publish") => {
            // While published, every environment sees the connector, and nobody else may edit it.
            let expect = |p| match p {
                Persona::Owner => 200,
                Persona::Anonymous => 401,
                _ => 403,
            };
            at("/api/connectors/{C}/publish", None, expect, 2)
        }
        ("GET", "/api/connections/{id}") => at("/api/connections/{K}", None, own_connection, 0),
        ("POST", "/api/connections/{id}/operations/{operation}") => {
            at("/api/connections/{K}/operations/ListProjects", Some(json!({})), own_connection, 0)
        }
        ("POST", "/api/connections/{id}/test") => {
            at("/api/connections/{K}/test", Some(json!({})), own_connection, 0)
        }
        ("GET", "/api/connections/{id}/oauth/start") => {
            // The connection uses an API key: the owner is told it is not an OAuth connection.
            let expect = |p| if p == Persona::Owner { 400 } else { own_connection(p) };
            at("/api/connections/{K}/oauth/start?mode=json", None, expect, 0)
        }
        ("GET", "/apim/{connector}/{connection}/{path}") => {
            at("/apim/{C}/{K}/projects", None, own_connection, 0)
        }
        ("POST" | "PUT" | "PATCH" | "DELETE", "/apim/{connector}/{connection}/{path}") => {
            // No operation of the sample answers these on /projects/none: the owner learns that.
            let expect = |p| if p == Persona::Owner { 404 } else { own_connection(p) };
            at("/apim/{C}/{K}/projects/none/x", Some(json!({})), expect, 0)
        }
        ("DELETE", "/api/connections/{id}") => {
            let expect = |p| if p == Persona::Owner { 204 } else { own_connection(p) };
            at("/api/connections/{K}", None, expect, 4)
        }
        ("DELETE", "/api/connectors/{id}") => {
            let expect = |p| if p == Persona::Owner { 204 } else { edit_connector(p) };
            at("/api/connectors/{C}", None, expect, 5)
        }
        _ => trigger_expectation(method, template)
            .or_else(|| flow_expectation(method, template))
            .or_else(|| gateway_expectation(method, template)),
    }
}

/// The expectations of the trigger routes and the webhook callback.
fn trigger_expectation(method: &Method, template: &str) -> Option<Expectation> {
    let at = |path, body, expect, phase| Some(Expectation { path, body, expect, phase });
    match (method.as_str(), template) {
        ("POST", "/api/connections/{id}/triggers") => {
            let body = json!({"operationId": "OnNewOrUpdatedTasks", "enabled": false});
            let expect = |p| if p == Persona::Owner { 201 } else { own_connection(p) };
            at("/api/connections/{K}/triggers", Some(body), expect, 0)
        }
        ("GET", "/api/triggers") => at("", None, signed_in, 0),
        // `{T}` is a disabled polling trigger of the owner's: private like the connection.
        ("GET", "/api/triggers/{id}") => at("/api/triggers/{T}", None, own_connection, 0),
        ("GET", "/api/triggers/{id}/events") => at("/api/triggers/{T}/events", None, own_connection, 0),
        ("POST", "/api/triggers/{id}/poll") => at("/api/triggers/{T}/poll", None, own_connection, 0),
        ("POST", "/api/triggers/{id}/enable") => at("/api/triggers/{T}/enable", None, own_connection, 1),
        ("POST", "/api/triggers/{id}/disable") => at("/api/triggers/{T}/disable", None, own_connection, 2),
        ("DELETE", "/api/triggers/{id}") => {
            let expect = |p| if p == Persona::Owner { 204 } else { own_connection(p) };
            at("/api/triggers/{T}", None, expect, 3)
        }
        // Anonymous by design (the secret in the path is the proof); a wrong one stores nothing.
        ("POST", "/hooks/{subscription}/{secret}") => {
            at("/hooks/sub_none/wrong", Some(json!({})), |_| 404, 0)
        }
        _ => None,
    }
}

/// The expectations of the flow and run routes (`{F}` a flow of the owner's, `{R}` one of its runs).
fn flow_expectation(method: &Method, template: &str) -> Option<Expectation> {
    let at = |path, body, expect, phase| Some(Expectation { path, body, expect, phase });
    match (method.as_str(), template) {
        ("POST", "/api/flows") => {
            // Uses the owner's connection: only the owner may; the others are told it is not theirs.
            let body =
                json!({"name": "Walked", "definition": walk_flow(), "connections": {"contoso": "{K}"}});
            let expect = |p| match p {
                Persona::Owner => 201,
                Persona::Anonymous => 401,
                _ => 404,
            };
            at("", Some(body), expect, 0)
        }
        ("GET", "/api/flows") => at("", None, signed_in, 0),
        // `{F}` is a Request-triggered flow of the owner's and `{R}` one of its runs: private.
        ("GET", "/api/flows/{id}") => at("/api/flows/{F}", None, own_connection, 0),
        ("PUT", "/api/flows/{id}") => {
            let body = json!({"definition": walk_flow(), "connections": {"contoso": "{K}"}});
            at("/api/flows/{F}", Some(body), own_connection, 0)
        }
        ("POST", "/api/flows/{id}/enable") => at("/api/flows/{F}/enable", None, own_connection, 0),
        ("POST", "/api/flows/{id}/run") => {
            let expect = |p| if p == Persona::Owner { 202 } else { own_connection(p) };
            at("/api/flows/{F}/run", Some(json!({})), expect, 1)
        }
        ("POST", "/api/flows/{id}/disable") => at("/api/flows/{F}/disable", None, own_connection, 2),
        ("GET", "/api/flows/{id}/runs") => at("/api/flows/{F}/runs", None, own_connection, 0),
        ("GET", "/api/runs/{id}") => at("/api/runs/{R}", None, own_connection, 0),
        ("POST", "/api/runs/{id}/resubmit") => {
            let expect = |p| if p == Persona::Owner { 201 } else { own_connection(p) };
            at("/api/runs/{R}/resubmit", None, expect, 1)
        }
        ("POST", "/api/runs/{id}/cancel") => {
            // The run has finished: the owner is told it cannot be cancelled any more.
            let expect = |p| if p == Persona::Owner { 409 } else { own_connection(p) };
            at("/api/runs/{R}/cancel", None, expect, 2)
        }
        ("DELETE", "/api/flows/{id}") => {
            let expect = |p| if p == Persona::Owner { 204 } else { own_connection(p) };
            at("/api/flows/{F}", None, expect, 3)
        }
        _ => None,
    }
}

/// The people of the owner's environment; the other environment learns nothing.
fn same_environment(p: Persona) -> u16 {
    match p {
        Persona::OtherEnvironment => 404,
        Persona::Anonymous => 401,
        _ => 200,
    }
}

/// The expectations of the gateway routes (`{G}` a gateway the owner created).
fn gateway_expectation(method: &Method, template: &str) -> Option<Expectation> {
    let at = |path, body, expect, phase| Some(Expectation { path, body, expect, phase });
    match (method.as_str(), template) {
        // A nameless gateway: refused as such for every signed-in caller, and nothing is created.
        ("POST", "/api/gateways") => {
            at("", Some(json!({"name": " "})), |p| if p == Persona::Anonymous { 401 } else { 422 }, 0)
        }
        ("GET", "/api/gateways") => at("", None, signed_in, 0),
        ("GET", "/api/gateways/{id}") => at("/api/gateways/{G}", None, same_environment, 0),
        // Only a gateway token opens the agents' socket: every user token is refused.
        ("GET", "/api/gateways/connect") => at("", None, |_| 401, 0),
        // Unbinding (it is not bound): the walk's calls keep going directly.
        ("PUT", "/api/connections/{id}/gateway") => {
            at("/api/connections/{K}/gateway", Some(json!({"gatewayId": null})), own_connection, 0)
        }
        // Between nodes only: no user token opens it.
        ("POST", "/api/gateways/{id}/relay") => at("/api/gateways/{G}/relay", Some(json!({})), |_| 401, 0),
        // A plain GET is not a WebSocket: each signed-in caller is told so.
        ("GET", "/api/tunnels/connect") => {
            at("", None, |p| if p == Persona::Anonymous { 401 } else { 400 }, 0)
        }
        // Anonymous by design (the random id is the proof); an unknown one leads nowhere.
        ("GET" | "POST" | "PUT" | "PATCH" | "DELETE", "/t/{id}/{path}") => {
            at("/t/none/x", Some(json!({})), |_| 404, 0)
        }
        ("GET" | "POST" | "PUT" | "PATCH" | "DELETE", "/t/{id}/") => {
            at("/t/none/", Some(json!({})), |_| 404, 0)
        }
        ("DELETE", "/api/gateways/{id}") => {
            let expect = |p| match p {
                Persona::Owner => 204,
                Persona::Shared | Persona::Unshared => 403,
                other => same_environment(other),
            };
            at("/api/gateways/{G}", None, expect, 3)
        }
        _ => None,
    }
}

/// A flow the walk can run: a Request trigger and one Compose.
fn walk_flow() -> Value {
    json!({"triggers": {"manual": {"type": "Request", "kind": "Http"}},
           "actions": {"Say": {"type": "Compose", "runAfter": {}, "inputs": "hello"}}})
}

server_test!(no_route_leaks_or_locks_out, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (_, shared) = h.user("shared@example.com").await;
    let (_, unshared) = h.user("unshared@example.com").await;
    let other = h.other_environment_user().await;
    let anonymous = h.admin.with_token("");
    let (status, body) = h
        .admin
        .post(
            &format!("/api/connectors/{connector}/share"),
            json!({"user": "shared@example.com", "level": "can_use"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let trigger_body = json!({"operationId": "OnNewOrUpdatedTasks", "enabled": false});
    let (status, trigger) =
        h.admin.post(&format!("/api/connections/{connection}/triggers"), trigger_body).await;
    assert_eq!(status, 201, "{trigger}");
    let trigger = trigger["id"].as_str().expect("a trigger id").to_owned();

    let flow_body =
        json!({"name": "Walk flow", "definition": walk_flow(), "connections": {"contoso": connection}});
    let (status, flow) = h.admin.post("/api/flows", flow_body).await;
    assert_eq!(status, 201, "{flow}");
    let flow = flow["id"].as_str().expect("a flow id").to_owned();
    assert_eq!(h.admin.post(&format!("/api/flows/{flow}/enable"), json!({})).await.0, 200);
    let (status, started) = h.admin.post(&format!("/api/flows/{flow}/run"), json!({})).await;
    assert_eq!(status, 202, "{started}");
    let run = started["runId"].as_str().expect("a run id").to_owned();
    for _ in 0..100 {
        let (_, detail) = h.admin.get(&format!("/api/runs/{run}")).await;
        if detail["run"]["status"] == "Succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let (status, gateway) = h.admin.post("/api/gateways", json!({"name": "Walk gateway"})).await;
    assert_eq!(status, 201, "{gateway}");
    let gateway = gateway["id"].as_str().expect("a gateway id").to_owned();

    let client = |p: Persona| -> &Client {
        match p {
            Persona::Owner => &h.admin,
            Persona::Shared => &shared,
            Persona::Unshared => &unshared,
            Persona::OtherEnvironment => &other,
            Persona::Anonymous => &anonymous,
        }
    };
    // The documented routes are the walk's list: one it has no expectation for fails it.
    let mut failures = Vec::new();
    let mut walk = Vec::new();
    for (method, template) in documented_routes() {
        match expectation(&method, &template) {
            Some(expectation) => walk.push((method, template, expectation)),
            None => failures.push(format!("add an expectation for {method} {template}")),
        }
    }
    walk.sort_by_key(|(_, _, expectation)| expectation.phase);
    for (method, template, route) in &walk {
        let path = if route.path.is_empty() { template.as_str() } else { route.path };
        let path = path
            .replace("{C}", &connector)
            .replace("{K}", &connection)
            .replace("{T}", &trigger)
            .replace("{F}", &flow)
            .replace("{R}", &run)
            .replace("{G}", &gateway);
        let body = route.body.as_ref().map(|body| {
            let text = body.to_string().replace("{K}", &connection).replace("{G}", &gateway);
            serde_json::from_str::<Value>(&text).unwrap_or_default()
        });
        // Everyone but the owner first, so destructive routes are still there for them.
        for persona in PERSONAS.iter().rev() {
            let (status, body) = client(*persona).send(method.clone(), &path, body.as_ref()).await;
            let expected = (route.expect)(*persona);
            if status != expected {
                failures
                    .push(format!("{method} {path} as {persona:?}: {status} (expected {expected}) {body}"));
            }
        }
    }
    // Lists: only the owner and the shared user see the connector; only the owner the connection.
    for persona in PERSONAS {
        let (status, list) = client(persona).get("/api/connectors").await;
        if persona == Persona::Anonymous {
            assert_eq!(status, 401);
            continue;
        }
        let text = list.to_string();
        assert!(!text.contains("\"secret"), "{text}");
        if matches!(persona, Persona::Unshared | Persona::OtherEnvironment) && text.contains(&connector) {
            failures.push(format!("GET /api/connectors as {persona:?} lists the connector"));
        }
    }
    assert!(failures.is_empty(), "authorization walk:\n{}", failures.join("\n"));
    h.stop().await;
    api.shutdown().await.unwrap();
});
