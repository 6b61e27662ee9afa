//! OpenAPI 3 and Postman imports export to Power Platform packages that validate without errors
//! and load back to the same connector.

mod support;

use patchbay_spec::export::write_package;
use patchbay_spec::{Severity, check_path};

fn export_validates_and_reloads(fixture: &str) {
    let source = support::fixture(fixture);
    let imported = check_path(&source, false).connector.unwrap_or_else(|| panic!("{fixture} imports"));
    let dir = tempfile::tempdir().expect("temp dir");
    let package = dir.path().join(&imported.identity.name);
    write_package(&imported, &package).expect("export");
    let checked = check_path(&package, true);
    let errors: Vec<String> =
        checked.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "{fixture} exported with errors:\n{}", errors.join("\n"));
    let reloaded = checked.connector.expect("exported package loads");
    assert_eq!(reloaded, imported, "{fixture}: the exported package means what the import meant");
}

#[test]
fn openapi_3_0_json_exports_to_a_valid_package() {
    export_validates_and_reloads("openapi3/contoso-tasks-3.0.json");
}

#[test]
fn openapi_3_1_yaml_exports_to_a_valid_package() {
    export_validates_and_reloads("openapi3/contoso-notes-3.1.yaml");
}

#[test]
fn postman_2_1_collection_exports_to_a_valid_package() {
    export_validates_and_reloads("postman/contoso-tasks.postman_collection.json");
}

#[test]
fn postman_2_0_collection_exports_to_a_valid_package() {
    export_validates_and_reloads("postman/contoso-status-v2.0.postman_collection.json");
}
