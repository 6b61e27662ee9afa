//! `patchbay login` / `patchbay logout`: saved server profiles (URL and API token).
//!
//! Profiles live in `$PATCHBAY_CONFIG_DIR/profiles.json` (default `~/.config/patchbay/`), written
//! with mode 0600 because they hold tokens.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::remote::Client;

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// One saved server: its base URL and an API token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// The API token sent as `Authorization: Bearer <token>`.
    pub token: String,
}

/// The contents of `profiles.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Profiles {
    /// Profiles by name.
    pub profiles: BTreeMap<String, Profile>,
}

/// Arguments of `login`.
#[derive(clap::Args)]
pub struct LoginArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "PATCHBAY_URL", hide_env_values = true)]
    url: String,
    /// An API token (`patchbay serve` prints the admin's on first start).
    /// Prefer the environment variable: arguments are visible to other users.
    #[arg(long, env = "PATCHBAY_TOKEN", hide_env_values = true)]
    token: String,
    /// The name to save the profile under.
    #[arg(long, env = "PATCHBAY_PROFILE", hide_env_values = true, default_value = DEFAULT_PROFILE)]
    profile: String,
}

/// Arguments of `logout`.
#[derive(clap::Args)]
pub struct LogoutArgs {
    /// The profile to forget.
    #[arg(long, env = "PATCHBAY_PROFILE", hide_env_values = true, default_value = DEFAULT_PROFILE)]
    profile: String,
}

/// The folder holding `profiles.json`: `$PATCHBAY_CONFIG_DIR`, else `~/.config/patchbay`.
pub fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PATCHBAY_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("no home folder: set PATCHBAY_CONFIG_DIR to the folder for profiles.json")?;
    Ok(PathBuf::from(home).join(".config").join("patchbay"))
}

impl Profiles {
    /// The path of `profiles.json`.
    pub fn path() -> anyhow::Result<PathBuf> {
        Ok(config_dir()?.join("profiles.json"))
    }

    /// Reads `profiles.json`; a missing file is no profiles.
    pub fn load() -> anyhow::Result<Profiles> {
        let path = Self::path()?;
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!("{} is not a profiles file; delete it and log in again", path.display())
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Profiles::default()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes `profiles.json` (mode 0600 on Unix), creating its folder.
    pub fn save(&self) -> anyhow::Result<PathBuf> {
        let path = Self::path()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self)? + "\n";
        write_private(&path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }
}

/// Writes `bytes` to `path`, readable by the owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(bytes)
}

/// Runs `login`: checks the token against the server, then saves the profile.
pub fn login(args: &LoginArgs) -> anyhow::Result<ExitCode> {
    let profile =
        Profile { url: args.url.trim_end_matches('/').to_owned(), token: args.token.trim().to_owned() };
    let client = Client::new(&profile)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let connectors = runtime.block_on(client.get("/api/connectors"))?.into_result()?;
    let count = connectors.as_array().map_or(0, Vec::len);
    let mut profiles = Profiles::load()?;
    profiles.profiles.insert(args.profile.clone(), profile.clone());
    let path = profiles.save()?;
    println!(
        "logged in to {} as profile `{}` ({count} connector{} visible); saved to {}",
        profile.url,
        args.profile,
        if count == 1 { "" } else { "s" },
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `logout`: forgets the profile.
pub fn logout(args: &LogoutArgs) -> anyhow::Result<ExitCode> {
    let mut profiles = Profiles::load()?;
    if profiles.profiles.remove(&args.profile).is_none() {
        println!("no profile `{}`; nothing to do", args.profile);
        return Ok(ExitCode::SUCCESS);
    }
    profiles.save()?;
    println!("logged out: profile `{}` removed", args.profile);
    Ok(ExitCode::SUCCESS)
}
