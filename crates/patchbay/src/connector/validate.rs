//! `patchbay connector validate`.

use crate::package_folders::find_packages;
use crate::render::{render, shown};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use patchbay_spec::{Severity, check_path};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// rustc-style messages with the source line.
    Human,
    /// One JSON document with every diagnostic.
    Json,
}

/// The lowest severity printed.
#[derive(Clone, Copy, ValueEnum)]
pub enum Level {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warning,
    /// Everything.
    Info,
}

impl Level {
    fn severity(self) -> Severity {
        match self {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Info => Severity::Info,
        }
    }
}

/// Arguments of `validate`.
#[derive(clap::Args)]
pub struct Args {
    /// Package folders, files, or folders holding packages.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Also apply the certification checklist (reported as warnings).
    #[arg(long)]
    certification: bool,
    /// The lowest severity to print (the summary counts everything).
    #[arg(long, value_enum, default_value = "warning")]
    level: Level,
}

/// What is kept of one checked input: its counts and its rendered findings, not the connector.
struct Outcome {
    loaded: bool,
    errors: usize,
    warnings: usize,
    human: String,
    json: Value,
}

/// Runs `validate`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let inputs = expand_inputs(&args.paths)?;
    let started = Instant::now();
    let outcomes = check_all(&inputs, args);
    let seconds = started.elapsed().as_secs_f64();
    let invalid = outcomes.iter().filter(|o| o.errors > 0).count();
    match args.format {
        Format::Human => {
            outcomes.iter().for_each(|o| print!("{}", o.human));
            print_summary(&outcomes, seconds);
        }
        Format::Json => {
            let results: Vec<_> = outcomes.iter().map(|o| o.json.clone()).collect();
            let doc =
                json!({ "checked": outcomes.len(), "valid": outcomes.len() - invalid, "results": results });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
    }
    Ok(if invalid > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Package folders and files to check: a folder that is not a package is searched for packages.
fn expand_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        anyhow::ensure!(path.exists(), "{} does not exist", path.display());
        if path.is_file() {
            out.push(path.clone());
            continue;
        }
        let found = find_packages(path);
        anyhow::ensure!(!found.is_empty(), "{} holds no connector package", path.display());
        out.extend(found);
    }
    Ok(out)
}

/// Checks one input and keeps only what is printed.
fn check_one(input: &Path, args: &Args) -> Outcome {
    let checked = check_path(input, args.certification);
    let minimum = args.level.severity();
    let count = |s: Severity| checked.diagnostics.iter().filter(|d| d.severity == s).count();
    let visible = || checked.diagnostics.iter().filter(|d| shown(d.severity, minimum));
    let human = match args.format {
        Format::Human => visible().map(|d| render(d, input, &checked.sources) + "\n").collect(),
        Format::Json => String::new(),
    };
    let json = match args.format {
        Format::Json => json!({
            "path": input.display().to_string(),
            "loaded": checked.connector.is_some(),
            "valid": !checked.has_errors(),
            "diagnostics": visible().map(|d| d.to_json()).collect::<Vec<_>>(),
        }),
        Format::Human => Value::Null,
    };
    Outcome {
        loaded: checked.connector.is_some(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        human,
        json,
    }
}

/// Checks every input on all cores, keeping input order, with a progress bar on many inputs.
fn check_all(inputs: &[PathBuf], args: &Args) -> Vec<Outcome> {
    let bar = if inputs.len() > 1 { ProgressBar::new(inputs.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} connectors checked")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let workers = std::thread::available_parallelism().map_or(1, usize::from).min(inputs.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Outcome>>> = Mutex::new(inputs.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(index) else { break };
                    let outcome = check_one(input, args);
                    if let Ok(mut slots) = slots.lock() {
                        slots[index] = Some(outcome);
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    slots.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

fn print_summary(outcomes: &[Outcome], seconds: f64) {
    let errors: usize = outcomes.iter().map(|o| o.errors).sum();
    let warnings: usize = outcomes.iter().map(|o| o.warnings).sum();
    let not_loaded = outcomes.iter().filter(|o| !o.loaded).count();
    let invalid = outcomes.iter().filter(|o| o.errors > 0).count();
    let plural = if outcomes.len() == 1 { "" } else { "s" };
    println!(
        "checked {} connector{plural} in {seconds:.2}s: {} valid, {invalid} with errors ({not_loaded} could not be loaded); {errors} errors, {warnings} warnings",
        outcomes.len(),
        outcomes.len() - invalid,
    );
}
