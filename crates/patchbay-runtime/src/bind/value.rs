//! Turning JSON values into the text of a query, header, path or form value.

use super::BindError;
use patchbay_spec::model::Parameter;
use serde_json::Value;

/// `collectionFormat`: how an array becomes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionFormat {
    /// Comma-separated (the default).
    Csv,
    /// Space-separated.
    Ssv,
    /// Tab-separated.
    Tsv,
    /// Pipe-separated.
    Pipes,
    /// One `name=value` pair per item (query and form only).
    Multi,
}

impl CollectionFormat {
    /// Parses the Swagger value, `csv` when absent or unknown.
    pub fn parse(text: Option<&str>) -> Self {
        match text.map(str::to_ascii_lowercase).as_deref() {
            Some("ssv") => Self::Ssv,
            Some("tsv") => Self::Tsv,
            Some("pipes") => Self::Pipes,
            Some("multi") => Self::Multi,
            _ => Self::Csv,
        }
    }

    /// Where one value is needed (path, header), `multi` falls back to `csv`.
    pub fn for_single_value(self) -> Self {
        if self == Self::Multi { Self::Csv } else { self }
    }

    fn separator(self) -> &'static str {
        match self {
            Self::Csv | Self::Multi => ",",
            Self::Ssv => " ",
            Self::Tsv => "\t",
            Self::Pipes => "|",
        }
    }
}

/// A scalar's text: strings as they are, numbers and booleans as JSON writes them, null as
/// empty, objects and arrays as JSON.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One text for the value, arrays joined per the format.
pub fn join(value: &Value, format: CollectionFormat) -> String {
    match value {
        Value::Array(items) => items.iter().map(to_text).collect::<Vec<_>>().join(format.separator()),
        other => to_text(other),
    }
}

/// The texts to send: one per item for `multi`, else one joined text.
pub fn texts(value: &Value, format: CollectionFormat) -> Vec<String> {
    match (value, format) {
        (Value::Array(items), CollectionFormat::Multi) => items.iter().map(to_text).collect(),
        _ => vec![join(value, format)],
    }
}

/// Checks a non-body value against the parameter's declared type. Strings that read as the
/// type are accepted (workflow values are often strings); `enum` is advisory and not checked.
pub fn check_type(p: &Parameter, value: &Value) -> Result<(), BindError> {
    let Some(expected) = p.value_type() else { return Ok(()) };
    let fits = match expected {
        "integer" => value.as_i64().is_some() || value.as_u64().is_some() || parses::<i64>(value),
        "number" => value.is_number() || parses::<f64>(value),
        "boolean" => {
            value.is_boolean()
                || value
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false"))
        }
        "array" => value.is_array() || value.is_string(),
        "string" => !value.is_object(),
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        let found = match value {
            Value::String(_) => "a string that does not read as one",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
            Value::Null => "null",
        };
        Err(BindError::Invalid { name: p.name.clone(), reason: format!("expected {expected}, got {found}") })
    }
}

fn parses<T: std::str::FromStr>(value: &Value) -> bool {
    value.as_str().is_some_and(|s| s.trim().parse::<T>().is_ok())
}
