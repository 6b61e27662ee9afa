//! Each defect is an error at the exact line:column, saying what was expected.

use super::{at, err};
use crate::json::{Limits, Position, read};

/// Asserts that `text` fails at `line`:`column` with exactly `message`.
#[track_caller]
fn fails(text: &str, position: Position, message: &str) {
    let error = err(text);
    assert_eq!((error.position, error.message.as_str()), (position, message), "input {text:?}");
}

#[test]
fn missing_comma_between_members() {
    fails("{\n  \"a\": 1\n  \"b\": 2\n}", at(3, 3), "expected `,` or `}` after an object member, found `\"`");
}

#[test]
fn missing_comma_between_elements() {
    fails("[1 2]", at(1, 4), "expected `,` or `]` after an array element, found `2`");
}

#[test]
fn display_includes_the_position() {
    assert_eq!(err("[1 2]").to_string(), "expected `,` or `]` after an array element, found `2` at 1:4");
}

#[test]
fn missing_colon() {
    fails("{\"a\" 1}", at(1, 6), "expected `:` after an object key, found `1`");
}

#[test]
fn key_that_is_not_a_string() {
    fails("{1: 1}", at(1, 2), "expected a string key or `}` after `{`, found `1`");
    fails("{\"a\": 1, {}}", at(1, 10), "expected a string key or `}` after `,` in an object, found `{`");
    fails("{,}", at(1, 2), "expected a string key or `}` after `{`, found `,`");
}

#[test]
fn missing_values() {
    fails("[,1]", at(1, 2), "expected a value, found `,`");
    fails("[1,,]", at(1, 4), "expected a value, found `,`");
    fails("{\"a\":}", at(1, 6), "expected a value, found `}`");
    fails("[NaN]", at(1, 2), "expected a value, found `N`");
    fails("[\u{3000}é]", at(1, 3), "expected a value, found `é`");
}

#[test]
fn empty_input() {
    fails("", at(1, 1), "expected a value, found end of input");
    fails("  \n // only a comment\n", at(3, 1), "expected a value, found end of input");
}

#[test]
fn truncated_input_fails_at_the_end() {
    fails("{\"a\": [1, 2", at(1, 12), "expected `,` or `]` after an array element, found end of input");
    fails("{\"a\": [1, 2]\n", at(2, 1), "expected `,` or `}` after an object member, found end of input");
    fails("{\"a\":", at(1, 6), "expected a value, found end of input");
    fails("{\"a\"", at(1, 5), "expected `:` after an object key, found end of input");
    fails("[1,", at(1, 4), "expected a value, found end of input");
    fails("[-", at(1, 3), "expected a digit in a number, found end of input");
}

#[test]
fn unterminated_string_fails_at_the_end_naming_its_start() {
    fails(
        "{\"a\": \"abc\n  def",
        at(2, 6),
        "expected `\"` to close the string that starts at 1:7, found end of input",
    );
    fails("[\"ab\\", at(1, 5), "expected one of `\"\\/bfnrtu` after `\\` in a string, found end of input");
}

#[test]
fn trailing_content() {
    fails("{} {}", at(1, 4), "expected end of input after the top-level value, found `{`");
    fails("[1],", at(1, 4), "expected end of input after the top-level value, found `,`");
}

#[test]
fn invalid_escapes() {
    fails("[\"a\\x\"]", at(1, 4), "expected one of `\"\\/bfnrtu` after `\\` in a string, found `x`");
    fails("[\"\\u12G4\"]", at(1, 7), "expected a hex digit in a `\\u` escape, found `G`");
    fails("[\"\\u12\"]", at(1, 7), "expected a hex digit in a `\\u` escape, found `\"`");
}

#[test]
fn lone_surrogates() {
    fails(
        "[\"\\uD83D\"]",
        at(1, 3),
        "expected a `\\uDC00`–`\\uDFFF` escape after the high surrogate `\\uD83D`",
    );
    fails(
        "[\"\\uD83D\\u0041\"]",
        at(1, 3),
        "expected a `\\uDC00`–`\\uDFFF` escape after the high surrogate `\\uD83D`",
    );
    fails("[\"\\uDE00\"]", at(1, 3), "lone low surrogate `\\uDE00` in a string");
}

#[test]
fn malformed_numbers() {
    fails("[-a]", at(1, 3), "expected a digit in a number, found `a`");
    fails("[1.]", at(1, 4), "expected a digit after `.` in a number, found `]`");
    fails("[1e+]", at(1, 5), "expected a digit in the exponent of a number, found `]`");
    fails("[01]", at(1, 3), "expected `.`, `e` or the end of the number after a leading `0`, found `1`");
    fails("[.5]", at(1, 2), "expected a value, found `.`");
    fails("[+1]", at(1, 2), "expected a value, found `+`");
    let error = err("[1, 1e400]");
    assert_eq!(error.position, at(1, 5));
    assert!(error.message.starts_with("invalid number `1e400`: "), "{}", error.message);
}

#[test]
fn malformed_literals() {
    fails("[tru]", at(1, 5), "expected `true`, found `]`");
    fails("[nul", at(1, 5), "expected `null`, found end of input");
    fails("[fals e]", at(1, 6), "expected `false`, found U+0020");
    fails("[True]", at(1, 2), "expected a value, found `T`");
    fails("[truex]", at(1, 6), "expected `,` or `]` after an array element, found `x`");
}

#[test]
fn bad_comments() {
    fails("[1 /* never closed ]", at(1, 4), "unterminated `/*` comment: expected `*/`");
    fails("[1 / 2]", at(1, 4), "expected `//` or `/*` to start a comment, found `/` then U+0020");
    fails("[1]/", at(1, 4), "expected `//` or `/*` to start a comment, found `/` then end of input");
}

#[test]
fn control_characters_outside_strings() {
    fails("[1,\u{1}2]", at(1, 4), "expected a value, found U+0001");
}

#[test]
fn nesting_deeper_than_the_limit() {
    let limits = Limits { max_depth: 3, ..Limits::default() };
    assert!(read(b"[[{\"a\": []}]]", &limits).is_err());
    assert!(read(b"[[{\"a\": 1}]]", &limits).is_ok());
    let error = read(b"[[{\"a\": {}}]]", &limits).unwrap_err();
    assert_eq!(error.position, at(1, 9));
    assert_eq!(error.message, "nesting is deeper than the limit of 3 levels");
    let flat = Limits { max_depth: 0, ..Limits::default() };
    assert!(read(b"[]", &flat).is_err());
    assert!(read(b"1", &flat).is_ok());
}

#[test]
fn input_over_the_size_limit() {
    let limits = Limits { max_bytes: 4, ..Limits::default() };
    assert!(read(b"[12]", &limits).is_ok());
    let error = read(b"[123]", &limits).unwrap_err();
    assert_eq!(error.position, at(1, 1));
    assert_eq!(error.message, "the input is 5 bytes, more than the limit of 4 bytes");
}
