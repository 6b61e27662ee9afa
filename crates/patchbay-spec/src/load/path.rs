//! Loading whatever a path names: a package folder or a single document.

use super::{Format, Loaded, detect_format};
use crate::diag::Diagnostic;
use crate::fields::Ctx;
use crate::model::Object;
use crate::package::{load_package, read_file, read_swagger};
use std::path::Path;

/// Loads a package folder, or a Swagger 2.0, OpenAPI 3.x or Postman file (JSON or YAML).
pub fn load_path(path: &Path) -> Loaded {
    if path.is_dir() {
        return load_package(path);
    }
    let mut loaded = Loaded::default();
    let label =
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    loaded.definition_file = label.clone();
    loaded.properties_file = label.clone();
    let Some(document) = read_file(path, &label, true, &mut loaded) else { return loaded };
    let format = detect_format(&document);
    let mut ctx = Ctx { file: &label, diagnostics: &mut loaded.diagnostics };
    let mut connector = match format {
        Some(Format::Swagger2) => read_swagger(document, &Object::new(), &mut ctx),
        Some(Format::OpenApi3) => crate::import::import_openapi3(document, &mut ctx),
        Some(Format::Postman) => crate::import::import_postman(document, &mut ctx),
        None => {
            let message = "not a Swagger 2.0, OpenAPI 3.x or Postman collection document";
            loaded.diagnostics.push(Diagnostic::new("PB0106", &label, "", message));
            return loaded;
        }
    };
    if connector.identity.name.is_empty() {
        connector.identity.name = name_from(path, &connector.identity.title);
    }
    loaded.connector = Some(connector);
    loaded
}

/// A connector name from the title, or else the file name without its extensions.
fn name_from(path: &Path, title: &str) -> String {
    let source = if title.trim().is_empty() {
        path.file_name()
            .map(|n| n.to_string_lossy().split('.').next().unwrap_or("").to_string())
            .unwrap_or_default()
    } else {
        title.to_string()
    };
    let name: String = source.chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() { "connector".to_string() } else { name }
}
