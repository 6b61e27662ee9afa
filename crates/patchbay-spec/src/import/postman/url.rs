//! Request URLs (string or object form) → origin, path template, path and query parameters.

use super::vars::{Vars, placeholders, text_of};
use serde_json::Value;

/// A request URL, split the way a connector needs it.
#[derive(Debug, Clone, Default)]
pub(super) struct ParsedUrl {
    /// `scheme://host[:port]`, or the unresolved text (e.g. `{{baseUrl}}`) when a variable is undefined.
    pub origin: String,
    /// Whether `origin` is a real scheme and host.
    pub resolved: bool,
    /// The path's segments as templates (`tasks`, `{id}`), base path included.
    pub segments: Vec<String>,
    /// Path parameters, in path order.
    pub params: Vec<Entry>,
    /// Query entries that are enabled, in order.
    pub query: Vec<Entry>,
}

/// A path parameter or query entry with its example value.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Entry {
    /// Its name.
    pub key: String,
    /// Its example value, variables substituted.
    pub value: Option<String>,
    /// `description`.
    pub description: Option<String>,
}

impl ParsedUrl {
    /// The scheme and host, when the origin is resolved.
    pub fn scheme_and_host(&self) -> Option<(&str, &str)> {
        if !self.resolved {
            return None;
        }
        self.origin.split_once("://")
    }
}

/// Parses `request.url`; `None` when it is neither a string nor an object with a URL in it.
pub(super) fn parse(url: &Value, vars: &Vars) -> Option<ParsedUrl> {
    let (head, tail, query) = match url {
        Value::String(raw) => split_raw(raw),
        Value::Object(map) if map.get("host").is_some() => {
            let join = |v: Option<&Value>, sep: &str| match v {
                Some(Value::Array(parts)) => {
                    parts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(sep)
                }
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            let mut head = join(map.get("host"), ".");
            if let Some(protocol) = map.get("protocol").and_then(Value::as_str) {
                head = format!("{protocol}://{head}");
            }
            if let Some(port) = map.get("port").and_then(Value::as_str) {
                head = format!("{head}:{port}");
            }
            let tail = join(map.get("path"), "/");
            let raw_query =
                map.get("raw").and_then(Value::as_str).map(|r| split_raw(r).2).unwrap_or_default();
            (head, tail, raw_query)
        }
        Value::Object(map) => split_raw(map.get("raw")?.as_str()?),
        _ => return None,
    };
    let mut parsed = origin_and_base(&vars.substitute(&head));
    let path_vars = url.get("variable");
    for segment in tail.split('/').filter(|s| !s.is_empty()) {
        let segment = path_segment(segment, vars, path_vars, &mut parsed.params);
        parsed.segments.push(segment);
    }
    parsed.query = match url.get("query").and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(|q| entry(q, vars)).collect(),
        None => query,
    };
    Some(parsed)
}

/// Splits a raw URL into the part before the path, the path, and the query entries.
fn split_raw(raw: &str) -> (String, String, Vec<Entry>) {
    let raw = raw.split('#').next().unwrap_or_default();
    let (address, query) = raw.split_once('?').unwrap_or((raw, ""));
    let start = address.find("://").map_or(0, |i| i + 3);
    let (head, tail) = match address[start..].find('/') {
        Some(i) => address.split_at(start + i),
        None => (address, ""),
    };
    let entries = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Entry { key: key.to_string(), value: Some(value.to_string()), description: None }
        })
        .collect();
    (head.to_string(), tail.to_string(), entries)
}

/// The origin and base-path segments of the part before the path, variables substituted.
fn origin_and_base(head: &str) -> ParsedUrl {
    let (scheme, rest) = match head.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("https".to_string(), head),
    };
    let (host, base) = rest.split_once('/').unwrap_or((rest, ""));
    let resolved = !host.is_empty() && !host.contains("{{");
    let origin = if resolved { format!("{scheme}://{host}") } else { head.to_string() };
    let segments = base.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    ParsedUrl { origin, resolved, segments, ..ParsedUrl::default() }
}

/// One path segment as a template: `:id` and `{{id}}` become `{id}` path parameters; known
/// variables inside other segments are substituted, unknown ones become parameters too.
fn path_segment(segment: &str, vars: &Vars, path_vars: Option<&Value>, params: &mut Vec<Entry>) -> String {
    if let Some(name) = segment.strip_prefix(':') {
        let mut declared = path_vars.and_then(Value::as_array).into_iter().flatten();
        let declared = declared.find(|v| v.get("key").and_then(Value::as_str) == Some(name));
        let value = declared.and_then(|v| v.get("value")).and_then(Value::as_str).map(|v| vars.substitute(v));
        let description = text_of(declared.and_then(|v| v.get("description")));
        params.push(Entry { key: name.to_string(), value: value.filter(|v| !v.is_empty()), description });
        return format!("{{{name}}}");
    }
    if let [name] = placeholders(segment).as_slice()
        && segment.trim() == format!("{{{{{name}}}}}")
    {
        let value = vars.get(name).map(str::to_string);
        params.push(Entry { key: (*name).to_string(), value, description: None });
        return format!("{{{name}}}");
    }
    let substituted = vars.substitute(segment);
    let mut template = substituted.clone();
    for name in placeholders(&substituted) {
        template = template.replace(&format!("{{{{{name}}}}}"), &format!("{{{name}}}"));
        params.push(Entry { key: name.to_string(), value: None, description: None });
    }
    template
}

/// One enabled `query` entry.
fn entry(raw: &Value, vars: &Vars) -> Option<Entry> {
    if raw.get("disabled").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let key = raw.get("key")?.as_str()?;
    let value = raw.get("value").and_then(Value::as_str).map(|v| vars.substitute(v));
    let description = text_of(raw.get("description"));
    Some(Entry { key: key.to_string(), value, description })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_a_variable_base_url_into_origin_and_base_path() {
        let vars = Vars::default()
            .with(Some(&json!([{"key": "baseUrl", "value": "https://api.contoso.example/v1"}])));
        let url = parse(&json!("{{baseUrl}}/tasks/:id/comments/{{commentId}}?page=2"), &vars).unwrap();
        assert_eq!(url.origin, "https://api.contoso.example");
        assert_eq!(url.segments, ["v1", "tasks", "{id}", "comments", "{commentId}"]);
        assert_eq!(url.params.len(), 2);
        assert_eq!(url.query[0], Entry { key: "page".into(), value: Some("2".into()), description: None });
    }

    #[test]
    fn leaves_an_undefined_host_unresolved() {
        let url =
            parse(&json!({"raw": "{{missing}}/x", "host": ["{{missing}}"], "path": ["x"]}), &Vars::default());
        let url = url.unwrap();
        assert!(!url.resolved);
        assert_eq!(url.scheme_and_host(), None);
    }
}
