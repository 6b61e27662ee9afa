//! Property tests: round trips, no panics on any bytes, and `locate` on every pointer.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use crate::json::{Limits, Position, locate, read};

/// Keys and strings with escapes, quotes, pointer syntax and non-ASCII characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z~/ é😀\"\\\\\t\n\u{0}\u{1f}\u{7f}\u{2028}]{0,8}", any::<String>(),]
}

/// Finite floats that serde_json itself reads back exactly (it is not always exact).
fn float() -> impl Strategy<Value = Number> {
    any::<f64>().prop_filter_map("not finite or not round-tripping", |f| {
        let number = Number::from_f64(f)?;
        let back: Number = serde_json::from_str(&number.to_string()).ok()?;
        (back == number).then_some(number)
    })
}

/// Arbitrary JSON values, nested a few levels.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float().prop_map(Value::Number),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every pointer into `value`, the root included.
fn pointers(value: &Value, prefix: &str, out: &mut Vec<String>) {
    out.push(prefix.to_owned());
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                pointers(item, &format!("{prefix}/{index}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let token = key.replace('~', "~0").replace('/', "~1");
                pointers(item, &format!("{prefix}/{token}"), out);
            }
        }
        _ => {}
    }
}

/// The byte offset of `position` in `text` (lines end with `\n` only here).
fn offset_of(text: &str, position: Position) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(position.line as usize - 1).map(str::len).sum();
    let line = &text[line_start..];
    line_start + line.char_indices().nth(position.column as usize - 1).map_or(line.len(), |c| c.0)
}

/// Both serializations of `value`.
fn serializations(value: &Value) -> [String; 2] {
    [value.to_string(), serde_json::to_string_pretty(value).unwrap_or_default()]
}

proptest! {
    #[test]
    fn serialized_values_read_back_equal_without_warnings(value in value()) {
        for text in serializations(&value) {
            let document = read(text.as_bytes(), &Limits::default()).unwrap();
            prop_assert_eq!(&document.value, &value);
            prop_assert!(document.warnings.is_empty(), "{:?}", document.warnings);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = read(&bytes, &Limits::default());
    }

    #[test]
    fn damaged_json_never_panics_and_agrees_with_serde_json_when_strict(
        value in value(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = value.to_string().into_bytes();
        for (index, byte) in edits {
            let at = index.index(bytes.len());
            bytes[at] = byte;
        }
        bytes.truncate(cut.index(bytes.len() + 1).max(bytes.len() / 2));
        let ours = read(&bytes, &Limits::default());
        let text = String::from_utf8_lossy(&bytes);
        let _ = locate(&text, "/0/a");
        if let Ok(strict) = serde_json::from_slice::<Value>(&bytes) {
            prop_assert_eq!(ours.unwrap().value, strict);
        }
    }

    #[test]
    fn locate_finds_every_pointer_at_its_value(value in value()) {
        let mut all = Vec::new();
        pointers(&value, "", &mut all);
        for text in serializations(&value) {
            for pointer in &all {
                let Some(position) = locate(&text, pointer) else {
                    return Err(TestCaseError::fail(format!("{pointer} not found in {text}")));
                };
                let rest = &text[offset_of(&text, position)..];
                let found = serde_json::Deserializer::from_str(rest).into_iter::<Value>().next();
                let found = found.and_then(Result::ok);
                prop_assert_eq!(found.as_ref(), value.pointer(pointer), "{} in {}", pointer, text);
            }
        }
    }
}
