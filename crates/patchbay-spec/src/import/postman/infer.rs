//! A JSON Schema guessed from an example JSON value.

use serde_json::{Map, Value, json};

/// How deep an example is followed; deeper values get an empty schema.
const MAX_DEPTH: usize = 64;

/// A schema for values like `example`: objects with their properties, arrays with the schema of
/// their first item, and the primitive types (`integer` for whole numbers, `date-time` and `date`
/// formats for strings that look like them). `null` gives an empty schema.
pub fn infer_schema(example: &Value) -> Value {
    infer(example, 0)
}

/// [`infer_schema`] at some depth.
fn infer(value: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return json!({});
    }
    match value {
        Value::Null => json!({}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::String(s) => match string_format(s) {
            Some(format) => json!({"type": "string", "format": format}),
            None => json!({"type": "string"}),
        },
        Value::Array(items) => {
            let items = items.first().map_or_else(|| json!({}), |first| infer(first, depth + 1));
            json!({"type": "array", "items": items})
        }
        Value::Object(map) => {
            let properties: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), infer(v, depth + 1))).collect();
            json!({"type": "object", "properties": properties})
        }
    }
}

/// `date` for `YYYY-MM-DD`, `date-time` for `YYYY-MM-DDThh:mm…`.
fn string_format(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    let digits =
        |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date =
        digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-') && digits(8..10);
    if !date {
        return None;
    }
    if b.len() == 10 {
        return Some("date");
    }
    let time = matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16);
    time.then_some("date-time")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_nested_objects_arrays_and_formats() {
        let schema = infer_schema(&json!({
            "id": 7, "ratio": 0.5, "done": false, "due": "2024-05-01", "at": "2024-05-01T10:00:00Z",
            "tags": ["a"], "empty": [], "none": null
        }));
        let p = &schema["properties"];
        assert_eq!(p["id"], json!({"type": "integer"}));
        assert_eq!(p["ratio"], json!({"type": "number"}));
        assert_eq!(p["done"], json!({"type": "boolean"}));
        assert_eq!(p["due"], json!({"type": "string", "format": "date"}));
        assert_eq!(p["at"], json!({"type": "string", "format": "date-time"}));
        assert_eq!(p["tags"], json!({"type": "array", "items": {"type": "string"}}));
        assert_eq!(p["empty"], json!({"type": "array", "items": {}}));
        assert_eq!(p["none"], json!({}));
    }
}
