//! The portal through a real server on both stores, as a browser without JavaScript uses it:
//! signing in (token and password) and out, CSRF refusals, every page rendering, importing the
//! sample connector and a broken file (its diagnostics shown with the file's lines), creating a
//! connection and trying an operation (the response shown, the API key masked), flows with their
//! graph, enabling, runs and resubmit; and no one seeing another person's records.

mod common;

use std::time::Duration;

use common::{Harness, connect, contoso, contoso_upload, upload_contoso};
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

/// A browser session on the portal: the session cookie and the CSRF token of its pages.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
}

/// What a page answered: status, `Location`, body.
struct Page {
    status: u16,
    location: String,
    body: String,
}

impl Browser {
    fn new(base: &str) -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { base: base.to_owned(), http, cookie: None }
    }

    /// Signs in with `fields` (urlencoded); keeps the cookie; answers the answer.
    async fn sign_in(&mut self, fields: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}/portal/login", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode(fields))
            .send()
            .await
            .unwrap();
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let set = set.to_str().unwrap().to_owned();
            assert!(
                set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/portal"),
                "{set}"
            );
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
        }
        page(response).await
    }

    async fn get(&self, path: &str) -> Page {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        page(request.send().await.unwrap()).await
    }

    /// The CSRF token of a page's forms.
    async fn csrf(&self) -> String {
        let body = self.get("/portal/connectors").await.body;
        let start = body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        body[start..start + body[start..].find('"').unwrap()].to_owned()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode(fields));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        page(request.send().await.unwrap()).await
    }

    /// Creates a connection through the new-connection form; answers the redirect to its page.
    async fn connect(&self, csrf: &str, connector: &str, set: &str, values: &[(&str, &str)]) -> Page {
        let mut fields = vec![("csrf", csrf), ("connector", connector), ("parameter_set", set)];
        fields.extend_from_slice(values);
        let created = self.post("/portal/connections", &fields).await;
        assert_eq!(created.status, 303, "{}", created.body);
        created
    }

    /// Posts a multipart form of `(name, file name or "", text)` parts.
    async fn post_multipart(&self, path: &str, parts: &[(&str, &str, &str)]) -> Page {
        let boundary = "----patchbay-test-boundary";
        let mut body = String::new();
        for (name, file, text) in parts {
            body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""));
            if !file.is_empty() {
                body.push_str(&format!("; filename=\"{file}\"\r\nContent-Type: application/json"));
            }
            body.push_str(&format!("\r\n\r\n{text}\r\n"));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        page(request.send().await.unwrap()).await
    }
}

/// A browser signed in as the admin, and its CSRF token.
async fn admin_browser(h: &Harness) -> (Browser, String) {
    let mut browser = Browser::new(&h.server.url);
    browser.sign_in(&[("token", h.admin.token())]).await;
    let csrf = browser.csrf().await;
    (browser, csrf)
}

fn encode(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

async fn page(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let location =
        response.headers().get(LOCATION).map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default();
    Page { status, location, body: response.text().await.unwrap() }
}

server_test!(signing_in_and_out, |db| {
    let h = Harness::start(&db).await;
    let mut browser = Browser::new(&h.server.url);
    let first = browser.get("/portal/connectors?q=x").await;
    assert_eq!(first.status, 303);
    assert_eq!(first.location, "/portal/login?next=%2Fportal%2Fconnectors%3Fq%3Dx");
    assert_eq!(browser.get("/").await.location, "/portal");
    let login = browser.http.get(format!("{}/portal/login", h.server.url)).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let policy = login.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'self'"), "{policy}");
    assert_eq!(login.headers()["x-frame-options"], "DENY");

    let cross_site = browser
        .http
        .post(format!("{}/portal/login", h.server.url))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .body(encode(&[("token", h.admin.token())]))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403, "a sign-in posted from another site is refused");
    assert!(cross_site.headers().get(SET_COOKIE).is_none());
    let refused = browser.sign_in(&[("token", "pb_wrong")]).await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("That sign-in did not work"));
    assert!(browser.cookie.is_none());

    let signed = browser.sign_in(&[("token", h.admin.token()), ("next", "/portal/flows")]).await;
    assert_eq!((signed.status, signed.location.as_str()), (303, "/portal/flows"));
    let flows = browser.get("/portal/flows").await;
    assert_eq!(flows.status, 200);
    assert!(flows.body.contains("admin@localhost"));

    let csrf = browser.csrf().await;
    let out = browser.post("/portal/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/portal/login"));
    assert_eq!(browser.get("/portal/flows").await.status, 303, "the session ended in the store");

    let (user, _) = h.user("maker@example.com").await;
    h.store.people().set_password(&user.id, "correct horse").await.unwrap();
    let mut maker = Browser::new(&h.server.url);
    assert_eq!(maker.sign_in(&[("email", "maker@example.com"), ("password", "wrong")]).await.status, 401);
    assert_eq!(
        maker.sign_in(&[("email", "maker@example.com"), ("password", "correct horse")]).await.status,
        303
    );
    assert!(maker.get("/portal/connectors").await.body.contains("maker@example.com"));
    h.server.shutdown().await.unwrap();
});

server_test!(forms_without_the_session_token_are_refused, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let mut browser = Browser::new(&h.server.url);
    browser.sign_in(&[("token", h.admin.token())]).await;
    let forged =
        browser.post(&format!("/portal/connections/{connection}/delete"), &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("Form expired"));
    assert_eq!(browser.post(&format!("/portal/connections/{connection}/delete"), &[]).await.status, 403);
    let import = browser.post_multipart("/portal/connectors/import", &[("name", "", "X")]).await;
    assert_eq!(import.status, 403);
    assert_eq!(h.admin.get(&format!("/api/connections/{connection}")).await.0, 200, "nothing was deleted");
    api.shutdown().await.unwrap();
    h.server.shutdown().await.unwrap();
});

server_test!(importing_connecting_and_trying_an_operation, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let (browser, csrf) = admin_browser(&h).await;
    assert!(browser.get("/portal/connectors/import").await.body.contains("Import a connector"));

    let broken = browser
        .post_multipart(
            "/portal/connectors/import",
            &[
                ("csrf", "", &csrf),
                ("name", "", "Broken"),
                ("definition", "openapi.json", "{\n  \"openapi\": \"3.0.0\",\n  \"paths\": {,}\n}\n"),
            ],
        )
        .await;
    assert_eq!(broken.status, 422, "{}", broken.body);
    assert!(broken.body.contains("class=\"diagnostic\""), "{}", broken.body);
    assert!(
        broken.body.contains("openapi.json, line 3"),
        "the diagnostic names its file and line: {}",
        broken.body
    );

    let upload = contoso_upload(&api);
    let imported = browser
        .post_multipart(
            "/portal/connectors/import",
            &[
                ("csrf", "", &csrf),
                ("name", "", "Contoso Tasks"),
                ("definition", "apiDefinition.swagger.json", upload["apiDefinition"].as_str().unwrap()),
                ("properties", "apiProperties.json", upload["apiProperties"].as_str().unwrap()),
                ("client_secret", "", contoso_tasks::DEMO_CLIENT_SECRET),
            ],
        )
        .await;
    assert_eq!(imported.status, 303, "{}", imported.body);
    let connector_page = browser.get(&imported.location).await;
    assert!(connector_page.body.contains("ListProjects"), "{}", connector_page.body);
    let connector = imported.location.rsplit('/').next().unwrap().to_owned();
    let (_, details) = h.admin.get(&format!("/api/connectors/{connector}")).await;
    assert_eq!(details["hasClientSecret"], true, "the client secret was sealed for the connector");
    assert!(!connector_page.body.contains(contoso_tasks::DEMO_CLIENT_SECRET));
    let listed = browser.get("/portal/connectors?q=contoso").await;
    assert!(listed.body.contains("Contoso Tasks") && listed.body.contains(">mine<"));
    assert!(!browser.get("/portal/connectors?q=nothing-like-it").await.body.contains("Contoso Tasks"));
    let file = browser.get(&format!("/portal/connectors/{connector}/files/apiDefinition.swagger.json")).await;
    assert_eq!(file.status, 200);
    assert!(file.body.contains("\"swagger\""));

    assert!(
        browser
            .get(&format!("/portal/connections/new?connector={connector}"))
            .await
            .body
            .contains("v:apiKey:api_key")
    );
    let key = [("display_name", "Mine"), ("v:apiKey:api_key", contoso_tasks::DEMO_API_KEY)];
    let created = browser.connect(&csrf, &connector, "apiKey", &key).await;
    let connection = created.location.rsplit('/').next().unwrap().to_owned();
    assert!(browser.get("/portal/connections").await.body.contains("Mine"));
    let tested = browser.post(&format!("/portal/connections/{connection}/test"), &[("csrf", &csrf)]).await;
    assert!(browser.get(&tested.location).await.body.contains("Tested: "));

    let form = browser.get(&format!("/portal/connections/{connection}/try?operation=CreateProject")).await;
    assert!(form.body.contains("name=\"p:body\""), "{}", form.body);
    let tried = browser
        .post(
            &format!("/portal/connections/{connection}/try"),
            &[("csrf", &csrf), ("operation", "CreateProject"), ("p:body", "{\"name\": \"From the portal\"}")],
        )
        .await;
    assert_eq!(tried.status, 200);
    assert!(tried.body.contains("id=\"response-status\">201<"), "{}", tried.body);
    assert!(tried.body.contains("From the portal"));
    assert!(tried.body.contains("Request sent") && tried.body.contains("POST http://"));
    assert!(!tried.body.contains(contoso_tasks::DEMO_API_KEY), "the API key is masked");
    let project = tried.body.split("&#34;id&#34;: &#34;").nth(1).and_then(|rest| rest.split("&#34;").next());
    let project = project.expect("the new project's id in the response").to_owned();
    let create_task =
        browser.get(&format!("/portal/connections/{connection}/try?operation=CreateTask")).await;
    assert!(
        create_task.body.contains(&format!("<option value=\"{project}\">From the portal</option>")),
        "the projects are offered, loaded from the backend: {}",
        create_task.body
    );

    let deleted = browser.post(&format!("/portal/connections/{connection}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.location, "/portal/connections");
    assert_eq!(h.admin.get(&format!("/api/connections/{connection}")).await.0, 404);
    api.shutdown().await.unwrap();
    h.server.shutdown().await.unwrap();
});

server_test!(flows_graph_runs_and_resubmit, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let [(_, sample), _] = contoso_tasks::SAMPLE_FLOWS;
    let definition: serde_json::Value = serde_json::from_str(sample).unwrap();
    let body = json!({"name": "Create and answer", "definition": definition, "connections": {"contoso": connection}});
    let (status, flow) = h.admin.post("/api/flows", body).await;
    assert_eq!(status, 201, "{flow}");
    let flow = flow["id"].as_str().unwrap().to_owned();
    let (browser, csrf) = admin_browser(&h).await;
    assert!(browser.get("/portal/flows").await.body.contains("Create and answer"));
    let shown = browser.get(&format!("/portal/flows/{flow}")).await;
    assert!(
        shown.body.contains("class=\"node trigger\"") && shown.body.contains("Create_task"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("No runs yet"));
    let enabled = browser.post(&format!("/portal/flows/{flow}/enable"), &[("csrf", &csrf)]).await;
    assert_eq!(enabled.status, 303);
    assert!(browser.get(&format!("/portal/flows/{flow}")).await.body.contains("id=\"flow-state\">on<"));

    let (_, project) = h
        .admin
        .post(
            &format!("/api/connections/{connection}/operations/CreateProject"),
            json!({"body": {"name": "P"}}),
        )
        .await;
    let project = project["body"]["id"].as_str().unwrap().to_owned();
    h.admin
        .post(&format!("/api/flows/{flow}/run"), json!({"projectId": project, "title": "From a flow"}))
        .await;
    let mut run = String::new();
    for _ in 0..200 {
        let page = browser.get(&format!("/portal/flows/{flow}")).await.body;
        if let Some(start) = page.find("href=\"/portal/runs/") {
            let rest = &page[start + 19..];
            run = rest[..rest.find('"').unwrap()].to_owned();
            if page.contains("badge Succeeded") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let detail = browser.get(&format!("/portal/runs/{run}")).await;
    assert_eq!(detail.status, 200);
    assert!(
        detail.body.contains("Create_task")
            && detail.body.contains("Inputs")
            && detail.body.contains("From a flow"),
        "{}",
        detail.body
    );
    let again = browser.post(&format!("/portal/runs/{run}/resubmit"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status, 303);
    assert!(again.location.starts_with("/portal/runs/") && !again.location.ends_with(&run));
    let disabled = browser.post(&format!("/portal/flows/{flow}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(disabled.status, 303);
    assert!(browser.get(&format!("/portal/flows/{flow}")).await.body.contains("id=\"flow-state\">off<"));
    api.shutdown().await.unwrap();
    h.server.shutdown().await.unwrap();
});

server_test!(no_one_sees_another_persons_records, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let [(_, sample), _] = contoso_tasks::SAMPLE_FLOWS;
    let definition: serde_json::Value = serde_json::from_str(sample).unwrap();
    let (_, flow) = h
        .admin
        .post(
            "/api/flows",
            json!({"name": "Private", "definition": definition, "connections": {"contoso": connection}}),
        )
        .await;
    let flow = flow["id"].as_str().unwrap().to_owned();
    let (_, other) = h.user("other@example.com").await;
    let mut stranger = Browser::new(&h.server.url);
    stranger.sign_in(&[("token", other.token())]).await;
    let csrf = stranger.csrf().await;
    for path in [
        format!("/portal/connectors/{connector}"),
        format!("/portal/connectors/{connector}/files/apiDefinition.swagger.json"),
        format!("/portal/connections/new?connector={connector}"),
        format!("/portal/connections/{connection}"),
        format!("/portal/connections/{connection}/try?operation=ListProjects"),
        format!("/portal/flows/{flow}"),
    ] {
        let page = stranger.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        assert!(!page.body.contains("Contoso") && !page.body.contains("Private"), "{path}");
    }
    for path in [format!("/portal/connections/{connection}/delete"), format!("/portal/flows/{flow}/enable")] {
        assert_eq!(stranger.post(&path, &[("csrf", &csrf)]).await.status, 404, "{path}");
    }
    assert!(!stranger.get("/portal/connectors").await.body.contains("Contoso Tasks"));
    assert!(!stranger.get("/portal/connections").await.body.contains("Mine"));
    assert!(!stranger.get("/portal/flows").await.body.contains("Private"));
    assert_eq!(h.admin.get(&format!("/api/connections/{connection}")).await.0, 200);
    api.shutdown().await.unwrap();
    h.server.shutdown().await.unwrap();
});

server_test!(editing_diffing_and_sharing, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (browser, csrf) = admin_browser(&h).await;
    let editor = browser.get(&format!("/portal/connectors/{connector}/edit")).await;
    assert!(
        editor.body.contains("<textarea name=\"definition\"") && editor.body.contains("swagger"),
        "the definition is in the editor"
    );
    let upload = contoso_upload(&api);
    let (definition, properties) =
        (upload["apiDefinition"].as_str().unwrap(), upload["apiProperties"].as_str().unwrap());

    let edit = format!("/portal/connectors/{connector}/edit");
    let refused = browser
        .post(
            &edit,
            &[("csrf", &csrf), ("definition", "{\n  \"swagger\": \"2.0\",,\n}"), ("properties", properties)],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("class=\"diagnostic\"") && refused.body.contains("line 2"),
        "{}",
        refused.body
    );
    let changed = definition.replacen("Contoso Tasks", "Contoso Tasks Edited", 1);
    assert_ne!(changed, definition);
    let saved =
        browser.post(&edit, &[("csrf", &csrf), ("definition", &changed), ("properties", properties)]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(browser.get(&format!("/portal/connectors/{connector}")).await.body.contains("Revision 2"));
    let diff = browser.get(&format!("/portal/connectors/{connector}/diff")).await;
    assert!(
        diff.body.contains("<span class=\"added\">+ ") && diff.body.contains("Contoso Tasks Edited"),
        "{}",
        diff.body
    );
    assert!(diff.body.contains("<span class=\"removed\">- "));

    let (_, other) = h.user("reader@example.com").await;
    let mut reader = Browser::new(&h.server.url);
    reader.sign_in(&[("token", other.token())]).await;
    assert_eq!(reader.get(&format!("/portal/connectors/{connector}")).await.status, 404);
    let shared = browser
        .post(
            &format!("/portal/connectors/{connector}/share"),
            &[("csrf", &csrf), ("email", "reader@example.com"), ("level", "can_use")],
        )
        .await;
    assert_eq!(shared.status, 303);
    assert!(browser.get(&shared.location).await.body.contains("Shared with reader@example.com"));
    let seen = reader.get(&format!("/portal/connectors/{connector}")).await;
    assert_eq!(seen.status, 200);
    assert!(!seen.body.contains("Edit as JSON"), "can_use does not offer editing");
    let reader_csrf = reader.csrf().await;
    let forbidden = reader
        .post(&edit, &[("csrf", &reader_csrf), ("definition", definition), ("properties", properties)])
        .await;
    assert_eq!(forbidden.status, 403);

    let [(_, sample), _] = contoso_tasks::SAMPLE_FLOWS;
    let flow_definition: serde_json::Value = serde_json::from_str(sample).unwrap();
    let (_, flow) = h.admin.post("/api/flows", json!({"name": "Editable", "definition": flow_definition, "connections": {"contoso": connection}})).await;
    let flow = flow["id"].as_str().unwrap().to_owned();
    let flow_edit = format!("/portal/flows/{flow}/edit");
    assert!(browser.get(&flow_edit).await.body.contains("Create_task"));
    let bad = browser
        .post(&flow_edit, &[("csrf", &csrf), ("definition", "{\n  \"triggers\": }"), ("connections", "{}")])
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("line 2"), "{}", bad.body);
    let connections = json!({"contoso": connection}).to_string();
    let good = browser
        .post(&flow_edit, &[("csrf", &csrf), ("definition", sample), ("connections", &connections)])
        .await;
    assert_eq!(good.status, 303, "{}", good.body);
    assert!(browser.get(&format!("/portal/flows/{flow}")).await.body.contains("revision 2"));
    api.shutdown().await.unwrap();
    h.server.shutdown().await.unwrap();
});

server_test!(importing_by_address, |db| {
    let h = Harness::start(&db).await;
    let (browser, csrf) = admin_browser(&h).await;
    let address = format!("{}/api/openapi.json", h.server.url);
    let imported = browser
        .post_multipart(
            "/portal/connectors/import",
            &[("csrf", "", &csrf), ("name", "", "patchbay itself"), ("url", "", &address)],
        )
        .await;
    assert_eq!(imported.status, 303, "patchbay's own OpenAPI 3.1 document converts: {}", imported.body);
    assert!(browser.get(&imported.location).await.body.contains("listConnectors"));
    let missing = format!("{}/no-such-document.json", h.server.url);
    let refused = browser
        .post_multipart(
            "/portal/connectors/import",
            &[("csrf", "", &csrf), ("name", "", "Nothing"), ("url", "", &missing)],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("the address answered 404"), "{}", refused.body);
    let bad = browser
        .post_multipart(
            "/portal/connectors/import",
            &[("csrf", "", &csrf), ("name", "", "Nothing"), ("url", "", "file:///etc/passwd")],
        )
        .await;
    assert_eq!(bad.status, 400);
    h.server.shutdown().await.unwrap();
});

server_test!(an_oauth_connection_signs_in_through_the_provider, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let (browser, csrf) = admin_browser(&h).await;
    assert!(
        browser
            .get(&format!("/portal/connections/new?connector={connector}"))
            .await
            .body
            .contains("v:oauth:clientSecret")
    );
    let created = browser
        .connect(&csrf, &connector, "oauth", &[("v:oauth:clientSecret", contoso_tasks::DEMO_CLIENT_SECRET)])
        .await;
    let page = browser.get(&created.location).await;
    assert!(
        page.body.contains("id=\"status\">unauthenticated<") && page.body.contains("Sign in</a>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(contoso_tasks::DEMO_CLIENT_SECRET));

    let start = browser.get(&format!("{}/oauth", created.location)).await;
    assert_eq!(start.status, 302);
    assert!(
        start.location.starts_with(&format!("{}/oauth/authorize", api.base_url().trim_end_matches('/'))),
        "{}",
        start.location
    );
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let consent = http.get(&start.location).send().await.unwrap();
    assert_eq!(consent.status(), 302, "the sample provider consents at once");
    let callback = consent.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(http.get(&callback).send().await.unwrap().status(), 200);
    assert!(browser.get(&created.location).await.body.contains("id=\"status\">connected<"));
    api.shutdown().await.unwrap();
    h.server.shutdown().await.unwrap();
});

server_test!(a_connector_from_a_sample_request_works, |db| {
    let (h, api) = (Harness::start(&db).await, contoso().await);
    let (browser, csrf) = admin_browser(&h).await;
    let wizard = browser.get("/portal/connectors/new").await;
    assert!(wizard.body.contains("New connector from a sample"));
    let bad = browser
        .post("/portal/connectors/new", &[("csrf", &csrf), ("name", "Bad"), ("request", "curl -H 'X: y'")])
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("the curl command has no URL"), "{}", bad.body);

    let base = api.base_url().trim_end_matches('/').to_owned();
    let request = format!("curl -H 'X-API-Key: {}' '{base}/projects?$top=5'", contoso_tasks::DEMO_API_KEY);
    let created = browser
        .post(
            "/portal/connectors/new",
            &[
                ("csrf", &csrf),
                ("name", "From a sample"),
                ("operation_id", "ListThings"),
                ("summary", "List the projects"),
                ("request", &request),
                ("response", "{\"value\": [{\"id\": \"proj-1\", \"name\": \"A\"}], \"nextLink\": null}"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let connector = created.location.rsplit('/').next().unwrap().to_owned();
    assert!(browser.get(&created.location).await.body.contains("ListThings"));
    let file =
        browser.get(&format!("/portal/connectors/{connector}/files/apiDefinition.swagger.json")).await.body;
    assert!(!file.contains(contoso_tasks::DEMO_API_KEY), "the sample's key is not kept");
    let connection =
        browser.connect(&csrf, &connector, "", &[("v::api_key", contoso_tasks::DEMO_API_KEY)]).await;
    let tried = browser
        .post(
            &format!("{}/try", connection.location),
            &[("csrf", &csrf), ("operation", "ListThings"), ("p:$top", "5")],
        )
        .await;
    assert!(tried.body.contains("id=\"response-status\">200<"), "{}", tried.body);
    api.shutdown().await.unwrap();
    h.server.shutdown().await.unwrap();
});
