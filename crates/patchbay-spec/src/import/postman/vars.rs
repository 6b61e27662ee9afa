//! Collection and folder variables, and `{{name}}` substitution.

use serde_json::Value;

/// How many rounds of substitution are done (variables may refer to variables).
const ROUNDS: usize = 5;

/// Variables in scope; later entries win.
#[derive(Debug, Clone, Default)]
pub(super) struct Vars {
    values: Vec<(String, String)>,
}

impl Vars {
    /// These variables plus the enabled entries of a `variable` array.
    pub fn with(&self, list: Option<&Value>) -> Vars {
        let mut out = self.clone();
        for entry in list.and_then(Value::as_array).into_iter().flatten() {
            if entry.get("disabled").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let key = entry.get("key").or_else(|| entry.get("id")).and_then(Value::as_str);
            let value = match entry.get("value") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            if let (Some(key), Some(value)) = (key, value) {
                out.values.push((key.to_string(), value));
            }
        }
        out
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// `text` with every known `{{name}}` replaced; unknown ones are left.
    pub fn substitute(&self, text: &str) -> String {
        let mut current = text.to_string();
        for _ in 0..ROUNDS {
            let next = self.substitute_once(&current);
            if next == current {
                break;
            }
            current = next;
        }
        current
    }

    /// One round of substitution.
    fn substitute_once(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            match self.get(name.trim()) {
                Some(value) => out.push_str(value),
                None => out.push_str(&rest[start..start + 4 + end]),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// The names of the `{{name}}` placeholders in `text`.
pub(super) fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    out
}

/// A description: a string, or a `{ "content": … }` object.
pub(super) fn text_of(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(s) => s.as_str(),
        other => other.get("content")?.as_str()?,
    };
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn substitutes_known_variables_recursively() {
        let vars = Vars::default().with(Some(&json!([
            {"key": "host", "value": "api.contoso.example"},
            {"key": "baseUrl", "value": "https://{{host}}/v1"},
            {"key": "off", "value": "x", "disabled": true}
        ])));
        assert_eq!(
            vars.substitute("{{baseUrl}}/tasks/{{id}}"),
            "https://api.contoso.example/v1/tasks/{{id}}"
        );
        assert_eq!(vars.get("off"), None);
        assert_eq!(placeholders("a{{x}}b{{ y }}"), vec!["x", "y"]);
    }
}
