//! `FUNCTIONS.md` lists every catalogue function with the status the code gives it.

use std::collections::BTreeSet;

use patchbay_expr::{function_names, not_yet_function_names, scope_function_names};

/// The catalogue of connector spec §9.5 plus the policy-template functions of §3.6.
const CATALOGUE: &[&str] = &[
    "concat",
    "endsWith",
    "formatNumber",
    "guid",
    "indexOf",
    "lastIndexOf",
    "length",
    "nthIndexOf",
    "replace",
    "slice",
    "split",
    "startsWith",
    "substring",
    "toLower",
    "toUpper",
    "trim",
    "isFloat",
    "isInt",
    "chunk",
    "contains",
    "empty",
    "first",
    "intersection",
    "item",
    "join",
    "last",
    "reverse",
    "skip",
    "sort",
    "take",
    "union",
    "and",
    "equals",
    "greater",
    "greaterOrEquals",
    "if",
    "less",
    "lessOrEquals",
    "not",
    "or",
    "array",
    "base64",
    "base64ToBinary",
    "base64ToString",
    "binary",
    "bool",
    "createArray",
    "dataUri",
    "dataUriToBinary",
    "dataUriToString",
    "decimal",
    "decodeBase64",
    "decodeDataUri",
    "decodeUriComponent",
    "encodeUriComponent",
    "float",
    "int",
    "json",
    "string",
    "uriComponent",
    "uriComponentToBinary",
    "uriComponentToString",
    "xml",
    "add",
    "div",
    "max",
    "min",
    "mod",
    "mul",
    "rand",
    "range",
    "sub",
    "addDays",
    "addHours",
    "addMinutes",
    "addSeconds",
    "addToTime",
    "convertFromUtc",
    "convertTimeZone",
    "convertToUtc",
    "dateDifference",
    "dayOfMonth",
    "dayOfWeek",
    "dayOfYear",
    "formatDateTime",
    "getFutureTime",
    "getPastTime",
    "parseDateTime",
    "startOfDay",
    "startOfHour",
    "startOfMonth",
    "subtractFromTime",
    "ticks",
    "utcNow",
    "action",
    "actions",
    "actionBody",
    "actionOutputs",
    "body",
    "formDataMultiValues",
    "formDataValue",
    "items",
    "iterationIndexes",
    "listCallbackUrl",
    "multipartBody",
    "outputs",
    "parameters",
    "result",
    "trigger",
    "triggerBody",
    "triggerFormDataMultiValues",
    "triggerFormDataValue",
    "triggerMultipartBody",
    "triggerOutputs",
    "variables",
    "workflow",
    "uriHost",
    "uriPath",
    "uriPathAndQuery",
    "uriPort",
    "uriQuery",
    "uriScheme",
    "addProperty",
    "coalesce",
    "removeProperty",
    "setProperty",
    "xpath",
    "connectionParameters",
    "header",
    "headers",
    "queryParameters",
];

/// `(name, status)` rows of the table in `FUNCTIONS.md`.
fn documented() -> Vec<(String, String)> {
    let doc = include_str!("../FUNCTIONS.md");
    doc.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[3].to_string())
        })
        .collect()
}

fn with_status(status: &str) -> BTreeSet<String> {
    documented().into_iter().filter(|(_, s)| s == status).map(|(n, _)| n).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn implemented_rows_match_the_registry() {
    assert_eq!(with_status("implemented"), set(function_names()));
}

#[test]
fn scope_rows_match_the_scope_functions() {
    assert_eq!(with_status("scope"), set(scope_function_names()));
}

#[test]
fn not_yet_rows_match_the_stubs() {
    assert_eq!(with_status("not yet"), set(not_yet_function_names()));
}

#[test]
fn every_catalogue_function_is_listed_once() {
    let rows = documented();
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), set(&names).len(), "duplicate rows");
    assert_eq!(set(&names), set(CATALOGUE));
    assert!(rows.iter().all(|(_, s)| ["implemented", "scope", "not yet"].contains(&s.as_str())));
}

#[test]
fn registry_names_are_unique() {
    let names = function_names();
    let lower: BTreeSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    assert_eq!(lower.len(), names.len());
}
