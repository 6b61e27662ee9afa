//! The authorization walk: every route of the API, called by the owner, a user the connector was
//! shared with (can use), an unshared user of the same environment, a user of another environment
//! and an anonymous caller. Any answer other than the expected one is a leak (or a lockout).

mod common;

use common::{Client, Harness, connect, contoso, upload_contoso};
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

/// One route: method, path (with `{C}` the connector and `{K}` the owner's connection), body, and
/// the status each persona must get.
struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: fn(Persona) -> u16,
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

fn routes() -> Vec<Route> {
    let upload = |c: &str| json!({"apiDefinition": c, "apiProperties": "{\"properties\": {}}"});
    vec![
        Route { method: Method::GET, path: "/api/connectors/{C}", body: None, expect: read_connector },
        Route {
            method: Method::GET,
            path: "/api/connectors/{C}/revisions",
            body: None,
            expect: read_connector,
        },
        Route {
            method: Method::GET,
            path: "/api/connectors/{C}/revisions/1",
            body: None,
            expect: read_connector,
        },
        Route {
            method: Method::GET,
            path: "/api/connectors/{C}/package",
            body: None,
            expect: read_connector,
        },
        Route {
            method: Method::PUT,
            path: "/api/connectors/{C}",
            body: Some(upload("not json")),
            // The owner's broken upload is refused as such; the others never get that far.
            expect: |p| if p == Persona::Owner { 422 } else { edit_connector(p) },
        },
        Route {
            method: Method::POST,
            path: "/api/connectors/{C}/share",
            // Re-grants what the shared user already has, so the walk itself changes no access.
            body: Some(json!({"user": "shared@example.com", "level": "can_use"})),
            expect: edit_connector,
        },
        Route {
            method: Method::POST,
            path: "/api/connectors/{C}/connections",
            body: Some(json!({"parameterSet": "apiKey", "values": {"api_key": "k"}})),
            expect: |p| match p {
                Persona::Owner | Persona::Shared => 201,
                other => read_connector(other),
            },
        },
        Route { method: Method::GET, path: "/api/connections/{K}", body: None, expect: own_connection },
        Route {
            method: Method::POST,
            path: "/api/connections/{K}/operations/ListProjects",
            body: Some(json!({})),
            expect: own_connection,
        },
        Route {
            method: Method::POST,
            path: "/api/connections/{K}/test",
            body: Some(json!({})),
            expect: own_connection,
        },
        Route {
            method: Method::GET,
            path: "/api/connections/{K}/oauth/start?mode=json",
            body: None,
            // The connection uses an API key: the owner is told it is not an OAuth connection.
            expect: |p| if p == Persona::Owner { 400 } else { own_connection(p) },
        },
        Route {
            method: Method::DELETE,
            path: "/api/connections/{K}",
            body: None,
            // Walked before the owner's call, which deletes it (see the order in the test).
            expect: |p| match p {
                Persona::Owner => 204,
                other => own_connection(other),
            },
        },
        Route {
            method: Method::DELETE,
            path: "/api/connectors/{C}",
            body: None,
            expect: |p| match p {
                Persona::Owner => 204,
                other => edit_connector(other),
            },
        },
    ]
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

    let client = |p: Persona| -> &Client {
        match p {
            Persona::Owner => &h.admin,
            Persona::Shared => &shared,
            Persona::Unshared => &unshared,
            Persona::OtherEnvironment => &other,
            Persona::Anonymous => &anonymous,
        }
    };
    let mut failures = Vec::new();
    for route in routes() {
        let path = route.path.replace("{C}", &connector).replace("{K}", &connection);
        // Everyone but the owner first, so destructive routes are still there for them.
        for persona in PERSONAS.iter().rev() {
            let (status, body) =
                client(*persona).send(route.method.clone(), &path, route.body.as_ref()).await;
            let expected = (route.expect)(*persona);
            if status != expected {
                failures.push(format!(
                    "{} {path} as {persona:?}: {status} (expected {expected}) {body}",
                    route.method
                ));
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
