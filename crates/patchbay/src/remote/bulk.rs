//! `patchbay connector create --all <folder>`: upload every package folder under a path, a few
//! at a time, with a progress bar and a summary.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::Client;
use super::package::Sources;

/// What happened to one package.
enum Outcome {
    /// Created.
    Created,
    /// Not created, for this reason.
    Failed(String),
}

/// Uploads every package under `root`, `jobs` at a time; exit status 1 when any failed.
pub async fn create_all(client: Client, root: &Path, jobs: usize) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(root.is_dir(), "{} is not a folder; give a folder of connector packages", root.display());
    let packages = crate::package_folders::find_packages(root);
    anyhow::ensure!(!packages.is_empty(), "{} holds no connector package", root.display());
    let started = Instant::now();
    let bar = ProgressBar::new(packages.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} connectors uploaded ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let limit = Arc::new(Semaphore::new(jobs.max(1)));
    let mut tasks = JoinSet::new();
    for (index, dir) in packages.iter().cloned().enumerate() {
        let (client, limit, bar) = (client.clone(), Arc::clone(&limit), bar.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let outcome = create_one(&client, &dir).await;
            bar.inc(1);
            (index, outcome)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = packages.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, outcome) = joined?;
        outcomes[index] = Some(outcome);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let mut failed = 0;
    for (dir, outcome) in packages.iter().zip(&outcomes) {
        if let Some(Outcome::Failed(reason)) = outcome {
            failed += 1;
            println!("failed {}: {reason}", dir.display());
        }
    }
    let created = packages.len() - failed;
    println!("created {created} of {} connectors in {seconds:.2}s; {failed} failed", packages.len());
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Uploads one package; a name already taken is retried once as `<title> (<folder>)`.
async fn create_one(client: &Client, dir: &Path) -> Outcome {
    let sources = Sources { dir: Some(dir.to_path_buf()), ..Sources::default() };
    let package = match sources.read() {
        Ok(package) => package,
        Err(error) => return Outcome::Failed(format!("{error:#}")),
    };
    let name = package.name(None);
    let mut outcome = upload(client, &package.body(Some(&name))).await;
    if matches!(&outcome, Err(code) if code.starts_with("already_exists")) {
        let renamed = format!("{name} ({})", package.folder_name());
        outcome = upload(client, &package.body(Some(&renamed))).await;
    }
    match outcome {
        Ok(_) => Outcome::Created,
        Err(reason) => Outcome::Failed(reason),
    }
}

/// POSTs one upload; the connector id, or the reason it failed (starting with the error code).
async fn upload(client: &Client, body: &serde_json::Value) -> Result<String, String> {
    let answer =
        client.send(Method::POST, "/api/connectors", Some(body)).await.map_err(|e| format!("{e:#}"))?;
    match answer.into_inner() {
        Ok(created) => Ok(created["id"].as_str().unwrap_or_default().to_owned()),
        Err(failure) => {
            let first = failure
                .diagnostics
                .iter()
                .find(|d| d["severity"] == "error")
                .map(|d| format!(" (first: {} {})", d["code"].as_str().unwrap_or_default(), d["message"]))
                .unwrap_or_default();
            Err(format!("{}: {}{first}", failure.code, failure.message))
        }
    }
}
