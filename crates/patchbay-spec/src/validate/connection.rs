//! Connection parameters: references resolve, and the two ways of declaring them are not mixed.

use super::Report;
use serde_json::Value;

/// Checks connection-parameter references and declarations.
pub fn check(r: &mut Report) {
    let c = r.connector;
    let security = &c.security;
    if !security.connection_parameters.is_empty() && security.parameter_sets.is_some() {
        let msg = "both connectionParameters and connectionParameterSets are set; the sets are used";
        r.properties("PB0803", "/properties/connectionParameters", msg);
    }
    let names: Vec<&str> = security.all_connection_parameters().map(|p| p.name.as_str()).collect();
    for (i, policy) in c.policies.iter().enumerate() {
        for (key, value) in &policy.parameters {
            let mut texts = Vec::new();
            collect_strings(value, &mut texts);
            for name in texts.iter().flat_map(|t| referenced_parameters(t)) {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                    let pointer = format!(
                        "/properties/policyTemplateInstances/{i}/parameters/x-ms-apimTemplateParameter.{}",
                        crate::diag::escape_segment(key)
                    );
                    let msg = format!("`@connectionParameters('{name}')` names no connection parameter");
                    r.properties("PB0801", pointer, msg);
                }
            }
        }
    }
}

fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// The names in `@connectionParameters('name'…)` calls of a policy value, case-insensitively.
pub fn referenced_parameters(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let needle = "connectionparameters(";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find(needle) {
        let start = from + at + needle.len();
        let rest = text[start..].trim_start();
        if let Some(quoted) = rest.strip_prefix('\'')
            && let Some(end) = quoted.find('\'')
        {
            out.push(quoted[..end].to_string());
        }
        from = start;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::referenced_parameters;

    #[test]
    fn finds_every_reference_with_any_casing() {
        let refs = referenced_parameters(
            "https://@{connectionParameters('host')}/@ConnectionParameters( 'token:region', 'eu')",
        );
        assert_eq!(refs, vec!["host".to_string(), "token:region".to_string()]);
    }
}
