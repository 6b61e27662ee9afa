//! Swagger 2.0–shaped JSON (what the importers build) read into the model's typed fields.
//!
//! Both importers first write a parameter or an operation's extensions the way a Swagger 2.0
//! file would have them, then read them here, so `x-ms-*` extensions land in the same typed
//! fields whatever the source format.

use crate::fields::{Ctx, Fields};
use crate::model::{
    Cardinality, DynamicCall, Location, Object, Operation, Parameter, Response, UrlEncoding,
    VALUE_SCHEMA_KEYS, Visibility,
};
use serde_json::Value;

/// Reads a Swagger 2.0 parameter object (`name`, `in`, value keys or `schema`, `x-ms-*`).
pub(crate) fn parameter(map: Object, pointer: &str, ctx: &mut Ctx) -> Parameter {
    let mut f = Fields::new(Value::Object(map), pointer.to_string(), ctx);
    let name = f.string("name").unwrap_or_default();
    let location = Location::parse(&f.string("in").unwrap_or_default());
    let mut p = Parameter::new(&name, location);
    let mut extra = Object::new();
    p.description = f.string("description");
    p.summary = f.string("x-ms-summary");
    p.required = f.bool("required").unwrap_or(false);
    p.visibility = visibility(&mut f, &mut extra);
    p.schema = if p.location == Location::Body {
        f.value("schema").unwrap_or_else(|| Value::Object(Object::new()))
    } else {
        let mut schema = Object::new();
        for key in VALUE_SCHEMA_KEYS {
            if let Some(v) = f.value(key) {
                schema.insert((*key).to_string(), v);
            }
        }
        Value::Object(schema)
    };
    p.collection_format = f.string("collectionFormat");
    p.url_encoding = match f.string("x-ms-url-encoding") {
        Some(s) if s.eq_ignore_ascii_case("single") => Some(UrlEncoding::Single),
        Some(s) if s.eq_ignore_ascii_case("double") => Some(UrlEncoding::Double),
        Some(other) => {
            extra.insert("x-ms-url-encoding".into(), Value::String(other));
            None
        }
        None => None,
    };
    p.dynamic_values = f.object("x-ms-dynamic-values").map(dynamic_call);
    p.dynamic_list = f.object("x-ms-dynamic-list").map(dynamic_call);
    p.dynamic_schema = f.object("x-ms-dynamic-schema").map(dynamic_call);
    p.dynamic_properties = f.object("x-ms-dynamic-properties").map(dynamic_call);
    p.dynamic_tree = f.value("x-ms-dynamic-tree");
    p.test_value = f.value("x-ms-test-value");
    p.notification_url = f.bool("x-ms-notification-url").unwrap_or(false);
    let mut rest = f.finish();
    rest.extend(extra);
    p.extra = rest;
    p
}

/// Takes `x-ms-visibility`; a value that is not a known visibility goes to `extra`.
fn visibility(f: &mut Fields, extra: &mut Object) -> Option<Visibility> {
    let text = f.string("x-ms-visibility")?;
    let parsed = Visibility::parse(&text);
    if parsed.is_none() {
        extra.insert("x-ms-visibility".into(), Value::String(text));
    }
    parsed
}

/// Reads an `x-ms-dynamic-*` object.
pub(crate) fn dynamic_call(mut map: Object) -> DynamicCall {
    let mut text = |key: &str| match map.shift_remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            map.insert(key.to_string(), other);
            None
        }
        None => None,
    };
    let operation_id = text("operationId");
    let value_collection = text("value-collection");
    let value_path = text("value-path");
    let value_title = text("value-title");
    let items_path = text("itemsPath");
    let item_value_path = text("itemValuePath");
    let item_title_path = text("itemTitlePath");
    let parameters = match map.shift_remove("parameters") {
        Some(Value::Object(p)) => p,
        Some(other) => {
            map.insert("parameters".into(), other);
            Object::new()
        }
        None => Object::new(),
    };
    DynamicCall {
        operation_id,
        parameters,
        value_collection,
        value_path,
        value_title,
        items_path,
        item_value_path,
        item_title_path,
        extra: map,
    }
}

/// Takes the operation-level `x-ms-*` extensions the model types into `op`; values it cannot
/// type are added to `extra`.
pub(crate) fn operation_extensions(op: &mut Operation, f: &mut Fields, extra: &mut Object) {
    op.visibility = visibility(f, extra);
    if let Some(text) = f.string("x-ms-trigger") {
        op.trigger = Cardinality::parse(&text);
        if op.trigger.is_none() {
            extra.insert("x-ms-trigger".into(), Value::String(text));
        }
    }
    op.trigger_hint = f.string("x-ms-trigger-hint");
    op.trigger_metadata = f.value("x-ms-trigger-metadata");
    if let Some(pageable) = f.object("x-ms-pageable") {
        match pageable.get("nextLinkName").and_then(Value::as_str) {
            Some(name) => op.next_link_name = Some(name.to_string()),
            None => {
                extra.insert("x-ms-pageable".into(), Value::Object(pageable));
            }
        }
    }
    op.capabilities = f.value("x-ms-capabilities");
    op.no_generic_test = f.bool("x-ms-no-generic-test").unwrap_or(false);
    op.safe = f.bool("x-ms-safe-operation").unwrap_or(false);
    op.annotation = f.value("x-ms-api-annotation");
}

/// The response given to an operation whose source describes none.
pub(crate) fn default_response() -> Response {
    Response {
        status: "default".to_string(),
        description: Some("Default response".to_string()),
        ..Response::default()
    }
}
