//! `docs/cli.md` is generated from the CLI's own help, so it cannot drift.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p patchbay --test cli_docs`.

use std::path::Path;
use std::process::Command;

/// Every command documented, in order.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["demo"],
    &["serve"],
    &["connector"],
    &["connector", "validate"],
    &["connector", "convert"],
    &["connector", "inspect"],
    &["connector", "invoke"],
    &["login"],
    &["logout"],
    &["connector", "create"],
    &["connector", "update"],
    &["connector", "list"],
    &["connector", "download"],
    &["connector", "share"],
    &["flow"],
    &["flow", "validate"],
    &["flow", "run"],
];

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_patchbay")).args(args).arg("--help").output().expect("runs");
    assert!(out.status.success(), "patchbay {args:?} --help failed");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

fn generate() -> String {
    let mut doc = String::from(
        "# patchbay command-line reference\n\nGenerated from `patchbay … --help` by \
         `crates/patchbay/tests/cli_docs.rs`; do not edit by hand.\n",
    );
    for args in COMMANDS {
        let title = std::iter::once("patchbay").chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
        doc.push_str(&format!("\n## `{title}`\n\n```text\n{}```\n", help(args)));
    }
    doc
}

#[test]
fn cli_reference_matches_the_help() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md");
    let generated = generate();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/cli.md");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/cli.md is out of date; run UPDATE_DOCS=1 cargo test -p patchbay --test cli_docs"
    );
}
