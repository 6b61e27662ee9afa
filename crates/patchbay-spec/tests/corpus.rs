//! Every real package of the corpus loads (or fails with a located syntax error), validates
//! without errors, and survives export and reload unchanged.

mod support;

use patchbay_spec::{Severity, check_path, export::write_package, load_path};

/// Packages in the corpus whose files are genuinely broken (a missing comma, a truncated file).
/// The test does not name them; it bounds how many there may be.
const MAX_BROKEN: usize = 6;

#[test]
fn every_corpus_package_loads_validates_and_round_trips() {
    let packages = support::corpus_packages();
    assert!(packages.len() >= 500, "expected the 526-package corpus, found {}", packages.len());
    let out = tempfile::tempdir().expect("temp dir");
    let mut broken = Vec::new();
    let mut failures = Vec::new();
    for dir in &packages {
        let checked = check_path(dir, false);
        let errors: Vec<_> = checked.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
        let Some(connector) = checked.connector else {
            let located = errors.iter().any(|d| d.code == "PB0102" && d.position.is_some());
            assert!(located, "{} failed without a located syntax error: {errors:#?}", dir.display());
            broken.push(dir.clone());
            continue;
        };
        if !errors.is_empty() {
            failures.push(format!(
                "{}: {}",
                dir.display(),
                errors.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; ")
            ));
            continue;
        }
        let target = out.path().join(dir.file_name().expect("folder name"));
        write_package(&connector, &target).expect("export");
        let reloaded = load_path(&target).connector.expect("exported package reloads");
        if reloaded != connector {
            failures.push(format!("{}: round trip changed the model", dir.display()));
        }
    }
    assert!(failures.is_empty(), "{} packages failed:\n{}", failures.len(), failures.join("\n"));
    assert!(broken.len() <= MAX_BROKEN, "{} packages did not load: {broken:#?}", broken.len());
}
