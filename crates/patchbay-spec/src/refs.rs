//! `$ref` resolution: local (`#/definitions/…`) and external (`file.json#/…`, relative to the
//! package), with cycles reported instead of followed.

use crate::model::{Connector, Object};
use serde_json::Value;
use std::collections::HashSet;

/// Why a `$ref` could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// The target does not exist.
    #[error("`{0}` does not point at anything")]
    NotFound(String),
    /// The chain of references comes back to itself.
    #[error("`$ref` cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
}

/// The documents a `$ref` may point into.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The document the reference appears in (the API definition).
    pub root: &'a Value,
    /// Other files of the package, by relative path.
    pub external: &'a Object,
}

/// The longest chain of `$ref`-to-`$ref` hops followed before giving up.
const MAX_HOPS: usize = 64;

impl<'a> Scope<'a> {
    /// Looks up one reference without following further `$ref`s.
    pub fn lookup(&self, reference: &str) -> Option<&'a Value> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc =
            if file.is_empty() { self.root } else { self.external.get(normalize_path(file).as_str())? };
        if fragment.is_empty() {
            return Some(doc);
        }
        doc.pointer(fragment)
    }

    /// Follows a reference, and any `$ref` it lands on, to a real object.
    pub fn resolve(&self, reference: &str) -> Result<&'a Value, RefError> {
        follow(&Value::String(reference.to_string()), |r| self.lookup(r), true)
    }
}

/// Follows `$ref`s from `start` (or, when `start_is_ref`, the reference string it holds) until a
/// value that is not a reference, reporting missing targets and cycles.
fn follow<'a>(
    start: &Value,
    lookup: impl Fn(&str) -> Option<&'a Value>,
    start_is_ref: bool,
) -> Result<&'a Value, RefError> {
    let mut seen: Vec<String> = Vec::new();
    let mut next =
        if start_is_ref { start.as_str().map(str::to_string) } else { ref_of(start).map(str::to_string) };
    let mut current = None;
    while let Some(reference) = next.take() {
        if seen.contains(&reference) || seen.len() >= MAX_HOPS {
            seen.push(reference);
            return Err(RefError::Cycle(seen));
        }
        let target = lookup(&reference).ok_or_else(|| RefError::NotFound(reference.clone()))?;
        seen.push(reference);
        next = ref_of(target).map(str::to_string);
        current = Some(target);
    }
    current.ok_or_else(|| RefError::NotFound(String::new()))
}

/// The `$ref` string of an object, if it is a reference.
pub fn ref_of(value: &Value) -> Option<&str> {
    value.get("$ref").and_then(Value::as_str)
}

/// A relative package path without `./` and with `/` separators.
pub fn normalize_path(path: &str) -> String {
    path.replace('\\', "/").trim_start_matches("./").to_string()
}

/// A schema with its `$ref` (if any) resolved against the connector's definitions and external files.
pub fn resolve_schema<'a>(connector: &'a Connector, schema: &'a Value) -> Result<&'a Value, RefError> {
    if ref_of(schema).is_none() {
        return Ok(schema);
    }
    follow(schema, |r| lookup_in(connector, r), false)
}

/// Looks one reference up in the connector's definitions or external documents.
fn lookup_in<'a>(connector: &'a Connector, reference: &str) -> Option<&'a Value> {
    let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    if !file.is_empty() {
        let doc = connector.external_documents.get(normalize_path(file).as_str())?;
        return if fragment.is_empty() { Some(doc) } else { doc.pointer(fragment) };
    }
    let rest = fragment.strip_prefix("/definitions/")?;
    let (name, tail) = rest.split_once('/').map_or((rest, ""), |(n, t)| (n, t));
    let def = connector.definitions.get(unescape(name).as_str())?;
    if tail.is_empty() { Some(def) } else { def.pointer(&format!("/{tail}")) }
}

/// Unescapes one JSON pointer segment.
fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Finds the property path (through `properties`, `allOf` and `$ref`s into `definitions`) to the
/// first property whose `marker` extension is `true`, e.g. `x-ms-notification-url`.
pub fn find_property_path(schema: &Value, definitions: &Object, marker: &str) -> Option<Vec<String>> {
    let mut seen = HashSet::new();
    find_marked(schema, definitions, marker, &mut seen, 0)
}

fn find_marked<'a>(
    schema: &'a Value,
    definitions: &'a Object,
    marker: &str,
    seen: &mut HashSet<&'a str>,
    depth: usize,
) -> Option<Vec<String>> {
    if depth > 64 {
        return None;
    }
    if schema.get(marker).and_then(Value::as_bool) == Some(true) {
        return Some(Vec::new());
    }
    if let Some(r) = ref_of(schema) {
        let name = r.strip_prefix("#/definitions/")?;
        if !seen.insert(r) {
            return None;
        }
        return find_marked(definitions.get(unescape(name).as_str())?, definitions, marker, seen, depth + 1);
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            if let Some(mut path) = find_marked(prop, definitions, marker, seen, depth + 1) {
                path.insert(0, name.clone());
                return Some(path);
            }
        }
    }
    let all_of = schema.get("allOf").and_then(Value::as_array).into_iter().flatten();
    all_of.into_iter().find_map(|part| find_marked(part, definitions, marker, seen, depth + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_local_and_external_refs() {
        let root = json!({"definitions": {"A": {"type": "string"}, "B": {"$ref": "#/definitions/A"}}});
        let mut external = Object::new();
        external.insert("common.json".into(), json!({"definitions": {"C": {"type": "integer"}}}));
        let scope = Scope { root: &root, external: &external };
        assert_eq!(scope.resolve("#/definitions/B").unwrap(), &json!({"type": "string"}));
        assert_eq!(scope.resolve("./common.json#/definitions/C").unwrap(), &json!({"type": "integer"}));
        assert!(matches!(scope.resolve("#/definitions/Z"), Err(RefError::NotFound(_))));
    }

    #[test]
    fn reports_cycles_instead_of_looping() {
        let root =
            json!({"definitions": {"A": {"$ref": "#/definitions/B"}, "B": {"$ref": "#/definitions/A"}}});
        let external = Object::new();
        let scope = Scope { root: &root, external: &external };
        let err = scope.resolve("#/definitions/A").unwrap_err();
        assert!(matches!(err, RefError::Cycle(ref chain) if chain.len() == 3), "{err}");
    }

    #[test]
    fn finds_a_marked_property_through_refs_and_recursion() {
        let defs = json!({
            "Sub": {"type": "object", "properties": {"callbackUrl": {"type": "string", "x-ms-notification-url": true}}},
            "Tree": {"type": "object", "properties": {"child": {"$ref": "#/definitions/Tree"}}}
        });
        let defs = defs.as_object().unwrap();
        let schema = json!({"type": "object", "properties": {"hook": {"$ref": "#/definitions/Sub"}}});
        assert_eq!(
            find_property_path(&schema, defs, "x-ms-notification-url"),
            Some(vec!["hook".to_string(), "callbackUrl".to_string()])
        );
        let tree = json!({"$ref": "#/definitions/Tree"});
        assert_eq!(find_property_path(&tree, defs, "x-ms-notification-url"), None);
    }
}
