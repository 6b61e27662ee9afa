//! What the caller provides to an evaluation: workflow and policy functions, dotted paths, the clock
//! and randomness.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{EvalError, EvalErrorKind};
use crate::value::to_text;

/// The caller's side of an evaluation.
///
/// The evaluator asks [`Scope::call`] first for **every** function call, so a scope can provide the
/// workflow functions (`triggerBody`, `body`, `outputs`, `actions`, `items`, `item`, `variables`,
/// `parameters`, `workflow`, `result`, `listCallbackUrl`, …), the policy functions
/// (`connectionParameters`, `headers`, `header`, `queryParameters`, …) or override a built-in; it returns
/// `None` to fall back to the built-in library. The name passed is the catalogue spelling when the
/// name matches a known function case-insensitively (`triggerbody` → `"triggerBody"`,
/// `ConnectionParameters` → `"connectionParameters"`), otherwise the name as written.
pub trait Scope {
    /// Evaluates function `name` with the already evaluated `args`, or `None` if the scope does not
    /// provide it.
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>>;

    /// Resolves a dotted identifier path such as `Request.OriginalHTTPMethod` (`["Request",
    /// "OriginalHTTPMethod"]`), or `None` if unknown (an evaluation error).
    fn path(&self, segments: &[&str]) -> Option<Value> {
        let _ = segments;
        None
    }

    /// The current time for `utcNow`, `getFutureTime` and `getPastTime`.
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// 64 random bits for `rand` and `guid` (not cryptographically strong by default).
    fn random_u64(&self) -> u64 {
        default_random()
    }
}

/// Random bits from the standard library's per-process random hasher keys and a counter.
fn default_random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    RandomState::new().hash_one((n, nanos))
}

/// A scope with no functions or paths: only the built-in library is available.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyScope;

impl Scope for EmptyScope {
    fn call(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, EvalError>> {
        None
    }
}

/// A scope function.
type Function = Box<dyn Fn(&[Value]) -> Result<Value, EvalError> + Send + Sync>;

/// A scope built from closures and values, for tests and simple callers.
///
/// Function names and path segments match case-insensitively.
///
/// ```
/// use patchbay_expr::{MapScope, parse_template};
/// use serde_json::json;
///
/// let scope = MapScope::new()
///     .lenient_lookup("connectionParameters", json!({ "tenant": "acme" }))
///     .value("body", json!({ "a": { "b": 7 } }))
///     .path(&["Request", "OriginalHTTPMethod"], json!("GET"));
/// let t = parse_template("/tenants/@{connectionParameters('tenant')}/x").unwrap();
/// assert_eq!(t.evaluate(&scope).unwrap(), json!("/tenants/acme/x"));
/// assert_eq!(parse_template("@body().a.b").unwrap().evaluate(&scope).unwrap(), json!(7));
/// ```
#[derive(Default)]
pub struct MapScope {
    functions: HashMap<String, Function>,
    paths: HashMap<Vec<String>, Value>,
    now: Option<DateTime<Utc>>,
    seed: Option<AtomicU64>,
}

impl std::fmt::Debug for MapScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.functions.keys().collect();
        names.sort();
        f.debug_struct("MapScope").field("functions", &names).field("now", &self.now).finish_non_exhaustive()
    }
}

impl MapScope {
    /// An empty scope.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds function `name` implemented by `f`.
    #[must_use]
    pub fn function(
        mut self,
        name: &str,
        f: impl Fn(&[Value]) -> Result<Value, EvalError> + Send + Sync + 'static,
    ) -> Self {
        self.functions.insert(name.to_ascii_lowercase(), Box::new(f));
        self
    }

    /// Adds a function of no arguments returning `value` (`triggerBody()`, `body()`, `item()`).
    #[must_use]
    pub fn value(self, name: &str, value: Value) -> Self {
        let label = name.to_string();
        self.function(name, move |args| {
            if args.is_empty() {
                Ok(value.clone())
            } else {
                Err(EvalError::new(EvalErrorKind::ArgumentCount, format!("`{label}` takes no arguments")))
            }
        })
    }

    /// Adds a function of one name argument that looks the name up in the object `map`
    /// (`variables('x')`, `parameters('p')`, `body('Action')`). A missing name is an error unless a
    /// second (default) argument is given.
    #[must_use]
    pub fn lookup(self, name: &str, map: Value) -> Self {
        self.lookup_with(name, map, false)
    }

    /// Like [`lookup`](Self::lookup), but a missing name yields the second argument or `""`: the
    /// policy-template behaviour of `connectionParameters`, `headers` and `queryParameters`.
    #[must_use]
    pub fn lenient_lookup(self, name: &str, map: Value) -> Self {
        self.lookup_with(name, map, true)
    }

    fn lookup_with(self, name: &str, map: Value, lenient: bool) -> Self {
        let label = name.to_string();
        self.function(name, move |args| {
            let (key, default) = match args {
                [key] => (key, None),
                [key, default] => (key, Some(default)),
                _ => {
                    let message = format!("`{label}` takes a name and an optional default");
                    return Err(EvalError::new(EvalErrorKind::ArgumentCount, message));
                }
            };
            let key = to_text(key);
            let found = map.get(&key).or_else(|| {
                map.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(&key)).map(|(_, v)| v)
            });
            match (found, default) {
                (Some(v), Some(d)) if v.is_null() || v.as_str() == Some("") => Ok(d.clone()),
                (Some(v), _) => Ok(v.clone()),
                (None, Some(d)) => Ok(d.clone()),
                (None, None) if lenient => Ok(Value::from("")),
                (None, None) => Err(EvalError::scope(format!("`{label}('{key}')` is not defined"))),
            }
        })
    }

    /// Adds a dotted path (`&["Request", "OriginalHTTPMethod"]`).
    #[must_use]
    pub fn path(mut self, segments: &[&str], value: Value) -> Self {
        self.paths.insert(segments.iter().map(|s| s.to_ascii_lowercase()).collect(), value);
        self
    }

    /// Fixes the clock.
    #[must_use]
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// Makes `rand` and `guid` deterministic from `seed`.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(AtomicU64::new(seed));
        self
    }
}

impl Scope for MapScope {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        let f = self.functions.get(&name.to_ascii_lowercase())?;
        Some(f(args))
    }

    fn path(&self, segments: &[&str]) -> Option<Value> {
        let key: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
        self.paths.get(&key).cloned()
    }

    fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    fn random_u64(&self) -> u64 {
        match &self.seed {
            // SplitMix64: a deterministic sequence from the seed.
            Some(state) => {
                let mut z = state
                    .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
                    .wrapping_add(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^ (z >> 31)
            }
            None => default_random(),
        }
    }
}
