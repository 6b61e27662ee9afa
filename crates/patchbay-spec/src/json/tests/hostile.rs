//! Hostile input: deep nesting, huge input, many warnings, huge pointers.

use std::time::{Duration, Instant};

use super::{at, read_ok};
use crate::json::{Leniency, Limits, locate, read};

#[test]
fn hundred_thousand_levels_of_nesting_is_an_error() {
    let text = "[".repeat(100_000);
    let started = Instant::now();
    let error = read(text.as_bytes(), &Limits::default()).unwrap_err();
    assert_eq!(error.position, at(1, 257));
    assert!(error.message.contains("256"), "{}", error.message);
    // Generous bound: this must not crawl (or overflow the stack, which would abort).
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn deep_nesting_within_a_raised_limit_is_read_without_recursion() {
    let depth = 100_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let limits = Limits { max_depth: depth, ..Limits::default() };
    let document = read(text.as_bytes(), &limits).unwrap();
    // serde_json drops nested values recursively; take the value apart level by level.
    let mut value = document.value;
    let mut levels = 1;
    while let serde_json::Value::Array(mut items) = value {
        value = match items.pop() {
            Some(inner) => inner,
            None => break,
        };
        levels += 1;
    }
    assert_eq!(levels, depth);
}

#[test]
fn input_over_max_bytes_is_refused_before_reading() {
    // Not JSON at all: any attempt to decode or parse it would fail differently.
    let junk = vec![0xFFu8; 1_000_001];
    let limits = Limits { max_bytes: 1_000_000, ..Limits::default() };
    let error = read(&junk, &limits).unwrap_err();
    assert_eq!(error.position, at(1, 1));
    assert!(error.message.contains("1000001") && error.message.contains("1000000"));
}

#[test]
fn ten_thousand_control_characters_stay_fast() {
    let body = "\t".repeat(10_000);
    let text = format!("{{\"a\": \"{body}\",\n\"b\": \"{}\"}}", "x\n".repeat(10_000));
    let started = Instant::now();
    let document = read_ok(text.as_bytes());
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(document.warnings.len(), 20_000);
    assert_eq!(document.warnings[9_999].position, at(1, 10_007));
    assert_eq!(document.warnings[10_000].position, at(2, 8));
    assert_eq!(document.warnings[19_999].position, at(10_001, 2));
    assert!(document.warnings.iter().all(|w| w.kind == Leniency::ControlCharacter));
}

#[test]
fn truncated_file_fails_at_the_end() {
    let full = serde_json::to_string_pretty(&serde_json::json!({"a": [1, {"b": "c"}], "d": 2})).unwrap();
    for cut in 0..full.len() {
        let error = read(&full.as_bytes()[..cut], &Limits::default()).unwrap_err();
        let lines = full[..cut].split('\n').collect::<Vec<_>>();
        let end = at(lines.len() as u32, lines[lines.len() - 1].chars().count() as u32 + 1);
        assert_eq!(error.position, end, "cut at {cut}: {}", error.message);
    }
}

#[test]
fn locate_with_a_huge_pointer_does_not_panic() {
    let pointer = "/0".repeat(200_000);
    assert_eq!(locate("[[[1]]]", &pointer), None);
    let deep = format!("{}1{}", "[".repeat(50_000), "]".repeat(50_000));
    assert_eq!(locate(&deep, &"/0".repeat(50_000)), Some(at(1, 50_001)));
    assert_eq!(locate(&deep, &"/0".repeat(50_001)), None);
    assert_eq!(locate(&"~".repeat(100_000), &"/~".repeat(100_000)), None);
}

#[test]
fn locate_on_deep_duplicate_keys_is_not_quadratic() {
    let depth = 20_000;
    let text = format!("{}1{}", "{\"a\": ".repeat(depth), "}".repeat(depth));
    let started = Instant::now();
    assert_eq!(locate(&text, &"/a".repeat(depth)), Some(at(1, 6 * depth as u32 + 1)));
    assert!(started.elapsed() < Duration::from_secs(2));
}
