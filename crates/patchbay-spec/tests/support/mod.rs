//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The corpus of real connector packages: `PATCHBAY_CORPUS`, or `../shared/corpus/connectors`
/// beside the project. Panics with the path it looked at when the corpus is absent.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("PATCHBAY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/connectors"));
    assert!(
        dir.is_dir(),
        "the connector corpus is not at {} (set PATCHBAY_CORPUS to its connectors/ folder)",
        dir.display()
    );
    dir
}

/// Every package folder of the corpus (`<top>/<connector>/`), sorted.
pub fn corpus_packages() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for top in std::fs::read_dir(corpus_dir()).expect("corpus readable") {
        let top = top.expect("entry").path();
        if !top.is_dir() {
            continue;
        }
        for pkg in std::fs::read_dir(&top).expect("folder readable") {
            let pkg = pkg.expect("entry").path();
            if pkg.is_dir() {
                out.push(pkg);
            }
        }
    }
    out.sort();
    out
}

/// A fixture file under `tests/fixtures`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}
