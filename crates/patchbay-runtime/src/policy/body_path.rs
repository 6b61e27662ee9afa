//! Paths into a body, as transformation templates write them: `@body().a.b`, `@body()['@odata.etag']`,
//! `@item().id`, `@triggerBody().value[0]`. Read and written without an expression engine round trip.

use serde_json::{Map, Value};

/// What a path starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRoot {
    /// `@body()`.
    Body,
    /// `@item()`: the current element when the parent is an array.
    Item,
    /// `@triggerBody()`.
    TriggerBody,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A property.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPath {
    /// The root.
    pub root: PathRoot,
    /// The steps from the root.
    pub steps: Vec<Step>,
}

impl BodyPath {
    /// Parses `@body()…`, `@item()…` or `@triggerBody()…` (also wrapped as `@{…}`); `None` otherwise.
    pub fn parse(text: &str) -> Option<BodyPath> {
        let t = text.trim();
        let t = t
            .strip_prefix("@{")
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or_else(|| t.strip_prefix('@').unwrap_or(t));
        let lower = t.to_ascii_lowercase();
        let (root, rest) = [
            ("body()", PathRoot::Body),
            ("item()", PathRoot::Item),
            ("triggerbody()", PathRoot::TriggerBody),
        ]
        .into_iter()
        .find_map(|(prefix, root)| lower.starts_with(prefix).then(|| (root, &t[prefix.len()..])))?;
        Some(BodyPath { root, steps: parse_steps(rest)? })
    }

    /// This path with one more property, unless `sub` is empty or the literal `"null"` (the parent itself).
    pub fn child(&self, sub: &str) -> BodyPath {
        let mut path = self.clone();
        if !sub.is_empty() && sub != "null" {
            path.steps.push(Step::Key(sub.to_string()));
        }
        path
    }

    /// The value at this path under `root`.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.steps.iter().try_fold(root, |v, step| match step {
            Step::Key(k) => v.get(k),
            Step::Index(i) => v.get(*i),
        })
    }

    /// The value at this path under `root`, for changing in place.
    pub fn get_mut<'a>(&self, root: &'a mut Value) -> Option<&'a mut Value> {
        self.steps.iter().try_fold(root, |v, step| match step {
            Step::Key(k) => v.get_mut(k),
            Step::Index(i) => v.get_mut(*i),
        })
    }

    /// Sets the value at this path, creating objects on the way; false when an array index is missing.
    pub fn set(&self, root: &mut Value, value: Value) -> bool {
        let Some((last, parents)) = self.steps.split_last() else {
            *root = value;
            return true;
        };
        let mut current = root;
        for step in parents {
            match step_into(current, step) {
                Some(next) => current = next,
                None => return false,
            }
        }
        match (last, current) {
            (Step::Key(k), Value::Object(m)) => {
                m.insert(k.clone(), value);
                true
            }
            (Step::Key(k), other) => {
                let mut m = Map::new();
                m.insert(k.clone(), value);
                *other = Value::Object(m);
                true
            }
            (Step::Index(i), Value::Array(items)) if *i < items.len() => {
                items[*i] = value;
                true
            }
            _ => false,
        }
    }

    /// Removes and returns the value at this path.
    pub fn take(&self, root: &mut Value) -> Option<Value> {
        let (last, parents) = self.steps.split_last()?;
        let mut current = root;
        for step in parents {
            current = match step {
                Step::Key(k) => current.get_mut(k)?,
                Step::Index(i) => current.get_mut(*i)?,
            };
        }
        match last {
            Step::Key(k) => current.as_object_mut()?.shift_remove(k),
            Step::Index(i) => {
                let items = current.as_array_mut()?;
                (*i < items.len()).then(|| items.remove(*i))
            }
        }
    }
}

/// One step down for writing: objects are created for missing keys; a missing index is `None`.
fn step_into<'a>(current: &'a mut Value, step: &Step) -> Option<&'a mut Value> {
    match step {
        Step::Key(k) => {
            if !current.is_object() {
                *current = Value::Object(Map::new());
            }
            Some(current.as_object_mut()?.entry(k.clone()).or_insert_with(|| Value::Object(Map::new())))
        }
        Step::Index(i) => current.get_mut(*i),
    }
}

/// Parses `.a`, `?.a`, `['a']`, `?['a']`, `[0]` steps.
fn parse_steps(mut rest: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix('?').unwrap_or(rest);
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[', '?']).unwrap_or(r.len());
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let end = r.find("']")?;
            steps.push(Step::Key(r[..end].replace("''", "'")));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            steps.push(Step::Index(r[..end].trim().parse().ok()?));
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_reads_and_writes_paths() {
        let p = BodyPath::parse("@body()?['@odata.etag']").unwrap();
        assert_eq!(p.steps, vec![Step::Key("@odata.etag".into())]);
        let p = BodyPath::parse("@item().a.b[1]").unwrap();
        assert_eq!(p.root, PathRoot::Item);
        let mut v = json!({"a": {"b": [0, 1]}});
        assert_eq!(p.get(&v), Some(&json!(1)));
        assert!(p.set(&mut v, json!(9)));
        assert_eq!(v, json!({"a": {"b": [0, 9]}}));
        let q = BodyPath::parse("@body().x.y").unwrap();
        assert!(q.set(&mut v, json!("new")));
        assert_eq!(v["x"], json!({"y": "new"}));
        assert_eq!(q.take(&mut v), Some(json!("new")));
        assert_eq!(BodyPath::parse("@{body().a}").unwrap().child("null").steps.len(), 1);
        assert!(BodyPath::parse("@connectionParameters('x')").is_none());
    }
}
