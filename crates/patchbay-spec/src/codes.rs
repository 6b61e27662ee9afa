//! The stable diagnostic codes: one table, each code with its default severity and hint.
//!
//! Codes never change meaning once released. `PB01xx` reading files, `PB02xx` references,
//! `PB03xx` document structure, `PB04xx` operations and parameters, `PB05xx` triggers,
//! `PB06xx` dynamic values and schemas, `PB07xx` policy templates, `PB08xx` security and
//! connection parameters, `PB09xx` the certification checklist (warnings, `--certification` only).
//!
//! Severity follows one rule: Power Platform accepted every package of the public connector
//! repository, so whatever it accepts is at most a warning here. Errors are kept for what no
//! runtime can execute (an unreadable file, an operation that cannot be addressed, a reference
//! that points nowhere).

use crate::diag::Severity;

/// A code's fixed properties.
#[derive(Debug, Clone, Copy)]
pub struct CodeSpec {
    /// The code, e.g. `PB0102`.
    pub code: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// A short name, e.g. `json-syntax`.
    pub name: &'static str,
    /// The default one-line hint.
    pub hint: &'static str,
}

const fn spec(code: &'static str, severity: Severity, name: &'static str, hint: &'static str) -> CodeSpec {
    CodeSpec { code, severity, name, hint }
}

use Severity::{Error as E, Info as I, Warning as W};

/// Every code, in numeric order.
pub const CODES: &[CodeSpec] = &[
    spec("PB0101", E, "unreadable-file", "check that the file exists and is readable"),
    spec("PB0102", E, "json-syntax", "fix the JSON at this line and column"),
    spec("PB0103", W, "lenient-json", "the file is not strict JSON; other tools may reject it"),
    spec("PB0104", E, "missing-file", "a Power Platform package needs apiDefinition.swagger.json"),
    spec(
        "PB0105",
        W,
        "unexpected-type",
        "the value was kept as it is but not used; give it the documented type",
    ),
    spec(
        "PB0106",
        E,
        "unknown-format",
        "give a Swagger 2.0, OpenAPI 3.x or Postman v2.1 document, or a package folder",
    ),
    spec("PB0107", E, "yaml-syntax", "fix the YAML at this line and column"),
    spec("PB0108", I, "missing-properties", "add apiProperties.json to set security, policies and branding"),
    spec(
        "PB0109",
        W,
        "import-loss",
        "this part of the source has no equivalent in a connector and was left out",
    ),
    spec("PB0201", E, "unresolved-ref", "point $ref at an existing definition, parameter or response"),
    spec("PB0202", E, "ref-cycle", "break the cycle: a $ref chain must end in a real object"),
    spec("PB0203", E, "external-ref", "put the referenced file inside the package folder"),
    spec("PB0301", E, "not-swagger-2", "set \"swagger\": \"2.0\"; Power Platform packages are Swagger 2.0"),
    spec("PB0302", W, "missing-info", "set info.title and info.version"),
    spec("PB0303", E, "missing-paths", "add a \"paths\" object"),
    spec("PB0304", W, "host-format", "host is a bare name with an optional port: no scheme, path or braces"),
    spec("PB0305", W, "base-path", "basePath starts with \"/\""),
    spec("PB0306", W, "scheme", "schemes are http or https"),
    spec("PB0401", E, "missing-operation-id", "give every operation an operationId"),
    spec("PB0402", E, "duplicate-operation-id", "operation ids are unique in a connector"),
    spec(
        "PB0403",
        E,
        "undeclared-path-parameter",
        "declare every {name} of the path as an \"in\": \"path\" parameter",
    ),
    spec(
        "PB0404",
        W,
        "unused-path-parameter",
        "a path parameter must appear as {name} in the path and be required",
    ),
    spec("PB0405", W, "parameter-location", "\"in\" is one of path, query, header, body, formData"),
    spec(
        "PB0406",
        W,
        "body-and-form",
        "an operation has at most one body parameter and no formData beside it",
    ),
    spec("PB0407", W, "duplicate-parameter", "a parameter name and location appear once per operation"),
    spec("PB0408", W, "internal-without-default", "an internal required parameter needs a default value"),
    spec("PB0409", W, "url-encoding", "x-ms-url-encoding is \"single\" or \"double\""),
    spec("PB0410", W, "visibility", "x-ms-visibility is important, advanced or internal"),
    spec(
        "PB0501",
        W,
        "webhook-without-callback",
        "mark one property or parameter with \"x-ms-notification-url\": true",
    ),
    spec("PB0502", W, "webhook-callbacks", "a webhook trigger has exactly one notification-URL parameter"),
    spec(
        "PB0503",
        W,
        "webhook-without-content",
        "describe the callback payload with x-ms-notification-content on the path",
    ),
    spec("PB0504", W, "trigger-kind", "x-ms-trigger is \"single\" or \"batch\""),
    spec(
        "PB0505",
        W,
        "webhook-without-delete",
        "give the subscription a DELETE operation and answer subscribe with Location",
    ),
    spec("PB0601", W, "dynamic-unknown-operation", "name an operationId that exists in this connector"),
    spec("PB0602", W, "dynamic-unknown-parameter", "name a parameter of the operation being called"),
    spec("PB0603", W, "dynamic-bad-reference", "refer to a parameter of this operation"),
    spec("PB0701", W, "unknown-policy-template", "use a policy template id of the Power Platform catalogue"),
    spec("PB0702", E, "policy-missing-parameter", "set the template's required parameter"),
    spec(
        "PB0703",
        W,
        "policy-unknown-operation",
        "x-ms-apimTemplate-operationName lists existing operation ids",
    ),
    spec("PB0704", W, "policy-section", "x-ms-apimTemplate-policySection is Request or Response"),
    spec("PB0801", W, "unknown-connection-parameter", "refer to a parameter defined in connectionParameters"),
    spec(
        "PB0802",
        I,
        "unknown-identity-provider",
        "known providers: oauth2, oauth2generic, aad, aadcertificate, and named ones",
    ),
    spec("PB0803", W, "parameters-and-sets", "use connectionParameters or connectionParameterSets, not both"),
    spec(
        "PB0804",
        W,
        "security-definition",
        "a security definition is basic, apiKey (header or query) or oauth2",
    ),
    spec(
        "PB0805",
        W,
        "connection-parameter-type",
        "type is string, securestring, int, bool, oauthSetting or gatewaySetting",
    ),
    spec("PB0901", W, "cert-publisher", "set publisher and stackOwner in apiProperties.json"),
    spec("PB0902", W, "cert-brand-color", "iconBrandColor is #RRGGBB, not #007ee5 or #ffffff"),
    spec(
        "PB0903",
        W,
        "cert-metadata",
        "add x-ms-connector-metadata with Website, Privacy policy and Categories",
    ),
    spec(
        "PB0904",
        W,
        "cert-title",
        "info.title is at most 30 characters and avoids \"API\" and \"Connector\"",
    ),
    spec("PB0905", W, "cert-description", "info.description is 30 to 500 characters"),
    spec("PB0906", W, "cert-contact", "add info.contact with name, url and email"),
    spec(
        "PB0907",
        W,
        "cert-summary",
        "every operation has a summary of at most 80 characters without trailing punctuation",
    ),
    spec(
        "PB0908",
        W,
        "cert-operation-description",
        "every operation has a description that differs from its summary",
    ),
    spec("PB0909", W, "cert-operation-id", "operation ids are PascalCase without - or _"),
    spec("PB0910", W, "cert-parameter-text", "parameters have x-ms-summary and description"),
    spec("PB0911", W, "cert-response-schema", "describe the response schema of every action"),
    spec("PB0912", W, "cert-trigger-hint", "give triggers an x-ms-trigger-hint"),
    spec(
        "PB0913",
        W,
        "cert-deprecation",
        "x-ms-api-annotation.replacement belongs on deprecated operations only",
    ),
];

/// The spec of `code`.
///
/// # Panics
/// Panics when `code` is not in [`CODES`]; codes are compile-time constants, and a test walks them all.
pub fn lookup(code: &str) -> &'static CodeSpec {
    CODES
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("diagnostic code {code} is not in the codes table"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_named() {
        for pair in CODES.windows(2) {
            assert!(pair[0].code < pair[1].code, "{} before {}", pair[0].code, pair[1].code);
        }
        let mut names: Vec<_> = CODES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CODES.len());
    }
}
