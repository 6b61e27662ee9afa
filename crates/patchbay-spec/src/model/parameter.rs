//! Operation parameters.

use super::{DynamicList, DynamicProperties, DynamicSchema, DynamicValues, Object, Visibility};
use serde_json::Value;

/// Where a parameter goes in the request (`in`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// The JSON (or other) body.
    Body,
    /// A form field (urlencoded or multipart).
    FormData,
    /// Anything else, kept as written.
    Other(String),
}

impl Location {
    /// Parses the `in` value, case-insensitively.
    pub fn parse(text: &str) -> Location {
        match text.to_ascii_lowercase().as_str() {
            "path" => Location::Path,
            "query" => Location::Query,
            "header" => Location::Header,
            "body" => Location::Body,
            "formdata" => Location::FormData,
            _ => Location::Other(text.to_string()),
        }
    }

    /// The value as written in Swagger 2.0.
    pub fn as_str(&self) -> &str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Body => "body",
            Location::FormData => "formData",
            Location::Other(s) => s,
        }
    }
}

/// `x-ms-url-encoding` of a path parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UrlEncoding {
    /// Percent-encode once (the default).
    #[default]
    Single,
    /// Percent-encode twice.
    Double,
}

/// The keys of a Swagger 2.0 non-body parameter that describe its value, gathered into a schema.
pub const VALUE_SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];

/// One parameter of an operation (or a shared one under `#/parameters`).
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// `name`.
    pub name: String,
    /// `in`.
    pub location: Location,
    /// `$ref` to a shared parameter, when the file used one; the fields hold the resolved copy.
    pub reference: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `x-ms-summary`: the display label.
    pub summary: Option<String>,
    /// `required`.
    pub required: bool,
    /// `x-ms-visibility`.
    pub visibility: Option<Visibility>,
    /// The value's JSON Schema: `schema` for a body; `type`, `format`, `items`, `default`, `enum`
    /// and the other value keys for the rest (see [`VALUE_SCHEMA_KEYS`]). Verbatim.
    pub schema: Value,
    /// `collectionFormat` (`csv`, `ssv`, `tsv`, `pipes`, `multi`).
    pub collection_format: Option<String>,
    /// `x-ms-url-encoding`.
    pub url_encoding: Option<UrlEncoding>,
    /// `x-ms-dynamic-values`.
    pub dynamic_values: Option<DynamicValues>,
    /// `x-ms-dynamic-list`.
    pub dynamic_list: Option<DynamicList>,
    /// `x-ms-dynamic-schema`.
    pub dynamic_schema: Option<DynamicSchema>,
    /// `x-ms-dynamic-properties`.
    pub dynamic_properties: Option<DynamicProperties>,
    /// `x-ms-dynamic-tree`, verbatim.
    pub dynamic_tree: Option<Value>,
    /// `x-ms-test-value`.
    pub test_value: Option<Value>,
    /// `x-ms-notification-url` on the parameter itself.
    pub notification_url: bool,
    /// Other keys, verbatim.
    pub extra: Object,
}

impl Parameter {
    /// A parameter with a name, a location and an empty schema.
    pub fn new(name: &str, location: Location) -> Self {
        Parameter {
            name: name.to_string(),
            location,
            reference: None,
            description: None,
            summary: None,
            required: false,
            visibility: None,
            schema: Value::Object(Object::new()),
            collection_format: None,
            url_encoding: None,
            dynamic_values: None,
            dynamic_list: None,
            dynamic_schema: None,
            dynamic_properties: None,
            dynamic_tree: None,
            test_value: None,
            notification_url: false,
            extra: Object::new(),
        }
    }

    /// The default value (`default` of the schema).
    pub fn default_value(&self) -> Option<&Value> {
        self.schema.get("default")
    }

    /// The value type (`type` of the schema), e.g. `string`.
    pub fn value_type(&self) -> Option<&str> {
        self.schema.get("type").and_then(Value::as_str)
    }

    /// Where the callback URL goes when this parameter carries it: `Some(vec![])` for the
    /// parameter itself, or the property path inside its body schema.
    pub fn notification_url_path(&self, definitions: &Object) -> Option<Vec<String>> {
        if self.notification_url {
            return Some(Vec::new());
        }
        crate::refs::find_property_path(&self.schema, definitions, "x-ms-notification-url")
    }
}
