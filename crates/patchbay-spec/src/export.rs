//! Writing a connector as a Power Platform package folder.

use crate::model::Connector;
use crate::package::{write_properties, write_swagger};
use crate::refs::normalize_path;
use serde::Serialize;
use serde_json::Value;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The package's two documents: `apiDefinition.swagger.json` and `apiProperties.json`.
pub fn package_documents(connector: &Connector) -> (Value, Value) {
    (write_swagger(connector), write_properties(connector))
}

/// Formats JSON with four-space indentation, as the certification checklist asks.
pub fn to_pretty_json(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut ser).expect("serializing a JSON value to memory cannot fail");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes the connector as a package into `dir` (created if missing); returns the files written.
pub fn write_package(connector: &Connector, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let (swagger, properties) = package_documents(connector);
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> io::Result<()> {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        written.push(path);
        Ok(())
    };
    write("apiDefinition.swagger.json", to_pretty_json(&swagger).as_bytes())?;
    write("apiProperties.json", to_pretty_json(&properties).as_bytes())?;
    if let Some(script) = &connector.script {
        write(&safe_name(&script.file_name, "script.csx"), script.source.as_bytes())?;
    }
    if let Some(icon) = &connector.identity.icon {
        write(&safe_name(&icon.file_name, "icon.png"), &icon.bytes)?;
    }
    for (file, doc) in &connector.external_documents {
        let rel = normalize_path(file);
        if Path::new(&rel).components().all(|c| matches!(c, Component::Normal(_))) {
            write(&rel, to_pretty_json(doc).as_bytes())?;
        }
    }
    Ok(written)
}

/// A plain file name, or `fallback` when the name would leave the folder.
fn safe_name(name: &str, fallback: &str) -> String {
    let plain = !name.is_empty() && Path::new(name).components().count() == 1 && !name.contains(['/', '\\']);
    if plain && name != ".." && name != "." { name.to_string() } else { fallback.to_string() }
}
