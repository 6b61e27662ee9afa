//! The secret key and the AEAD that seals connection secrets at rest.
//!
//! A sealed value is `key_id ‖ nonce ‖ ciphertext`: an 8-byte key id (a hash of the key, so a wrong
//! key is named as such), a random 24-byte XChaCha20 nonce, then the XChaCha20-Poly1305 ciphertext
//! with its tag. The associated data binds each value to where it is stored (connection id and field
//! name), so a sealed value copied to another row or field does not decrypt.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::ids::{hex, random_bytes};

/// Length of a key in bytes.
pub const KEY_LEN: usize = 32;
/// Length of the key id that prefixes every sealed value.
pub const KEY_ID_LEN: usize = 8;
/// Length of the XChaCha20 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag.
const TAG_LEN: usize = 16;

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Shorter than key id, nonce and tag together.
    #[error("the sealed value is truncated")]
    Truncated,
    /// Sealed under a different key than the one loaded.
    #[error("it was encrypted with key {found}, but the loaded key is {loaded}")]
    WrongKey {
        /// Key id found in the value.
        found: KeyIdText,
        /// Key id of the loaded key.
        loaded: KeyIdText,
    },
    /// The tag did not verify: tampered data or different associated data.
    #[error("authentication failed (tampered data or a value moved to another field)")]
    Inauthentic,
}

/// A key id, shown as hexadecimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyIdText([u8; KEY_ID_LEN]);

impl fmt::Display for KeyIdText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// The key that encrypts connection secrets, with its id.
#[derive(Clone)]
pub struct SecretKey {
    id: [u8; KEY_ID_LEN],
    cipher: XChaCha20Poly1305,
    node_credential: [u8; 32],
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey").field("id", &self.id()).finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        let digest = Sha256::new().chain_update(b"patchbay secret key id\0").chain_update(bytes).finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        let node = Sha256::new().chain_update(b"patchbay node credential\0").chain_update(bytes).finalize();
        let mut node_credential = [0u8; 32];
        node_credential.copy_from_slice(&node);
        Self { id, cipher: XChaCha20Poly1305::new(&Key::from(*bytes)), node_credential }
    }

    /// A credential every node sharing this key can compute and nobody else can (nodes present it
    /// to each other, e.g. to forward a call to the node holding a gateway agent); hexadecimal.
    pub fn node_credential(&self) -> String {
        hex(&self.node_credential)
    }

    /// A new random key.
    pub fn generate() -> Result<Self> {
        Ok(Self::from_bytes(&random_bytes::<KEY_LEN>()?))
    }

    /// A key from base64 text (standard or URL-safe alphabet) of exactly 32 bytes; `origin` names
    /// where the text came from in errors, which never show the text itself.
    pub fn from_base64(text: &str, origin: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = |reason| StoreError::InvalidKey { origin: origin.to_owned(), reason };
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| invalid("it is not base64"))?;
        let bytes: [u8; KEY_LEN] =
            bytes.try_into().map_err(|_| invalid("it must decode to exactly 32 bytes"))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// The key from `env_value` (base64) when it is set and not blank, otherwise from the key file at
    /// `path`, which is created with mode 0600 when missing and refused when group or others can read it.
    pub fn from_env_or_file(env_value: Option<&str>, path: &Path) -> Result<Self> {
        match env_value.filter(|value| !value.trim().is_empty()) {
            Some(value) => Self::from_base64(value, "the environment"),
            None => Self::load_or_create(path),
        }
    }

    /// The key id as hexadecimal text (safe to log).
    pub fn id(&self) -> String {
        hex(&self.id)
    }

    /// Seals `plaintext`, bound to `associated_data`, as `key_id ‖ nonce ‖ ciphertext`.
    pub fn encrypt(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<Vec<u8>> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let ciphertext = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad: associated_data })
            .map_err(|_| StoreError::Encrypt)?;
        let mut sealed = Vec::with_capacity(KEY_ID_LEN + NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&self.id);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a value sealed by [`SecretKey::encrypt`] with the same key and associated data.
    pub fn decrypt(&self, sealed: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, DecryptError> {
        if sealed.len() < KEY_ID_LEN + NONCE_LEN + TAG_LEN {
            return Err(DecryptError::Truncated);
        }
        let (id, rest) = sealed.split_at(KEY_ID_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        if id != self.id {
            let mut found = [0u8; KEY_ID_LEN];
            found.copy_from_slice(id);
            return Err(DecryptError::WrongKey { found: KeyIdText(found), loaded: KeyIdText(self.id) });
        }
        let nonce = XNonce::try_from(nonce).map_err(|_| DecryptError::Truncated)?;
        self.cipher
            .decrypt(&nonce, Payload { msg: ciphertext, aad: associated_data })
            .map_err(|_| DecryptError::Inauthentic)
    }

    /// Reads the key file, or creates it when it does not exist.
    fn load_or_create(path: &Path) -> Result<Self> {
        match fs::symlink_metadata(path) {
            Ok(_) => Self::load(path),
            Err(error) if error.kind() == ErrorKind::NotFound => Self::create(path),
            Err(source) => Err(key_file_error(path, source)),
        }
    }

    /// Reads an existing key file after checking that only its owner can read it.
    fn load(path: &Path) -> Result<Self> {
        check_private(path)?;
        let text = fs::read_to_string(path).map_err(|source| key_file_error(path, source))?;
        Self::from_base64(&text, &path.display().to_string())
    }

    /// Writes a new random key to `path` with mode 0600. The file appears complete or not at all
    /// (written aside, then hard-linked into place), and a file another process created first wins.
    fn create(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|source| key_file_error(parent, source))?;
        }
        let key_bytes = random_bytes::<KEY_LEN>()?;
        let aside = aside_path(path)?;
        let written = write_private(&aside, format!("{}\n", STANDARD.encode(key_bytes)).as_bytes());
        let linked = written.and_then(|()| fs::hard_link(&aside, path));
        let _ = fs::remove_file(&aside);
        match linked {
            Ok(()) => Ok(Self::from_bytes(&key_bytes)),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => Self::load(path),
            Err(source) => Err(key_file_error(path, source)),
        }
    }
}

/// A [`StoreError::KeyFile`] for `path`.
fn key_file_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::KeyFile { path: path.to_path_buf(), source }
}

/// A unique temporary name beside `path`.
fn aside_path(path: &Path) -> Result<PathBuf> {
    let mut name = path.file_name().map(|name| name.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.tmp", hex(&random_bytes::<8>()?)));
    Ok(path.with_file_name(name))
}

/// Creates `path` (which must not exist) readable only by its owner and writes `contents` durably.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Refuses a key file that group or others may read or write.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path).map_err(|source| key_file_error(path, source))?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(StoreError::KeyFilePermissions { path: path.to_path_buf(), mode: mode & 0o7777 });
    }
    Ok(())
}

/// Permission bits are a Unix notion; elsewhere the file is trusted as it is.
#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_bytes(&[7u8; KEY_LEN])
    }

    #[test]
    fn round_trip() {
        let sealed = key().encrypt(b"s3cr3t", b"cxn_1\0api_key").unwrap();
        assert_eq!(sealed.len(), KEY_ID_LEN + NONCE_LEN + 6 + TAG_LEN);
        assert_eq!(key().decrypt(&sealed, b"cxn_1\0api_key").unwrap(), b"s3cr3t");
    }

    #[test]
    fn nonces_differ_per_encryption() {
        let first = key().encrypt(b"same", b"ad").unwrap();
        let second = key().encrypt(b"same", b"ad").unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn tampering_is_detected() {
        let sealed = key().encrypt(b"s3cr3t", b"ad").unwrap();
        for index in KEY_ID_LEN..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[index] ^= 0x01;
            assert_eq!(key().decrypt(&tampered, b"ad"), Err(DecryptError::Inauthentic), "byte {index}");
        }
        assert_eq!(key().decrypt(&sealed[..20], b"ad"), Err(DecryptError::Truncated));
    }

    #[test]
    fn wrong_associated_data_fails() {
        let sealed = key().encrypt(b"s3cr3t", b"cxn_1\0api_key").unwrap();
        assert_eq!(key().decrypt(&sealed, b"cxn_1\0password"), Err(DecryptError::Inauthentic));
        assert_eq!(key().decrypt(&sealed, b"cxn_2\0api_key"), Err(DecryptError::Inauthentic));
    }

    #[test]
    fn wrong_key_is_named() {
        let sealed = key().encrypt(b"s3cr3t", b"ad").unwrap();
        let other = SecretKey::from_bytes(&[8u8; KEY_LEN]);
        let error = other.decrypt(&sealed, b"ad").unwrap_err();
        assert!(matches!(error, DecryptError::WrongKey { .. }));
        assert!(error.to_string().contains(&key().id()), "{error}");
    }

    #[test]
    fn base64_keys_from_the_environment() {
        let text = STANDARD.encode([7u8; KEY_LEN]);
        assert_eq!(SecretKey::from_base64(&text, "env").unwrap().id(), key().id());
        let url_safe = URL_SAFE_NO_PAD.encode([7u8; KEY_LEN]);
        let from_env = SecretKey::from_env_or_file(Some(&url_safe), Path::new("/nonexistent/key")).unwrap();
        assert_eq!(from_env.id(), key().id());
        let short = SecretKey::from_base64(&STANDARD.encode([1u8; 16]), "env").unwrap_err().to_string();
        assert!(short.contains("32 bytes"), "{short}");
        assert!(SecretKey::from_base64("not base64 at all!", "env").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("secret.key");
        let created = SecretKey::from_env_or_file(None, &path).unwrap();
        let again = SecretKey::from_env_or_file(Some("  "), &path).unwrap();
        assert_eq!(created.id(), again.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let leftovers = fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "only the key file remains");
    }

    #[cfg(unix)]
    #[test]
    fn readable_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        SecretKey::from_env_or_file(None, &path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = SecretKey::from_env_or_file(None, &path).unwrap_err();
        assert!(matches!(error, StoreError::KeyFilePermissions { mode: 0o644, .. }), "{error}");
    }

    #[test]
    fn debug_shows_only_the_id() {
        let shown = format!("{:?}", key());
        assert!(shown.contains(&key().id()) && !shown.contains("cipher"), "{shown}");
    }
}
