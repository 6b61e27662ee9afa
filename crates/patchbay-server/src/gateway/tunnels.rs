//! Dev tunnels: a local API exposed at `{public URL}/t/{id}/…` through a tunnel agent's socket.
//! The id is 192 random bits (the URL is the only proof); a tunnel lives as long as its socket.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use patchbay_store::GatewayId;
use std::collections::HashMap;
use std::sync::Mutex;
use url::Url;

/// The open tunnels of this node: id to the local origin its agent exposes.
#[derive(Debug, Default)]
pub struct Tunnels {
    origins: Mutex<HashMap<String, Url>>,
}

impl Tunnels {
    /// Opens a tunnel to `origin`; answers its new random id.
    pub fn open(&self, origin: Url) -> Option<String> {
        let mut bytes = [0u8; 24];
        getrandom(&mut bytes)?;
        let id = URL_SAFE_NO_PAD.encode(bytes);
        self.origins.lock().unwrap_or_else(|poison| poison.into_inner()).insert(id.clone(), origin);
        Some(id)
    }

    /// Closes tunnel `id`.
    pub fn close(&self, id: &str) {
        self.origins.lock().unwrap_or_else(|poison| poison.into_inner()).remove(id);
    }

    /// The local origin of tunnel `id`, if it is open.
    pub fn origin(&self, id: &str) -> Option<Url> {
        self.origins.lock().unwrap_or_else(|poison| poison.into_inner()).get(id).cloned()
    }
}

/// The prefix of the hub keys of tunnels.
pub const KEY_PREFIX: &str = "tun_";

/// The hub key under which a tunnel's agent is registered.
pub fn hub_key(id: &str) -> GatewayId {
    GatewayId::from(format!("{KEY_PREFIX}{id}"))
}

/// Fills `bytes` from the operating system's random source.
fn getrandom(bytes: &mut [u8]) -> Option<()> {
    use rand::TryRng;
    rand::rngs::SysRng.try_fill_bytes(bytes).ok()
}
