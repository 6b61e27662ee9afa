//! `patchbay connector create/update/list/download/share` against a running server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::ValueEnum;
use reqwest::Method;
use serde_json::{Value, json};

use super::package::{API_DEFINITION, API_PROPERTIES, ICON, SCRIPT, SETTINGS, Sources};
use super::{ApiFailure, Target, bulk, render_diagnostic, runtime};

/// Where the package files are, as paconn takes them.
#[derive(clap::Args)]
pub struct PackageArgs {
    /// The package folder (default: the current folder).
    dir: Option<PathBuf>,
    /// The API definition (default: from settings.json, else apiDefinition.swagger.json).
    #[arg(long, short = 'd')]
    api_def: Option<PathBuf>,
    /// The API properties (default: from settings.json, else apiProperties.json).
    #[arg(long, short = 'p')]
    api_prop: Option<PathBuf>,
    /// The icon (default: from settings.json, else icon.png when present).
    #[arg(long, short = 'i')]
    icon: Option<PathBuf>,
    /// The script (default: from settings.json, else script.csx when present).
    #[arg(long, short = 'x')]
    script: Option<PathBuf>,
    /// The paconn settings file (default: settings.json in the package folder, when present).
    #[arg(long, short = 's')]
    settings: Option<PathBuf>,
}

impl PackageArgs {
    fn sources(&self) -> Sources {
        Sources {
            dir: self.dir.clone(),
            settings: self.settings.clone(),
            api_definition: self.api_def.clone(),
            api_properties: self.api_prop.clone(),
            icon: self.icon.clone(),
            script: self.script.clone(),
        }
    }
}

/// The connector's OAuth client secret, as paconn's `--secret`.
#[derive(clap::Args)]
pub struct SecretArgs {
    /// The OAuth client secret: sealed on the server for the connector, never returned or downloaded;
    /// connections without a client secret of their own use it. Other users of this machine can see
    /// command lines: prefer --secret-env. On update, leaving both out keeps the stored secret.
    #[arg(long, short = 'r', value_name = "SECRET", conflicts_with = "secret_env")]
    secret: Option<String>,
    /// Read the OAuth client secret from this environment variable instead.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
}

impl SecretArgs {
    /// The client secret to send, if one was given; an unset or empty variable is an error.
    fn value(&self) -> anyhow::Result<Option<String>> {
        let secret = match (&self.secret, &self.secret_env) {
            (Some(secret), _) => secret.clone(),
            (None, Some(variable)) => std::env::var(variable).with_context(|| {
                format!("--secret-env {variable}: the variable is not set (or not valid text)")
            })?,
            (None, None) => return Ok(None),
        };
        anyhow::ensure!(!secret.is_empty(), "the client secret is empty; give one or leave the option out");
        Ok(Some(secret))
    }

    /// `body` with the client secret added, if one was given.
    fn add_to(&self, mut body: Value) -> anyhow::Result<Value> {
        if let Some(secret) = self.value()? {
            body["clientSecret"] = json!(secret);
        }
        Ok(body)
    }
}

/// Arguments of `connector create`.
#[derive(clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    package: PackageArgs,
    /// The connector's name (default: the definition's info.title).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    secret: SecretArgs,
    /// Import every package folder under DIR (settings.json files are not written).
    #[arg(
        long,
        conflicts_with_all = ["api_def", "api_prop", "icon", "script", "settings", "name", "secret", "secret_env"]
    )]
    all: bool,
    /// With --all: how many uploads run at once.
    #[arg(long, default_value_t = 8, requires = "all")]
    jobs: usize,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `connector update`.
#[derive(clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    package: PackageArgs,
    /// The connector to update (default: `connectorId` in settings.json).
    #[arg(long, short = 'c')]
    connector_id: Option<String>,
    #[command(flatten)]
    secret: SecretArgs,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `connector list`.
#[derive(clap::Args)]
pub struct ListArgs {
    /// Print the server's JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `connector download`.
#[derive(clap::Args)]
pub struct DownloadArgs {
    /// The connector id.
    id: String,
    /// The folder to write into (default: ./<id>; created if missing).
    #[arg(long, short = 'd')]
    dest: Option<PathBuf>,
    /// Replace files that already exist.
    #[arg(long, short = 'w')]
    overwrite: bool,
    #[command(flatten)]
    target: Target,
}

/// Access levels a connector is shared at.
#[derive(Clone, Copy, ValueEnum)]
pub enum ShareLevel {
    /// Create connections and call operations.
    #[value(name = "can_use", alias = "can-use")]
    CanUse,
    /// Also upload new revisions and share further.
    #[value(name = "can_edit", alias = "can-edit")]
    CanEdit,
}

/// Arguments of `connector share`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("grantee").required(true).args(["user", "environment"]))]
pub struct ShareArgs {
    /// The connector id.
    id: String,
    /// Share with this user (their email).
    #[arg(long)]
    user: Option<String>,
    /// Share with everyone in the connector's environment.
    #[arg(long)]
    environment: bool,
    /// The access granted.
    #[arg(long, value_enum, default_value = "can_use")]
    level: ShareLevel,
    #[command(flatten)]
    target: Target,
}

/// Prints the diagnostics of a rejected package and says what to do; exit status 1.
fn rejected(failure: &ApiFailure, dir: &Path) -> ExitCode {
    for diagnostic in &failure.diagnostics {
        eprint!("{}", render_diagnostic(diagnostic));
    }
    let errors = failure.diagnostics.iter().filter(|d| d["severity"] == "error").count();
    eprintln!(
        "error: the server rejected the package in {} ({errors} error{}); fix it and run again \
         (`patchbay connector validate {}` shows the source lines)",
        dir.display(),
        if errors == 1 { "" } else { "s" },
        dir.display()
    );
    ExitCode::from(1)
}

/// Prints the warnings of an accepted package.
fn print_warnings(body: &Value) {
    for warning in body["warnings"].as_array().into_iter().flatten() {
        eprint!("{}", render_diagnostic(warning));
    }
}

/// Runs `connector create`.
pub fn create(args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let client = args.target.client()?;
    if args.all {
        let root = args.package.dir.clone().unwrap_or_else(|| PathBuf::from("."));
        return runtime()?.block_on(bulk::create_all(client, &root, args.jobs));
    }
    let package = args.package.sources().read()?;
    let name = package.name(args.name.as_deref());
    let body = args.secret.add_to(package.body(Some(&name)))?;
    if body.get("clientSecret").is_none() && package.signs_in_with_oauth() {
        eprintln!(
            "note: the connector signs in with OAuth and no --secret (or --secret-env) was given; \
             its connections need a clientSecret of their own"
        );
    }
    let answer = runtime()?.block_on(client.send(Method::POST, "/api/connectors", Some(&body)))?;
    let created = match answer.into_inner() {
        Ok(created) => created,
        Err(failure) if failure.status == 422 => return Ok(rejected(&failure, &package.dir)),
        Err(failure) if failure.code == "already_exists" => {
            return Err(anyhow::Error::new(failure).context(format!(
                "a connector named `{name}` exists; update it with `patchbay connector update --connector-id <id>` \
                 or pick another name with --name"
            )));
        }
        Err(failure) => return Err(failure.into()),
    };
    print_warnings(&created);
    let id = created["id"].as_str().context("the server's answer has no connector id")?;
    package.save_connector_id(id)?;
    println!("created connector {id} ({name}), revision {}", created["currentRevision"]);
    println!("wrote connectorId to {}", package.settings_path.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs `connector update`.
pub fn update(args: &UpdateArgs) -> anyhow::Result<ExitCode> {
    let client = args.target.client()?;
    let package = args.package.sources().read()?;
    let id = args.connector_id.clone().or_else(|| package.connector_id()).with_context(|| {
        format!(
            "no connector id: pass --connector-id, or run `patchbay connector create` first \
             (it writes connectorId into {})",
            package.settings_path.display()
        )
    })?;
    let body = args.secret.add_to(package.body(None))?;
    let path = format!("/api/connectors/{id}");
    let answer = runtime()?.block_on(client.send(Method::PUT, &path, Some(&body)))?;
    let updated = match answer.into_inner() {
        Ok(updated) => updated,
        Err(failure) if failure.status == 422 => return Ok(rejected(&failure, &package.dir)),
        Err(failure) => return Err(failure.into()),
    };
    print_warnings(&updated);
    println!("updated connector {id}: revision {}", updated["revision"]);
    Ok(ExitCode::SUCCESS)
}

/// Runs `connector list`.
pub fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let client = args.target.client()?;
    let listed = runtime()?.block_on(client.get("/api/connectors"))?.into_result()?;
    let rows = listed.as_array().cloned().unwrap_or_default();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no connectors yet; upload one with `patchbay connector create <folder>`");
        return Ok(ExitCode::SUCCESS);
    }
    let cell = |row: &Value, key: &str| match &row[key] {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let table: Vec<[String; 4]> = rows
        .iter()
        .map(|r| [cell(r, "id"), cell(r, "name"), cell(r, "currentRevision"), when(&r["updatedAt"])])
        .collect();
    let header = ["ID", "NAME", "REVISION", "UPDATED"].map(str::to_owned);
    let widths: Vec<usize> = (0..4)
        .map(|i| table.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in std::iter::once(&header).chain(&table) {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", line.join("  ").trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

/// A time from the server (Unix milliseconds) as `YYYY-MM-DD HH:MM UTC`.
fn when(value: &Value) -> String {
    match value.as_i64().and_then(chrono::DateTime::from_timestamp_millis) {
        Some(time) => time.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => value.as_str().unwrap_or("-").to_owned(),
    }
}

/// Runs `connector download`.
pub fn download(args: &DownloadArgs) -> anyhow::Result<ExitCode> {
    let client = args.target.client()?;
    let path = format!("/api/connectors/{}/package", args.id);
    let package = runtime()?.block_on(client.get(&path))?.into_result()?;
    let files = &package["files"];
    let dest = args.dest.clone().unwrap_or_else(|| PathBuf::from(&args.id));
    let mut writes: Vec<(&str, Vec<u8>)> = vec![
        (API_DEFINITION, files["apiDefinition"].as_str().unwrap_or_default().as_bytes().to_vec()),
        (API_PROPERTIES, files["apiProperties"].as_str().unwrap_or_default().as_bytes().to_vec()),
    ];
    let mut settings =
        json!({"connectorId": args.id, "apiDefinition": API_DEFINITION, "apiProperties": API_PROPERTIES});
    if let Some(script) = files["script"].as_str() {
        writes.push((SCRIPT, script.as_bytes().to_vec()));
        settings["script"] = json!(SCRIPT);
    }
    if let Some(icon) = files["icon"].as_str() {
        writes.push((ICON, STANDARD.decode(icon).context("the server sent an icon that is not base64")?));
        settings["icon"] = json!(ICON);
    }
    writes.push((SETTINGS, (serde_json::to_string_pretty(&settings)? + "\n").into_bytes()));
    std::fs::create_dir_all(&dest).with_context(|| format!("cannot create {}", dest.display()))?;
    if !args.overwrite
        && let Some((name, _)) = writes.iter().find(|(name, _)| dest.join(name).exists())
    {
        anyhow::bail!("{} exists; pass --overwrite to replace it", dest.join(name).display());
    }
    for (name, bytes) in &writes {
        let file = dest.join(name);
        std::fs::write(&file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
    }
    println!(
        "downloaded connector {} revision {} into {} ({} files)",
        args.id,
        package["revision"],
        dest.display(),
        writes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `connector share`.
pub fn share(args: &ShareArgs) -> anyhow::Result<ExitCode> {
    let client = args.target.client()?;
    let level = match args.level {
        ShareLevel::CanUse => "can_use",
        ShareLevel::CanEdit => "can_edit",
    };
    let body = match &args.user {
        Some(user) => json!({"user": user, "level": level}),
        None => json!({"environment": true, "level": level}),
    };
    let path = format!("/api/connectors/{}/share", args.id);
    runtime()?.block_on(client.send(Method::POST, &path, Some(&body)))?.into_result()?;
    let whom = args.user.as_deref().map_or_else(|| "everyone in its environment".to_owned(), str::to_owned);
    println!("shared connector {} with {whom} ({level})", args.id);
    Ok(ExitCode::SUCCESS)
}
