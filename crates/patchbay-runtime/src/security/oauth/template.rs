//! `{placeholder}` substitution for `oauth2generic` URL, query-string and body templates.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986 unreserved characters is percent-encoded in query and body values.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a query or form value (RFC 3986 unreserved characters stay as they are).
pub(crate) fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// Replaces each `{name}` whose value `lookup` knows (names are matched by `lookup`, which is
/// case-insensitive); unknown placeholders stay verbatim. Values are percent-encoded when
/// `encode` (query strings and bodies) and inserted as they are otherwise (URLs).
pub(crate) fn render(template: &str, lookup: &dyn Fn(&str) -> Option<String>, encode: bool) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after.find(['{', '}']).filter(|&n| after[n..].starts_with('}'));
        match name_len.and_then(|n| lookup(after[..n].trim()).map(|v| (n, v))) {
            Some((n, value)) => {
                out.push_str(&if encode { encode_component(&value) } else { value });
                rest = &after[n + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Appends a query-string template's rendering to a URL: a leading `?` or `&` is optional and
/// the right separator is used.
pub(crate) fn join_query(url: &str, query: &str) -> String {
    let query = query.trim().trim_start_matches(['?', '&']);
    if query.is_empty() {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name.to_ascii_lowercase().as_str() {
            "clientid" => Some("my app".into()),
            "region" => Some("eu".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_case_insensitively_and_keeps_unknown() {
        let out = render("a={ClientId}&b={clientid}&c={unknown}&d={", &lookup, true);
        assert_eq!(out, "a=my%20app&b=my%20app&c={unknown}&d={");
        assert_eq!(render("https://{region}.x/{{region}}", &lookup, false), "https://eu.x/{eu}");
    }

    #[test]
    fn joins_query_strings() {
        assert_eq!(join_query("https://h/p", "?a=1"), "https://h/p?a=1");
        assert_eq!(join_query("https://h/p?x=1", "?a=1"), "https://h/p?x=1&a=1");
        assert_eq!(join_query("https://h/p", "a=1"), "https://h/p?a=1");
        assert_eq!(join_query("https://h/p", " "), "https://h/p");
    }
}
