//! `patchbay connector inspect`: a table of a connector's operations.

use crate::render::render;
use patchbay_spec::model::{OperationKind, TriggerKind};
use patchbay_spec::{Severity, load_path};
use std::path::Path;
use std::process::ExitCode;

/// Runs `inspect`.
pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let loaded = load_path(path);
    let Some(c) = loaded.connector else {
        for d in loaded.diagnostics.iter().filter(|d| d.severity == Severity::Error) {
            eprintln!("{}", render(d, path, &loaded.sources));
        }
        return Ok(ExitCode::from(1));
    };
    println!("{} ({}) version {}", c.identity.title, c.identity.name, c.identity.version);
    if let Some(url) = c.backend.base_url() {
        println!("backend: {url}");
    }
    let mut rows =
        vec![["OPERATION".to_string(), "KIND".into(), "METHOD".into(), "PATH".into(), "SUMMARY".into()]];
    for (item, op) in c.operations() {
        let kind = match op.kind(item, &c.definitions) {
            OperationKind::Action => "action".to_string(),
            OperationKind::Trigger { kind, cardinality } => {
                let how = if kind == TriggerKind::Webhook { "webhook" } else { "polling" };
                format!("{how} trigger ({})", cardinality.as_str())
            }
        };
        let summary = op.summary.clone().unwrap_or_default();
        rows.push([op.display_id(), kind, op.method.as_upper().into(), op.path.clone(), summary]);
    }
    print_table(&rows);
    println!("{} operations, {} policies", rows.len() - 1, c.policies.len());
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[[String; 5]]) {
    let widths: Vec<usize> =
        (0..5).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == 4 {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        println!("{}", line.trim_end());
    }
}
