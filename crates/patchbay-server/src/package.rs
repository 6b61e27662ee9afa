//! Checking and loading uploaded connector packages.
//!
//! The spec crate's loaders read from disk, so an uploaded package is written into a temporary
//! folder named after the connector (`<tmp>/<name>/apiDefinition.swagger.json`, `apiProperties.json`,
//! `script.csx`, `icon.png`) and loaded from there; the folder is removed afterwards. Diagnostics
//! name the package's file names, never the temporary path.

use std::path::Path;

use patchbay_spec::{Checked, Connector, Severity};
use patchbay_store::ConnectorPackage;
use serde_json::Value;

use crate::error::ApiError;

/// The outcome of checking a package that has no errors.
#[derive(Debug)]
pub struct Accepted {
    /// The warnings (and notes) the validator found, as JSON objects.
    pub warnings: Vec<Value>,
}

/// Validates `package` as connector `name`: errors give [`ApiError::invalid_package`] with every
/// diagnostic; otherwise the warnings come back.
pub async fn check(name: &str, package: &ConnectorPackage) -> Result<Accepted, ApiError> {
    let checked = on_disk(name, package, |dir| patchbay_spec::check_path(dir, false)).await?;
    let Checked { diagnostics, .. } = checked;
    let json: Vec<Value> = diagnostics.iter().map(patchbay_spec::Diagnostic::to_json).collect();
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err(ApiError::invalid_package(json));
    }
    Ok(Accepted { warnings: json })
}

/// The package's certification findings (spec §8.3): its errors and its `PB09xx` warnings;
/// empty when it may be published to the catalogue.
pub async fn certification_findings(name: &str, package: &ConnectorPackage) -> Result<Vec<Value>, ApiError> {
    let checked = on_disk(name, package, |dir| patchbay_spec::check_path(dir, true)).await?;
    Ok(checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error || d.code.starts_with("PB09"))
        .map(patchbay_spec::Diagnostic::to_json)
        .collect())
}

/// Converts one uploaded document (OpenAPI 3, Swagger 2.0 or a Postman collection, told apart by
/// its content; staged as `document.json`, or `document.yaml` when `file_name` ends so) into a
/// package: the loader's and validator's errors give [`ApiError::invalid_package`], located in it.
pub async fn convert(file_name: &str, text: &str) -> Result<ConnectorPackage, ApiError> {
    let lower = file_name.to_ascii_lowercase();
    let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    let file_name = if yaml { "document.yaml" } else { "document.json" };
    let text = text.to_owned();
    let task = tokio::task::spawn_blocking(move || -> std::io::Result<patchbay_spec::Checked> {
        let root = tempfile::tempdir()?;
        let path = root.path().join(file_name);
        std::fs::write(&path, text)?;
        Ok(patchbay_spec::check_path(&path, false))
    });
    let checked = match task.await {
        Ok(Ok(checked)) => checked,
        Ok(Err(error)) => return Err(ApiError::internal(format!("cannot stage the file: {}", error.kind()))),
        Err(_) => return Err(ApiError::internal("the conversion did not finish")),
    };
    let connector = match checked.connector {
        Some(connector) if !checked.has_errors() => connector,
        _ => {
            let json = checked.diagnostics.iter().map(patchbay_spec::Diagnostic::to_json).collect();
            return Err(ApiError::invalid_package(json));
        }
    };
    let (definition, properties) = patchbay_spec::export::package_documents(&connector);
    Ok(ConnectorPackage {
        api_definition: patchbay_spec::export::to_pretty_json(&definition),
        api_properties: patchbay_spec::export::to_pretty_json(&properties),
        script: None,
        icon: None,
    })
}

/// Loads `package` (already validated when it was stored) into the connector model.
pub async fn load(name: &str, package: &ConnectorPackage) -> Result<Connector, ApiError> {
    let loaded = on_disk(name, package, patchbay_spec::load_path).await?;
    loaded.connector.ok_or_else(|| ApiError::internal("a stored connector revision no longer loads"))
}

/// Writes `package` into a temporary folder named after `name` and runs `read` on the folder,
/// on the blocking thread pool.
async fn on_disk<T, F>(name: &str, package: &ConnectorPackage, read: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Path) -> T + Send + 'static,
{
    let folder = folder_name(name);
    let package = package.clone();
    let task = tokio::task::spawn_blocking(move || -> std::io::Result<T> {
        let root = tempfile::tempdir()?;
        let dir = root.path().join(folder);
        write_files(&dir, &package)?;
        Ok(read(&dir))
    });
    match task.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(ApiError::internal(format!("cannot stage the package: {}", error.kind()))),
        Err(_) => Err(ApiError::internal("the package check did not finish")),
    }
}

/// Writes the package's files into `dir` (created).
fn write_files(dir: &Path, package: &ConnectorPackage) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("apiDefinition.swagger.json"), &package.api_definition)?;
    std::fs::write(dir.join("apiProperties.json"), &package.api_properties)?;
    if let Some(script) = &package.script {
        std::fs::write(dir.join("script.csx"), script)?;
    }
    if let Some(icon) = &package.icon {
        std::fs::write(dir.join("icon.png"), icon)?;
    }
    Ok(())
}

/// A folder name from the connector name: letters, digits, `-`, `_`, `.` and spaces kept, the
/// rest replaced by `_`; never empty, never `.` or `..`.
fn folder_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .take(128)
        .map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | ' ') { c } else { '_' })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() { "connector".to_owned() } else { trimmed.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::folder_name;

    #[test]
    fn folder_names_cannot_escape_the_temporary_folder() {
        assert_eq!(folder_name("../../etc"), "______etc");
        assert_eq!(folder_name("Contoso Tasks"), "Contoso Tasks");
        assert_eq!(folder_name("  "), "connector");
        assert_eq!(folder_name("a/b\\c"), "a_b_c");
    }
}
