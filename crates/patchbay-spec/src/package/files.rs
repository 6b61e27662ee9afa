//! Finding a package's files: names matched case-insensitively, paconn `settings.json` honoured.

use crate::diag::Diagnostic;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The files of one package folder.
#[derive(Debug, Default, Clone)]
pub struct PackageFiles {
    /// The connector's name: the folder's name.
    pub name: String,
    /// `apiDefinition.swagger.json` (or the file `settings.json` names).
    pub api_definition: Option<PathBuf>,
    /// `apiProperties.json`.
    pub api_properties: Option<PathBuf>,
    /// `script.csx` (also `Script.cs`).
    pub script: Option<PathBuf>,
    /// `icon.png`.
    pub icon: Option<PathBuf>,
    /// paconn's `settings.json`.
    pub settings: Option<PathBuf>,
}

/// Finds the package files in `dir`.
pub fn find_package_files(dir: &Path, diagnostics: &mut Vec<Diagnostic>) -> PackageFiles {
    let entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(e) => {
            diagnostics.push(Diagnostic::new("PB0101", &dir.display().to_string(), "", e.to_string()));
            Vec::new()
        }
    };
    let find = |names: &[&str]| {
        names.iter().find_map(|n| {
            entries
                .iter()
                .find(|p| p.file_name().is_some_and(|f| f.to_string_lossy().eq_ignore_ascii_case(n)))
                .cloned()
        })
    };
    let mut files = PackageFiles {
        name: dir
            .canonicalize()
            .unwrap_or_else(|_| dir.to_path_buf())
            .file_name()
            .map_or_else(|| "connector".to_string(), |n| n.to_string_lossy().into_owned()),
        api_definition: find(&["apiDefinition.swagger.json", "apiDefinition.json"]),
        api_properties: find(&["apiProperties.json"]),
        script: find(&["script.csx", "script.cs"]),
        icon: find(&["icon.png"]),
        settings: find(&["settings.json"]),
    };
    if let Some(settings) = files.settings.clone() {
        apply_settings(dir, &settings, &mut files);
    }
    files
}

/// Takes file paths from paconn's `settings.json` where it names files that exist.
fn apply_settings(dir: &Path, settings: &Path, files: &mut PackageFiles) {
    let Ok(bytes) = std::fs::read(settings) else { return };
    let Ok(doc) = crate::json::read(&bytes, &crate::json::Limits::default()) else { return };
    let named = |key: &str| {
        let rel = doc.value.get(key).and_then(Value::as_str)?;
        let path = dir.join(rel);
        path.is_file().then_some(path)
    };
    if let Some(p) = named("apiDefinition") {
        files.api_definition = Some(p);
    }
    if let Some(p) = named("apiProperties") {
        files.api_properties = Some(p);
    }
    if let Some(p) = named("icon") {
        files.icon = Some(p);
    }
    if let Some(p) = named("script") {
        files.script = Some(p);
    }
}
