//! The real connector corpus (Microsoft's public Power Platform connectors), read-only.
//!
//! The corpus lives outside the repository; if it is missing these tests fail, naming the path.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::at;
use crate::json::{Leniency, Limits, Position, read};

/// The corpus root, relative to this crate.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/connectors")
}

/// The bytes of a corpus file; fails naming the path if it cannot be read.
fn bytes(relative: &str) -> Vec<u8> {
    let path = root().join(relative);
    fs::read(&path).unwrap_or_else(|e| panic!("cannot read corpus file {}: {e}", path.display()))
}

/// The five genuinely broken files and where their defect is.
const BROKEN: [(&str, Position); 5] = [
    ("certified-connectors/SigningHub/apiProperties.json", Position { line: 24, column: 13 }),
    (
        "certified-connectors/IN-D Invoice Data Capture/apiDefinition.swagger.json",
        Position { line: 51, column: 13 },
    ),
    (
        "independent-publisher-connectors/AccuWeather/apiDefinition.swagger.json",
        Position { line: 9, column: 7 },
    ),
    (
        "independent-publisher-connectors/Icon Horse/apiDefinition.swagger.json",
        Position { line: 56, column: 11 },
    ),
    ("certified-connectors/Shopranos/apiProperties.json", Position { line: 22, column: 4 }),
];

#[test]
fn broken_files_fail_at_the_defect() {
    for (file, position) in BROKEN {
        let error = read(&bytes(file), &Limits::default()).expect_err(file);
        assert_eq!(error.position, position, "{file}: {error}");
    }
    let missing_comma = read(&bytes(BROKEN[0].0), &Limits::default()).unwrap_err();
    assert_eq!(missing_comma.message, "expected `,` or `}` after an object member, found `\"`");
}

#[test]
fn truncated_file_fails_at_end_of_input() {
    let error = read(&bytes(BROKEN[4].0), &Limits::default()).unwrap_err();
    assert!(error.message.ends_with("found end of input"), "{error}");
}

/// Reads a corpus file that must load with exactly the leniencies `kinds`, in order;
/// returns the warning positions.
#[track_caller]
fn loads_with(relative: &str, kinds: &[Leniency]) -> Vec<Position> {
    let document = read(&bytes(relative), &Limits::default()).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let mut seen: Vec<_> = document.warnings.iter().map(|w| w.kind).collect();
    seen.dedup();
    assert_eq!(seen, kinds, "{relative}: {:?}", document.warnings);
    document.warnings.iter().map(|w| w.position).collect()
}

#[test]
fn lenient_files_load_with_warnings() {
    for name in [
        "DocuSignDemo",
        "DocuMotor",
        "PUG Gamified Engagement",
        "Cireson Service Manager Portal",
        "Revizto (Ireland)",
        "envoy",
        "Plumsail Documents",
    ] {
        let file = format!("certified-connectors/{name}/apiDefinition.swagger.json");
        loads_with(&file, &[Leniency::TrailingComma]);
    }
    let docusign = "certified-connectors/DocuSignDemo/apiDefinition.swagger.json";
    assert_eq!(loads_with(docusign, &[Leniency::TrailingComma]), [at(1635, 12)]);
    for name in ["AvePoint Cloud Governance", "SignNow"] {
        let file = format!("certified-connectors/{name}/apiDefinition.swagger.json");
        assert_eq!(loads_with(&file, &[Leniency::ByteOrderMark]), [at(1, 1)]);
    }
    let yelp = "independent-publisher-connectors/Yelp/apiDefinition.swagger.json";
    assert_eq!(loads_with(yelp, &[Leniency::NotUtf8]), [at(866, 118)]);
    let zoho = "certified-connectors/ZohoSign/apiDefinition.swagger.json";
    assert_eq!(loads_with(zoho, &[Leniency::UnicodeWhitespace]), [at(14, 1), at(29, 1)]);
}

#[test]
fn yelp_is_decoded_as_windows_1252() {
    let yelp = "independent-publisher-connectors/Yelp/apiDefinition.swagger.json";
    let document = read(&bytes(yelp), &Limits::default()).unwrap();
    assert!(document.text.contains("the business\u{2019}s address"));
}

/// Every `.json` file under the corpus root, two directory levels down.
fn all_json_files() -> Vec<PathBuf> {
    let root = root();
    let listing = |dir: &Path| -> Vec<PathBuf> {
        let entries = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list corpus directory {}: {e}", dir.display()));
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        paths
    };
    let mut files = Vec::new();
    for group in listing(&root).into_iter().filter(|p| p.is_dir()) {
        for connector in listing(&group).into_iter().filter(|p| p.is_dir()) {
            let jsons = listing(&connector).into_iter();
            files.extend(jsons.filter(|p| p.extension().is_some_and(|e| e == "json")));
        }
    }
    files
}

#[test]
fn whole_corpus_reads_and_agrees_with_serde_json() {
    let files = all_json_files();
    assert_eq!(files.len(), 1052, "expected 1052 .json files under {}", root().display());
    let broken: Vec<PathBuf> = BROKEN.iter().map(|(file, _)| root().join(file)).collect();
    let mut strict = 0;
    for path in &files {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let ours = read(&bytes, &Limits::default());
        if broken.contains(path) {
            assert!(ours.is_err(), "{} should not read", path.display());
            continue;
        }
        let document = ours.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Ok(expected) = serde_json::from_slice::<Value>(&bytes) {
            strict += 1;
            assert!(document.value == expected, "{} differs from serde_json", path.display());
        }
    }
    assert_eq!(strict, 1036, "strict JSON files (the rest need a leniency or are broken)");
}
