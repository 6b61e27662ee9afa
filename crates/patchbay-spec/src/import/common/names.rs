//! Names: connector names, PascalCase operation ids, and keeping them unique.

use std::collections::HashSet;

/// A connector name from a title: ASCII letters and digits, other runs turned into one `-`.
pub(crate) fn sanitize_name(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() { "connector".to_string() } else { trimmed.to_string() }
}

/// Words joined in PascalCase: each word's first letter upper-cased, the rest kept; only ASCII
/// letters and digits survive. A leading digit gets an `Op` prefix.
pub(crate) fn pascal_case<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for word in words {
        for part in word.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.extend(chars);
            }
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Op");
    }
    out
}

/// An operation id from a method and a path: `get /pets/{petId}` → `GetPetsByPetId`.
pub(crate) fn route_id(method: crate::model::Method, path: &str) -> String {
    let mut words = vec![method.key().to_string()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => words.extend(["By".to_string(), name.to_string()]),
            None => words.push(segment.to_string()),
        }
    }
    pascal_case(words.iter().map(String::as_str))
}

/// Hands out names that are not taken yet, adding `2`, `3`, … (or `_2`, … with a separator).
#[derive(Debug, Default)]
pub(crate) struct Unique {
    taken: HashSet<String>,
}

impl Unique {
    /// Marks a name as taken.
    pub(crate) fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    /// `base`, or `base` with the first free numeric suffix; the result is taken.
    pub(crate) fn claim(&mut self, base: &str, separator: &str) -> String {
        let mut name = base.to_string();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}{separator}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_titles_into_names() {
        assert_eq!(sanitize_name("Contoso Tasks (v2)"), "Contoso-Tasks-v2");
        assert_eq!(sanitize_name("  ***  "), "connector");
    }

    #[test]
    fn pascal_cases_words_and_paths() {
        assert_eq!(pascal_case(["get task by id"]), "GetTaskById");
        assert_eq!(pascal_case(["post", "pets", "By", "petId"]), "PostPetsByPetId");
        assert_eq!(pascal_case(["2fa-check"]), "Op2faCheck");
        assert_eq!(route_id(crate::model::Method::Get, "/pets/{petId}/toys"), "GetPetsByPetIdToys");
    }

    #[test]
    fn unique_names_get_suffixes() {
        let mut names = Unique::default();
        assert_eq!(names.claim("GetTask", ""), "GetTask");
        assert_eq!(names.claim("GetTask", ""), "GetTask2");
        assert_eq!(names.claim("api_key", "_"), "api_key");
        assert_eq!(names.claim("api_key", "_"), "api_key_2");
    }
}
