//! `docs/diagnostics.md` is generated from the codes table, so it cannot drift.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p patchbay-spec --test diagnostics_doc`.

use patchbay_spec::codes::CODES;
use std::path::Path;

fn generate() -> String {
    let mut doc = String::from(
        "# Diagnostic codes\n\nGenerated from `crates/patchbay-spec/src/codes.rs`; do not edit by hand.\n\n\
         Codes never change meaning. Power Platform accepted every package of its public connector \
         repository, so whatever it accepts is at most a warning here; errors are kept for what no runtime \
         can execute. `--certification` adds the `PB09xx` checklist, as warnings.\n\n\
         | code | severity | name | what to do |\n|---|---|---|---|\n",
    );
    for c in CODES {
        doc.push_str(&format!("| `{}` | {} | {} | {} |\n", c.code, c.severity, c.name, c.hint));
    }
    doc
}

#[test]
fn diagnostics_reference_matches_the_codes_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/diagnostics.md");
    let generated = generate();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/diagnostics.md");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(current == generated, "docs/diagnostics.md is out of date; run with UPDATE_DOCS=1");
}
