//! A connector package on disk, found the way paconn does: explicit flags, then `settings.json`,
//! then the conventional file names in the package folder.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

/// The conventional file names of a package.
pub const API_DEFINITION: &str = "apiDefinition.swagger.json";
/// See [`API_DEFINITION`].
pub const API_PROPERTIES: &str = "apiProperties.json";
/// See [`API_DEFINITION`].
pub const ICON: &str = "icon.png";
/// See [`API_DEFINITION`].
pub const SCRIPT: &str = "script.csx";
/// See [`API_DEFINITION`].
pub const SETTINGS: &str = "settings.json";

/// Where the package files are: flags given on the command line (each may be missing).
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// The package folder (default: the current folder).
    pub dir: Option<PathBuf>,
    /// `--settings`.
    pub settings: Option<PathBuf>,
    /// `--api-def`.
    pub api_definition: Option<PathBuf>,
    /// `--api-prop`.
    pub api_properties: Option<PathBuf>,
    /// `--icon`.
    pub icon: Option<PathBuf>,
    /// `--script`.
    pub script: Option<PathBuf>,
}

/// A package read from disk, ready to upload.
#[derive(Debug)]
pub struct LocalPackage {
    /// The settings file to write `connectorId` into.
    pub settings_path: PathBuf,
    /// The settings read from it (an empty object when it does not exist).
    pub settings: Map<String, Value>,
    /// The folder the package was read from.
    pub dir: PathBuf,
    /// `apiDefinition.swagger.json`, as text.
    pub api_definition: String,
    /// `apiProperties.json`, as text.
    pub api_properties: String,
    /// The script, as text.
    pub script: Option<String>,
    /// The icon's bytes.
    pub icon: Option<Vec<u8>>,
}

impl Sources {
    /// Reads the package these sources describe.
    pub fn read(&self) -> anyhow::Result<LocalPackage> {
        let dir = self.dir.clone().unwrap_or_else(|| PathBuf::from("."));
        anyhow::ensure!(dir.is_dir(), "{} is not a folder; give the package folder", dir.display());
        let settings_path = self.settings.clone().unwrap_or_else(|| dir.join(SETTINGS));
        let settings = read_settings(&settings_path, self.settings.is_some())?;
        let base = settings_path.parent().map_or_else(|| dir.clone(), Path::to_path_buf);
        let pick = |flag: &Option<PathBuf>, key: &str, default: &str| -> (PathBuf, bool) {
            if let Some(path) = flag {
                return (path.clone(), true);
            }
            match settings.get(key).and_then(Value::as_str) {
                Some(path) => (base.join(path), true),
                None => (find_file(&dir, default), false),
            }
        };
        let (definition, _) = pick(&self.api_definition, "apiDefinition", API_DEFINITION);
        let (properties, _) = pick(&self.api_properties, "apiProperties", API_PROPERTIES);
        let (icon, icon_required) = pick(&self.icon, "icon", ICON);
        let (script, script_required) = pick(&self.script, "script", SCRIPT);
        Ok(LocalPackage {
            api_definition: read_text(&definition)?,
            api_properties: read_text(&properties)?,
            script: optional(&script, script_required, read_text)?,
            icon: optional(&icon, icon_required, |p| {
                std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
            })?,
            settings_path,
            settings,
            dir,
        })
    }
}

/// Reads `path` when it exists or is `required`; otherwise `None`.
fn optional<T>(
    path: &Path,
    required: bool,
    read: impl Fn(&Path) -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    if required || path.is_file() { read(path).map(Some) } else { Ok(None) }
}

/// `name` in `dir`, matched without regard to case (as packages in the wild vary).
pub fn find_file(dir: &Path, name: &str) -> PathBuf {
    let exact = dir.join(name);
    if exact.is_file() {
        return exact;
    }
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .map_or(exact, |e| e.path())
}

/// The settings object in `path`; a missing file is an empty object unless it was asked for.
fn read_settings(path: &Path, required: bool) -> anyhow::Result<Map<String, Value>> {
    if !required && !path.is_file() {
        return Ok(Map::new());
    }
    let text = read_text(path)?;
    match serde_json::from_str(text.trim_start_matches('\u{feff}')) {
        Ok(Value::Object(map)) => Ok(map),
        _ => anyhow::bail!("{} is not a JSON object; fix it or remove it", path.display()),
    }
}

/// A text file as a string: UTF-8 (a BOM kept), UTF-16 with a BOM, else Windows-1252.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| {
        format!("cannot read {}; check the path (or the package's settings.json)", path.display())
    })?;
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(&bytes)
        && encoding != encoding_rs::UTF_8
    {
        return Ok(encoding.decode_without_bom_handling(&bytes[bom..]).0.into_owned());
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(error) => {
            Ok(encoding_rs::WINDOWS_1252.decode_without_bom_handling(error.as_bytes()).0.into_owned())
        }
    }
}

impl LocalPackage {
    /// The connector name: `name` if given, else the definition's `info.title`, else the folder name.
    pub fn name(&self, name: Option<&str>) -> String {
        if let Some(name) = name {
            return name.to_owned();
        }
        let title = serde_json::from_str::<Value>(self.api_definition.trim_start_matches('\u{feff}'))
            .ok()
            .and_then(|doc| doc["info"]["title"].as_str().map(str::trim).map(str::to_owned))
            .filter(|title| !title.is_empty());
        title.unwrap_or_else(|| self.folder_name())
    }

    /// The package folder's name.
    pub fn folder_name(&self) -> String {
        let dir = std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        dir.file_name().map_or_else(|| "connector".to_owned(), |n| n.to_string_lossy().into_owned())
    }

    /// The upload body: `{name?, apiDefinition, apiProperties, script?, icon?}`.
    pub fn body(&self, name: Option<&str>) -> Value {
        let mut body = json!({
            "apiDefinition": self.api_definition,
            "apiProperties": self.api_properties,
        });
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        if let Some(script) = &self.script {
            body["script"] = json!(script);
        }
        if let Some(icon) = &self.icon {
            body["icon"] = json!(STANDARD.encode(icon));
        }
        body
    }

    /// Whether `apiProperties.json` has an OAuth `token` parameter (`oAuthSettings`), in which case
    /// paconn requires `--secret` on create; best effort (an unreadable file answers `false`).
    pub fn signs_in_with_oauth(&self) -> bool {
        fn has_oauth(value: &Value) -> bool {
            match value {
                Value::Object(map) => map.iter().any(|(key, item)| key == "oAuthSettings" || has_oauth(item)),
                Value::Array(items) => items.iter().any(has_oauth),
                _ => false,
            }
        }
        serde_json::from_str(self.api_properties.trim_start_matches('\u{feff}'))
            .is_ok_and(|v: Value| has_oauth(&v))
    }

    /// The connector id saved in `settings.json`, if any.
    pub fn connector_id(&self) -> Option<String> {
        self.settings.get("connectorId").and_then(Value::as_str).map(str::to_owned)
    }

    /// Writes `connectorId` into the settings file, keeping its other fields (as paconn does).
    pub fn save_connector_id(&self, id: &str) -> anyhow::Result<()> {
        let mut settings = self.settings.clone();
        settings.insert("connectorId".to_owned(), json!(id));
        let text = serde_json::to_string_pretty(&Value::Object(settings))? + "\n";
        std::fs::write(&self.settings_path, text)
            .with_context(|| format!("cannot write the connector id into {}", self.settings_path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::{LocalPackage, read_text};
    use serde_json::Map;
    use std::path::PathBuf;

    fn package(definition: &str) -> LocalPackage {
        LocalPackage {
            settings_path: PathBuf::from("settings.json"),
            settings: Map::new(),
            dir: PathBuf::from("/packages/My Folder"),
            api_definition: definition.to_owned(),
            api_properties: "{}".to_owned(),
            script: None,
            icon: None,
        }
    }

    #[test]
    fn text_files_in_utf16_and_windows_1252_are_decoded() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("{\"a\":\"é\"}".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        std::fs::write(dir.path().join("a.json"), utf16).expect("write");
        assert_eq!(read_text(&dir.path().join("a.json")).expect("read"), "{\"a\":\"é\"}");
        std::fs::write(dir.path().join("b.json"), b"{\"a\":\"\xE9\"}").expect("write");
        assert_eq!(read_text(&dir.path().join("b.json")).expect("read"), "{\"a\":\"é\"}");
        assert!(read_text(&dir.path().join("missing.json")).is_err());
    }

    #[test]
    fn the_name_is_the_flag_then_the_title_then_the_folder() {
        let titled = package("\u{feff}{\"info\": {\"title\": \" Contoso \"}}");
        assert_eq!(titled.name(Some("Given")), "Given");
        assert_eq!(titled.name(None), "Contoso");
        assert_eq!(package("{not json").name(None), "My Folder");
        let body = titled.body(None);
        assert!(body.get("name").is_none() && body.get("icon").is_none(), "{body}");
    }
}
