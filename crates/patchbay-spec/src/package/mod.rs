//! The Power Platform package format: a folder with `apiDefinition.swagger.json`,
//! `apiProperties.json`, and optionally `script.csx`, `icon.png` and paconn's `settings.json`.

mod document;
mod files;
mod parameter;
mod paths;
mod properties;
mod security;

pub use document::{read_swagger, write_swagger};
pub use files::{PackageFiles, find_package_files};
pub use parameter::read_parameter;
pub use paths::read_operation_extensions;
pub use properties::{read_properties, write_properties};

use crate::diag::Diagnostic;
use crate::fields::Ctx;
use crate::load::{Loaded, read_document};
use crate::model::{Connector, Icon, Object, Script};
use crate::refs::{normalize_path, ref_of};
use serde_json::Value;
use std::path::{Component, Path};

/// The largest package file read, in bytes (the tolerant reader has the same bound).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Loads a package folder.
pub fn load_package(dir: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    let files = find_package_files(dir, &mut loaded.diagnostics);
    let Some(definition_path) = &files.api_definition else {
        let message = format!("{} has no apiDefinition.swagger.json", dir.display());
        loaded.diagnostics.push(Diagnostic::new("PB0104", "apiDefinition.swagger.json", "", message));
        return loaded;
    };
    let definition_name = file_label(dir, definition_path);
    loaded.definition_file = definition_name.clone();
    loaded.properties_file =
        files.api_properties.as_ref().map_or("apiProperties.json".into(), |p| file_label(dir, p));
    let Some(swagger) = read_file(definition_path, &definition_name, true, &mut loaded) else {
        return loaded;
    };
    let external = load_external_refs(dir, &swagger, &mut loaded);
    let mut ctx = Ctx { file: &definition_name, diagnostics: &mut loaded.diagnostics };
    let mut connector = read_swagger(swagger, &external, &mut ctx);
    connector.external_documents = external;
    connector.identity.name = files.name.clone();

    let mut script_operations = Vec::new();
    match &files.api_properties {
        Some(path) => {
            let name = file_label(dir, path);
            let Some(props) = read_file(path, &name, false, &mut loaded) else { return loaded };
            let mut ctx = Ctx { file: &name, diagnostics: &mut loaded.diagnostics };
            script_operations = read_properties(props, &mut connector, &mut ctx);
        }
        None => loaded.diagnostics.push(Diagnostic::new(
            "PB0108",
            "apiProperties.json",
            "",
            "the package has no apiProperties.json; the connector has no connection parameters",
        )),
    }
    attach_script_and_icon(&files, script_operations, &mut connector, &mut loaded.diagnostics);
    loaded.connector = Some(connector);
    loaded
}

fn attach_script_and_icon(
    files: &PackageFiles,
    script_operations: Vec<String>,
    connector: &mut Connector,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(path) = &files.script {
        match std::fs::read(path) {
            Ok(bytes) => {
                connector.script = Some(Script {
                    file_name: file_name(path),
                    source: String::from_utf8_lossy(&bytes).into_owned(),
                    operations: script_operations,
                });
            }
            Err(e) => diagnostics.push(Diagnostic::new("PB0101", &file_name(path), "", e.to_string())),
        }
    } else if !script_operations.is_empty() {
        let ops = script_operations.into_iter().map(Value::String).collect();
        connector.properties_extra.insert("scriptOperations".into(), Value::Array(ops));
    }
    if let Some(path) = &files.icon {
        match std::fs::read(path) {
            Ok(bytes) => connector.identity.icon = Some(Icon { file_name: file_name(path), bytes }),
            Err(e) => diagnostics.push(Diagnostic::new("PB0101", &file_name(path), "", e.to_string())),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The name a diagnostic uses for a file: its path relative to the package folder.
fn file_label(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// Reads and parses one file, bounded in size; defects are recorded in `loaded`.
pub fn read_file(path: &Path, label: &str, yaml_allowed: bool, loaded: &mut Loaded) -> Option<Value> {
    let bytes = read_bounded(path, label, &mut loaded.diagnostics)?;
    read_document(&bytes, label, yaml_allowed, &mut loaded.diagnostics, &mut loaded.sources)
}

/// Reads a file's bytes unless it is larger than [`MAX_FILE_BYTES`].
pub fn read_bounded(path: &Path, label: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<Vec<u8>> {
    let read = std::fs::metadata(path).and_then(|m| {
        if m.len() > MAX_FILE_BYTES {
            return Ok(Err(m.len()));
        }
        std::fs::read(path).map(Ok)
    });
    match read {
        Ok(Ok(bytes)) => Some(bytes),
        Ok(Err(size)) => {
            let message = format!("the file is {size} bytes; files over {MAX_FILE_BYTES} bytes are not read");
            let hint = "split the definition or remove unused parts";
            diagnostics.push(Diagnostic::new("PB0101", label, "", message).with_hint(hint));
            None
        }
        Err(e) => {
            let message = format!("cannot read {}: {e}", path.display());
            diagnostics.push(Diagnostic::new("PB0101", label, "", message));
            None
        }
    }
}

/// Loads every file that `$ref`s point to, relative to the package folder and inside it.
fn load_external_refs(dir: &Path, document: &Value, loaded: &mut Loaded) -> Object {
    let mut external = Object::new();
    let mut pending: Vec<String> = Vec::new();
    collect_external_files(document, &mut pending);
    while let Some(file) = pending.pop() {
        let rel = normalize_path(&file);
        if external.contains_key(&rel) {
            continue;
        }
        let relative = Path::new(&rel);
        if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
            let message = format!("`{file}` is outside the package folder; it was not read");
            loaded.diagnostics.push(Diagnostic::new("PB0203", &rel, "", message));
            external.insert(rel, Value::Null);
            continue;
        }
        let value = read_file(&dir.join(relative), &rel, true, loaded).unwrap_or(Value::Null);
        collect_external_files(&value, &mut pending);
        external.insert(rel, value);
    }
    external.retain(|_, v| !v.is_null());
    external
}

/// Adds the file part of every external `$ref` in `value` to `out`.
fn collect_external_files(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = ref_of(value) {
                let file = r.split('#').next().unwrap_or("");
                if !file.is_empty() && !file.contains("://") {
                    out.push(file.to_string());
                }
            }
            map.values().for_each(|v| collect_external_files(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_external_files(v, out)),
        _ => {}
    }
}
