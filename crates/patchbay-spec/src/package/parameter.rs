//! Swagger 2.0 parameters ↔ [`Parameter`].

use crate::fields::{Ctx, Fields, Out};
use crate::model::{DynamicCall, Location, Object, Parameter, UrlEncoding, VALUE_SCHEMA_KEYS, Visibility};
use serde_json::Value;

/// Reads one parameter object (already `$ref`-resolved by the caller when it was a reference).
pub fn read_parameter(value: Value, pointer: String, ctx: &mut Ctx) -> Parameter {
    let mut f = Fields::new(value, pointer, ctx);
    let name = f.string("name").unwrap_or_default();
    let location = Location::parse(&f.string("in").unwrap_or_default());
    let mut p = Parameter::new(&name, location);
    p.description = f.string("description");
    p.summary = f.string("x-ms-summary");
    p.required = f.bool("required").unwrap_or(false);
    p.visibility = read_visibility(&mut f);
    p.collection_format = f.string("collectionFormat");
    p.url_encoding = f.string("x-ms-url-encoding").and_then(|s| match s.to_ascii_lowercase().as_str() {
        "single" => Some(UrlEncoding::Single),
        "double" => Some(UrlEncoding::Double),
        _ => None,
    });
    p.dynamic_values = read_dynamic(&mut f, "x-ms-dynamic-values");
    p.dynamic_list = read_dynamic(&mut f, "x-ms-dynamic-list");
    p.dynamic_schema = read_dynamic(&mut f, "x-ms-dynamic-schema");
    p.dynamic_properties = read_dynamic(&mut f, "x-ms-dynamic-properties");
    p.dynamic_tree = f.value("x-ms-dynamic-tree");
    p.test_value = f.value("x-ms-test-value");
    p.notification_url = f.bool("x-ms-notification-url").unwrap_or(false);
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
    p.extra = f.finish();
    p
}

/// Writes one parameter (a `$ref` alone when it came from one).
pub fn write_parameter(p: &Parameter) -> Value {
    if let Some(r) = &p.reference {
        return Out::new().string("$ref", &Some(r.clone())).build();
    }
    write_parameter_body(p)
}

/// Writes a parameter's full object, ignoring any `$ref` it came from.
pub fn write_parameter_body(p: &Parameter) -> Value {
    let mut out = Out::new()
        .string("name", &Some(p.name.clone()))
        .string("in", &Some(p.location.as_str().to_string()))
        .flag("required", p.required)
        .string("description", &p.description)
        .string("x-ms-summary", &p.summary)
        .string("x-ms-visibility", &p.visibility.map(|v| v.as_str().to_string()))
        .string("collectionFormat", &p.collection_format)
        .string("x-ms-url-encoding", &p.url_encoding.map(|e| encoding_name(e).to_string()))
        .value("x-ms-dynamic-values", p.dynamic_values.as_ref().map(write_dynamic))
        .value("x-ms-dynamic-list", p.dynamic_list.as_ref().map(write_dynamic))
        .value("x-ms-dynamic-schema", p.dynamic_schema.as_ref().map(write_dynamic))
        .value("x-ms-dynamic-properties", p.dynamic_properties.as_ref().map(write_dynamic))
        .value("x-ms-dynamic-tree", p.dynamic_tree.clone())
        .value("x-ms-test-value", p.test_value.clone())
        .flag("x-ms-notification-url", p.notification_url);
    if p.location == Location::Body {
        out = out.value("schema", Some(p.schema.clone()));
    } else if let Value::Object(schema) = &p.schema {
        for (k, v) in schema {
            out = out.value(k, Some(v.clone()));
        }
    }
    out.extra(&p.extra).build()
}

fn encoding_name(e: UrlEncoding) -> &'static str {
    match e {
        UrlEncoding::Single => "single",
        UrlEncoding::Double => "double",
    }
}

/// Reads `x-ms-visibility`, leaving unknown values verbatim.
pub fn read_visibility(f: &mut Fields) -> Option<Visibility> {
    let text = f.string("x-ms-visibility")?;
    match Visibility::parse(&text) {
        Some(v) => Some(v),
        None => {
            let pointer = f.child("x-ms-visibility");
            f.ctx().emit("PB0410", pointer, format!("unknown x-ms-visibility `{text}`; kept as it is"));
            f.put_back("x-ms-visibility", Value::String(text));
            None
        }
    }
}

/// The keys of a dynamic call that [`DynamicCall`] types, besides `operationId` and `parameters`.
const DYNAMIC_SELECTORS: [&str; 6] =
    ["value-collection", "value-path", "value-title", "itemsPath", "itemValuePath", "itemTitlePath"];

/// Reads an `x-ms-dynamic-*` extension.
pub fn read_dynamic(f: &mut Fields, key: &str) -> Option<DynamicCall> {
    let value = f.object(key)?;
    let pointer = f.child(key);
    let mut d = Fields::new(Value::Object(value), pointer, f.ctx());
    let operation_id = d.string("operationId");
    let parameters = d.object("parameters").unwrap_or_default();
    let [value_collection, value_path, value_title, items_path, item_value_path, item_title_path] =
        DYNAMIC_SELECTORS.map(|k| d.string(k));
    Some(DynamicCall {
        operation_id,
        parameters,
        value_collection,
        value_path,
        value_title,
        items_path,
        item_value_path,
        item_title_path,
        extra: d.finish(),
    })
}

/// Writes an `x-ms-dynamic-*` extension.
pub fn write_dynamic(d: &DynamicCall) -> Value {
    let selectors = [
        &d.value_collection,
        &d.value_path,
        &d.value_title,
        &d.items_path,
        &d.item_value_path,
        &d.item_title_path,
    ];
    let mut out = Out::new().string("operationId", &d.operation_id).map("parameters", &d.parameters);
    for (key, value) in DYNAMIC_SELECTORS.iter().zip(selectors) {
        out = out.string(key, value);
    }
    out.extra(&d.extra).build()
}
