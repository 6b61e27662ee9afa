//! The paconn-style remote commands against a server started in-process on SQLite in a temporary
//! folder: login/logout, connector create/update/list/download/share, a rejected package, and a
//! bulk import of the whole connector corpus; the trigger commands against the sample API.
#![allow(missing_docs)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use patchbay_server::{RunningServer, ServerConfig};
use serde_json::Value;

/// A running server, its admin token, and a private config folder for the CLI.
struct Setup {
    server: RunningServer,
    token: String,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn start() -> Setup {
        let dir = tempfile::tempdir().expect("temporary folder");
        let config = ServerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            data_dir: dir.path().join("data"),
            allow_loopback: true,
            ..ServerConfig::default()
        };
        let server = patchbay_server::start(config).await.expect("the server starts");
        let (_, token) = server.bootstrap.clone().expect("a fresh store bootstraps an admin");
        Setup { server, token, dir }
    }

    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// Runs the CLI with the private config folder and no server variables from outside.
    async fn cli(&self, args: &[&str]) -> Output {
        self.cli_with(args, &[]).await
    }

    /// [`Setup::cli`] with these environment variables set.
    async fn cli_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let vars: Vec<(String, String)> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let config = self.config_dir();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_patchbay"))
                .args(&args)
                .envs(vars)
                .env("PATCHBAY_CONFIG_DIR", config)
                .env_remove("PATCHBAY_URL")
                .env_remove("PATCHBAY_TOKEN")
                .env_remove("PATCHBAY_PROFILE")
                .output()
                .expect("the CLI runs")
        })
        .await
        .expect("the CLI task")
    }

    /// Runs the CLI and expects success; returns stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args).await;
        assert!(out.status.success(), "patchbay {args:?} failed:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn login(&self) {
        self.ok(&["login", "--url", &self.server.url, "--token", &self.token]).await;
    }

    async fn stop(self) {
        self.server.shutdown().await.expect("graceful shutdown");
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A copy of the Contoso Tasks package in `into`.
fn contoso_copy(into: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso-tasks/connector");
    let dest = into.join("contoso");
    std::fs::create_dir_all(&dest).expect("create the copy");
    for entry in std::fs::read_dir(&source).expect("the Contoso package").flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dest.join(entry.file_name())).expect("copy a file");
        }
    }
    dest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_checks_the_token_and_saves_a_private_profile() {
    let setup = Setup::start().await;
    let out = setup.cli(&["login", "--url", &setup.server.url, "--token", "pb_wrong"]).await;
    assert!(!out.status.success());
    let message = text(&out);
    assert!(message.contains("401") && message.contains("patchbay login"), "{message}");
    assert!(!setup.config_dir().join("profiles.json").exists());

    let out = setup.cli(&["connector", "list"]).await;
    assert!(!out.status.success());
    assert!(text(&out).contains("patchbay login --url"), "{}", text(&out));

    setup.login().await;
    let profiles = setup.config_dir().join("profiles.json");
    assert_eq!(json_file(&profiles)["profiles"]["default"]["token"], setup.token.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&profiles).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(setup.ok(&["connector", "list"]).await.contains("no connectors yet"));
    setup.ok(&["logout"]).await;
    assert!(!setup.cli(&["connector", "list"]).await.status.success());
    let with_flags =
        setup.ok(&["connector", "list", "--url", &setup.server.url, "--token", &setup.token]).await;
    assert!(with_flags.contains("no connectors yet"), "{with_flags}");
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_list_download_and_share_the_contoso_connector() {
    let setup = Setup::start().await;
    setup.login().await;
    let package = contoso_copy(setup.dir.path());
    let dir = package.to_str().expect("utf-8 path");

    let created = setup.ok(&["connector", "create", dir]).await;
    let id =
        json_file(&package.join("settings.json"))["connectorId"].as_str().expect("connectorId").to_owned();
    assert!(created.contains(&id), "{created}");

    let updated = setup.ok(&["connector", "update", dir]).await;
    assert!(updated.contains("revision 2"), "{updated}");
    let updated = setup.ok(&["connector", "update", "--connector-id", &id, dir]).await;
    assert!(updated.contains("revision 3"), "{updated}");

    let listed = setup.ok(&["connector", "list"]).await;
    assert!(listed.starts_with("ID") && listed.contains(&id) && listed.contains("Contoso"), "{listed}");

    let dest = setup.dir.path().join("downloaded");
    setup.ok(&["connector", "download", &id, "--dest", dest.to_str().expect("utf-8")]).await;
    for file in ["apiDefinition.swagger.json", "apiProperties.json"] {
        assert_eq!(json_file(&dest.join(file)), json_file(&package.join(file)), "{file} differs");
    }
    assert_eq!(json_file(&dest.join("settings.json"))["connectorId"], id.as_str());
    let again = setup.cli(&["connector", "download", &id, "--dest", dest.to_str().expect("utf-8")]).await;
    assert!(!again.status.success() && text(&again).contains("--overwrite"), "{}", text(&again));

    let shared = setup.ok(&["connector", "share", &id, "--environment", "--level", "can_use"]).await;
    assert!(shared.contains("environment"), "{shared}");
    let out = setup.cli(&["connector", "share", &id, "--user", "nobody@example.invalid"]).await;
    assert!(!out.status.success() && text(&out).contains("404"), "{}", text(&out));
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_package_is_rejected_with_located_diagnostics() {
    let setup = Setup::start().await;
    setup.login().await;
    let package = contoso_copy(setup.dir.path());
    let definition = package.join("apiDefinition.swagger.json");
    let original = std::fs::read_to_string(&definition).expect("read");
    std::fs::write(&definition, original.replacen("\"paths\"", "\"paths\" oops", 1)).expect("write");

    let out = setup.cli(&["connector", "create", "--name", "Broken", package.to_str().expect("utf-8")]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let message = text(&out);
    let located = message.lines().any(|line| {
        line.split_once("apiDefinition.swagger.json:").is_some_and(|(_, rest)| {
            let mut parts = rest.split(':');
            let number = |p: Option<&str>| {
                p.is_some_and(|p| p.split(' ').next().is_some_and(|n| n.parse::<u32>().is_ok()))
            };
            number(parts.next()) && number(parts.next())
        })
    });
    assert!(located && message.contains("error["), "{message}");
    assert!(!package.join("settings.json").exists());
    setup.stop().await;
}

/// `GET path` on the server as the admin: the JSON answer.
async fn api_get(setup: &Setup, path: &str) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
    let response = http
        .get(format!("{}{path}", setup.server.url))
        .bearer_auth(&setup.token)
        .send()
        .await
        .expect("the server answers");
    response.json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_secret_goes_up_with_create_and_update_and_never_comes_back() {
    const SECRET: &str = "contoso-client-secret-from-the-environment";
    let setup = Setup::start().await;
    setup.login().await;
    let package = contoso_copy(setup.dir.path());
    let dir = package.to_str().expect("utf-8 path");

    let out = setup.cli(&["connector", "create", "--name", "No Secret", dir]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no --secret"), "the OAuth connector gets a note: {}", text(&out));
    std::fs::remove_file(package.join("settings.json")).expect("forget the first connector");

    let out = setup
        .cli_with(
            &["connector", "create", "--secret-env", "CONTOSO_SECRET", dir],
            &[("CONTOSO_SECRET", SECRET)],
        )
        .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(SECRET) && !text(&out).contains("no --secret"), "{}", text(&out));
    let id =
        json_file(&package.join("settings.json"))["connectorId"].as_str().expect("connectorId").to_owned();
    let details = api_get(&setup, &format!("/api/connectors/{id}")).await;
    assert_eq!(details["hasClientSecret"], true, "{details}");

    let dest = setup.dir.path().join("downloaded");
    setup.ok(&["connector", "download", &id, "--dest", dest.to_str().expect("utf-8")]).await;
    for entry in std::fs::read_dir(&dest).expect("the download").flatten() {
        let bytes = std::fs::read(entry.path()).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "{} has the secret",
            entry.path().display()
        );
    }
    assert!(!api_get(&setup, &format!("/api/connectors/{id}/package")).await.to_string().contains(SECRET));

    let updated = setup.ok(&["connector", "update", "--secret", "another-secret", dir]).await;
    assert!(updated.contains("revision 2"), "{updated}");
    let out = setup.cli(&["connector", "update", "--secret-env", "PATCHBAY_TEST_UNSET_VARIABLE", dir]).await;
    assert!(!out.status.success() && text(&out).contains("PATCHBAY_TEST_UNSET_VARIABLE"), "{}", text(&out));
    let out = setup.cli(&["connector", "update", "--secret", "a", "--secret-env", "B", dir]).await;
    assert_eq!(out.status.code(), Some(2), "the two are exclusive: {}", text(&out));
    let out = setup.cli(&["connector", "create", "--all", "--secret", "x", dir]).await;
    assert_eq!(out.status.code(), Some(2), "not with --all: {}", text(&out));
    setup.stop().await;
}

/// Package folders under `dir`, as `connector create --all` finds them.
fn packages(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let is_package = std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        e.path().is_file() && (name == "apidefinition.swagger.json" || name == "apiproperties.json")
    });
    if is_package {
        out.push(dir.to_path_buf());
        return;
    }
    let mut subs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subs.sort();
    for sub in subs.into_iter().filter(|_| depth < 5) {
        packages(&sub, out, depth + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_corpus_imports_through_the_cli() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/connectors");
    assert!(corpus.is_dir(), "the connector corpus is missing: expected it at {}", corpus.display());
    let corpus = std::fs::canonicalize(&corpus).expect("canonical corpus path");
    let mut found = Vec::new();
    packages(&corpus, &mut found, 0);
    let loadable: Vec<&PathBuf> = found
        .iter()
        .filter(|dir| {
            let loaded = patchbay_spec::load_path(dir);
            loaded.connector.is_some() && !patchbay_spec::diag::has_errors(&loaded.diagnostics)
        })
        .collect();

    let setup = Setup::start().await;
    setup.login().await;
    let started = std::time::Instant::now();
    let out = setup.cli(&["connector", "create", "--all", corpus.to_str().expect("utf-8")]).await;
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("imported the corpus ({} packages, {} load) in {elapsed:.2?}", found.len(), loadable.len());
    println!("{}", stdout.lines().last().unwrap_or_default());
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("failed ")).collect();
    println!("{}", failed.join("\n"));
    for dir in &loadable {
        let prefix = format!("failed {}: ", dir.display());
        assert!(
            !failed.iter().any(|l| l.starts_with(&prefix)),
            "a loadable package was not created:\n{}",
            failed.join("\n")
        );
    }
    let summary = format!("created {} of {} connectors", found.len() - failed.len(), found.len());
    assert!(stdout.contains(&summary), "{stdout}");
    let listed: Value =
        serde_json::from_str(&setup.ok(&["connector", "list", "--json"]).await).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(found.len() - failed.len()));
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_commands_create_poll_list_show_and_delete() {
    let setup = Setup::start().await;
    setup.login().await;
    let api = contoso_tasks::start(contoso_tasks::Config::default()).await.expect("the sample API starts");
    let package = contoso_copy(setup.dir.path());
    for file in ["apiDefinition.swagger.json", "apiProperties.json"] {
        let path = package.join(file);
        let text = std::fs::read_to_string(&path).expect("a package file");
        std::fs::write(&path, text.replace("localhost:3000", &api.addr.to_string()))
            .expect("point it at the API");
    }
    setup.ok(&["connector", "create", package.to_str().expect("utf-8 path")]).await;
    let connector =
        json_file(&package.join("settings.json"))["connectorId"].as_str().expect("connectorId").to_owned();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body =
        serde_json::json!({"parameterSet": "apiKey", "values": {"api_key": contoso_tasks::DEMO_API_KEY}});
    let connection: Value = reqwest::Client::new()
        .post(format!("{}/api/connectors/{connector}/connections", setup.server.url))
        .bearer_auth(&setup.token)
        .json(&body)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a connection");
    let connection = connection["id"].as_str().expect("a connection id");

    let created = setup
        .ok(&[
            "trigger",
            "create",
            "--connection",
            connection,
            "--operation",
            "OnNewOrUpdatedTasks",
            "--disabled",
        ])
        .await;
    let id = created.split_whitespace().nth(1).expect("the trigger id").to_owned();
    assert!(id.starts_with("trg_") && created.contains("disabled"), "{created}");
    let polled = setup.ok(&["trigger", "poll-now", &id]).await;
    assert!(
        polled.contains("GET http://") && polled.contains("/tasks/poll"),
        "the request is shown: {polled}"
    );
    assert!(polled.contains("202") && polled.contains("outcome: nothing_new"), "{polled}");
    assert!(!polled.contains(contoso_tasks::DEMO_API_KEY), "the key is masked: {polled}");
    let listed = setup.ok(&["trigger", "list"]).await;
    assert!(listed.contains(&id) && listed.contains("nothing_new"), "{listed}");
    assert_eq!(setup.ok(&["trigger", "events", &id]).await, "", "no events yet");
    let shown = setup.ok(&["trigger", "show", &id]).await;
    assert!(shown.contains("last poll: nothing_new"), "{shown}");
    assert!(setup.ok(&["trigger", "delete", &id]).await.contains("deleted"));
    let missing = setup.cli(&["trigger", "show", &id]).await;
    assert!(!missing.status.success() && text(&missing).contains("404"), "{}", text(&missing));
    setup.stop().await;
    api.shutdown().await.expect("the sample API stops");
}
