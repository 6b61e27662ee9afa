//! Each leniency is accepted, with a warning at the right place.

use serde_json::json;

use super::{at, kinds, ok, read_ok};
use crate::json::Leniency;

#[test]
fn strict_json_has_no_warnings() {
    let document = ok("{\"a\": [1, 2.5, -3, true, false, null, \"x\\n\\u00e9\"], \"b\": {}}");
    assert_eq!(document.value, json!({"a": [1, 2.5, -3, true, false, null, "x\né"], "b": {}}));
    assert!(document.warnings.is_empty());
}

#[test]
fn utf8_bom_is_stripped() {
    let document = read_ok(b"\xEF\xBB\xBF{\"a\": 1}");
    assert_eq!(document.value, json!({"a": 1}));
    assert_eq!(document.text, "{\"a\": 1}");
    assert_eq!(kinds(&document), [(Leniency::ByteOrderMark, at(1, 1))]);
}

/// Encodes `text` as UTF-16, little- or big-endian, with or without a BOM.
fn utf16(text: &str, little: bool, bom: bool) -> Vec<u8> {
    let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
    units.flat_map(|u| if little { u.to_le_bytes() } else { u.to_be_bytes() }).collect()
}

#[test]
fn utf16_is_decoded_with_or_without_bom() {
    let text = "{\"a\": \"é😀\",\n \"b\": [1]}";
    for little in [true, false] {
        for bom in [true, false] {
            let document = read_ok(&utf16(text, little, bom));
            assert_eq!(document.value, json!({"a": "é😀", "b": [1]}), "little {little} bom {bom}");
            assert_eq!(document.text, text);
            assert_eq!(kinds(&document), [(Leniency::Utf16, at(1, 1))]);
        }
    }
}

#[test]
fn utf16_errors_point_into_the_decoded_text() {
    let error =
        crate::json::read(&utf16("{\"a\": 1\n \"b\": 2}", true, true), &Default::default()).unwrap_err();
    assert_eq!(error.position, at(2, 2));
}

#[test]
fn bytes_that_are_not_utf8_are_read_as_windows_1252() {
    let document = read_ok(b"{\"a\":\n \"caf\xE9 \xADx \xE2\x82\xAC\"}");
    assert_eq!(document.value, json!({"a": "café \u{AD}x €"}));
    assert_eq!(kinds(&document), [(Leniency::NotUtf8, at(2, 6))]);
    assert!(document.warnings[0].message.contains("0xE9"), "{}", document.warnings[0].message);
}

#[test]
fn raw_control_characters_in_strings() {
    let document = ok("{\"a\": \"x\ty\n\u{1}z\"}");
    assert_eq!(document.value, json!({"a": "x\ty\n\u{1}z"}));
    assert_eq!(
        kinds(&document),
        [
            (Leniency::ControlCharacter, at(1, 9)),
            (Leniency::ControlCharacter, at(1, 11)),
            (Leniency::ControlCharacter, at(2, 1)),
        ]
    );
    assert!(document.warnings[2].message.contains("U+0001"));
}

#[test]
fn control_characters_mixed_with_escapes() {
    let document = ok("[\"\\u0041\t\\\"\"]");
    assert_eq!(document.value, json!(["A\t\""]));
    assert_eq!(kinds(&document), [(Leniency::ControlCharacter, at(1, 9))]);
}

#[test]
fn trailing_commas() {
    let document = ok("{\"a\": [1, 2,],\n  \"b\": {\"c\": 3 , } ,\n}");
    assert_eq!(document.value, json!({"a": [1, 2], "b": {"c": 3}}));
    assert_eq!(
        kinds(&document),
        [
            (Leniency::TrailingComma, at(1, 12)),
            (Leniency::TrailingComma, at(2, 16)),
            (Leniency::TrailingComma, at(2, 20)),
        ]
    );
}

#[test]
fn comments() {
    let text = "// head\n{\"a\": /* inline */ 1, // tail\n \"b\": 2 /* multi\n line */}\n// end";
    let document = ok(text);
    assert_eq!(document.value, json!({"a": 1, "b": 2}));
    assert_eq!(
        kinds(&document),
        [
            (Leniency::Comment, at(1, 1)),
            (Leniency::Comment, at(2, 7)),
            (Leniency::Comment, at(2, 23)),
            (Leniency::Comment, at(3, 9)),
            (Leniency::Comment, at(5, 1)),
        ]
    );
}

#[test]
fn comment_at_end_of_input_without_newline() {
    let document = ok("[1]//x");
    assert_eq!(kinds(&document), [(Leniency::Comment, at(1, 4))]);
}

#[test]
fn duplicate_keys_last_value_wins_in_first_place() {
    let document = ok("{\"type\": 1, \"b\": 2,\n \"type\": {\"x\": [3]}}");
    assert_eq!(document.value, json!({"type": {"x": [3]}, "b": 2}));
    let keys: Vec<_> = document.value.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["type", "b"]);
    assert_eq!(kinds(&document), [(Leniency::DuplicateKey, at(2, 2))]);
    assert_eq!(document.warnings[0].message, "duplicate key \"type\"; the last value is used");
}

#[test]
fn duplicate_key_warnings_are_in_file_order() {
    let document = ok("{\"a\": 1, \"a\": [2,], \"a\": 3}");
    assert_eq!(document.value, json!({"a": 3}));
    assert_eq!(
        kinds(&document),
        [
            (Leniency::DuplicateKey, at(1, 10)),
            (Leniency::TrailingComma, at(1, 17)),
            (Leniency::DuplicateKey, at(1, 21)),
        ]
    );
}

#[test]
fn unicode_whitespace_between_tokens() {
    let document = ok("{\u{A0}\"a\"\u{2003}\u{2003} :\u{FEFF}1,\n\u{B}\"b\":2}");
    assert_eq!(document.value, json!({"a": 1, "b": 2}));
    assert_eq!(
        kinds(&document),
        [
            (Leniency::UnicodeWhitespace, at(1, 2)),
            (Leniency::UnicodeWhitespace, at(1, 6)),
            (Leniency::UnicodeWhitespace, at(1, 10)),
            (Leniency::UnicodeWhitespace, at(2, 1)),
        ]
    );
    assert!(document.warnings[1].message.contains("U+2003"));
}

#[test]
fn unicode_whitespace_inside_strings_is_just_text() {
    let document = ok("\"\u{A0}\"");
    assert_eq!(document.value, json!("\u{A0}"));
    assert!(document.warnings.is_empty());
}

#[test]
fn escapes_and_surrogate_pairs() {
    let document = ok(r#"["\"\\\/\b\f\n\r\t", "\u00e9\u20AC\ud83D\uDE00", "a\u0000b"]"#);
    assert_eq!(document.value, json!(["\"\\/\u{8}\u{c}\n\r\t", "é€😀", "a\u{0}b"]));
    assert!(document.warnings.is_empty());
}

#[test]
fn numbers_match_serde_json() {
    let text = "[0, -0, 1, -1, 9007199254740993, 18446744073709551615, 18446744073709551616, \
                -9223372036854775808, -9223372036854775809, 1.5, -0.0, 1e3, 1E-2, 2.5e+10, \
                0.1, 123456789012345678901234567890, 1.7976931348623157e308, 5e-324, 4.9e-325]";
    let expected: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(ok(text).value, expected);
}

#[test]
fn positions_count_characters_and_all_line_breaks() {
    // Columns are characters (é, 😀 count one each); \r\n, \n and a lone \r each end a line.
    let document = ok("[\"é😀\u{1}\",\t1 ,\r\n2,\r3,\n\"\u{1}\"]");
    assert_eq!(
        kinds(&document),
        [(Leniency::ControlCharacter, at(1, 5)), (Leniency::ControlCharacter, at(4, 2))]
    );
}

#[test]
fn single_quoted_strings_and_unquoted_keys_as_json_net_reads_them() {
    let document = ok(r#"{'title': 'it\'s "quoted"', name_2: 1, $x-y: ['a']}"#);
    assert_eq!(document.value, json!({"title": "it's \"quoted\"", "name_2": 1, "$x-y": ["a"]}));
    let found: Vec<Leniency> = kinds(&document).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        found,
        [
            Leniency::SingleQuotedString,
            Leniency::SingleQuotedString,
            Leniency::UnquotedKey,
            Leniency::UnquotedKey,
            Leniency::SingleQuotedString,
        ]
    );
    assert_eq!(kinds(&document)[0].1, at(1, 2));
}
