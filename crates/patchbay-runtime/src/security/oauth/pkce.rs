//! PKCE (RFC 7636, S256) and random `state` values.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;
use sha2::{Digest as _, Sha256};

use crate::security::SecurityError;

/// A fresh PKCE pair `(code_verifier, code_challenge)`: 32 random bytes as base64url (43
/// characters) and its S256 challenge.
pub fn pkce_pair() -> Result<(String, String), SecurityError> {
    let verifier = random_text()?;
    let challenge = pkce_challenge(&verifier);
    Ok((verifier, challenge))
}

/// The S256 challenge of a verifier: `base64url(sha256(verifier))` without padding.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A fresh random value for the OAuth `state` parameter (base64url, 43 characters).
pub fn random_state() -> Result<String, SecurityError> {
    random_text()
}

/// 32 bytes from the operating system, base64url without padding.
fn random_text() -> Result<String, SecurityError> {
    let mut buf = [0u8; 32];
    rand::rngs::SysRng.try_fill_bytes(&mut buf).map_err(|e| SecurityError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}
