//! What calls and runs read before they start — the user behind a token, a flow, a flow revision's
//! resolved connections — kept in memory, each entry tagged with the store's configuration
//! generation read before it was loaded ([`patchbay_store::Store::config_generation`]). An entry
//! serves only while the generation is unchanged, so a change made on any node (a revoked token, a
//! disabled flow, a new secret) is seen by the next call everywhere: a request pays one read of the
//! generation instead of a read per record. A change between the generation read and the load
//! leaves an entry with the older tag, which the next call reloads.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use patchbay_store::{Flow, FlowId, User};

use crate::flows::env::FlowConnection;

/// The most entries of one kind; past it the kind is emptied (entries are cheap to reload).
const MAX_ENTRIES: usize = 10_000;

/// Values by key, each with the generation it was loaded at.
pub struct Tagged<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
}

impl<K, V> Default for Tagged<K, V> {
    fn default() -> Self {
        Tagged { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Clone> Tagged<K, V> {
    /// The value of `key` if it was loaded at `generation`.
    pub fn get(&self, key: &K, generation: i64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(tag, _)| *tag == generation).map(|(_, value)| value.clone())
    }

    /// Keeps `value` for `key`, loaded at `generation`.
    pub fn put(&self, key: K, generation: i64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (generation, value));
    }

    /// The value of `key` at `generation`: kept, or loaded by `load` and kept when it loads.
    pub async fn get_or_load<E>(
        &self,
        key: K,
        generation: i64,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        if let Some(value) = self.get(&key, generation) {
            return Ok(value);
        }
        let value = load.await?;
        self.put(key, generation, value.clone());
        Ok(value)
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The node's configuration cache.
#[derive(Default)]
pub struct ConfigCache {
    /// The user behind each API token, by the token's hash (never the token itself).
    pub callers: Tagged<String, User>,
    /// Flows with their current revision.
    pub flows: Tagged<FlowId, Arc<Flow>>,
    /// The resolved connections of a flow revision, by reference name.
    pub connections: Tagged<(FlowId, i64), Arc<HashMap<String, FlowConnection>>>,
}

/// The configuration generation a request read first, kept in its extensions for the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(pub i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_serves_only_its_own_generation() {
        let cache: Tagged<&str, i32> = Tagged::default();
        cache.put("a", 7, 1);
        assert_eq!(cache.get(&"a", 7), Some(1));
        assert_eq!(cache.get(&"a", 8), None, "a newer generation misses");
        cache.put("a", 8, 2);
        assert_eq!(cache.get(&"a", 8), Some(2));
        assert_eq!(cache.get(&"a", 7), None);
        assert_eq!(cache.get(&"b", 8), None);
    }

    #[tokio::test]
    async fn a_load_is_kept_only_when_it_succeeds() {
        let cache: Tagged<&str, i32> = Tagged::default();
        let failed: Result<i32, &str> = cache.get_or_load("a", 1, async { Err("gone") }).await;
        assert_eq!(failed, Err("gone"));
        assert!(cache.is_empty(), "a failed load keeps nothing");
        assert_eq!(cache.get_or_load("a", 1, async { Ok::<_, &str>(5) }).await, Ok(5));
        assert_eq!(cache.get_or_load("a", 1, async { Ok::<_, &str>(6) }).await, Ok(5), "kept");
        assert_eq!(
            cache.get_or_load("a", 2, async { Ok::<_, &str>(7) }).await,
            Ok(7),
            "a new generation loads"
        );
    }

    #[test]
    fn it_never_grows_past_its_bound() {
        let cache: Tagged<usize, usize> = Tagged::default();
        for n in 0..(MAX_ENTRIES + 5) {
            cache.put(n, 1, n);
        }
        assert!(cache.len() <= MAX_ENTRIES);
        assert_eq!(cache.get(&(MAX_ENTRIES + 4), 1), Some(MAX_ENTRIES + 4));
    }
}
