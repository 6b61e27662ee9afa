//! `patchbay connector convert`: any supported input to a Power Platform package folder.

use crate::render::render;
use patchbay_spec::export::write_package;
use patchbay_spec::{Severity, check_path};
use std::path::Path;
use std::process::ExitCode;

/// Runs `convert`.
pub fn run(input: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let checked = check_path(input, false);
    for d in checked.diagnostics.iter().filter(|d| d.severity <= Severity::Warning) {
        eprintln!("{}", render(d, input, &checked.sources));
    }
    let Some(connector) = &checked.connector else {
        eprintln!("error: {} could not be loaded; nothing was written", input.display());
        return Ok(ExitCode::from(1));
    };
    let written = write_package(connector, out)?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    let ops = connector.operations().count();
    println!("converted {} ({ops} operations) into {}", connector.identity.title, out.display());
    Ok(if checked.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
