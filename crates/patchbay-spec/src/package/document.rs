//! The Swagger 2.0 document (`apiDefinition.swagger.json`) ↔ the model.

use super::parameter::{read_parameter, write_parameter_body};
use super::paths::{read_paths, read_response, write_paths, write_response_body};
use super::security::{read_security_definitions, write_security_definitions};
use crate::diag::escape_segment;
use crate::fields::{Ctx, Fields, Out};
use crate::model::{Backend, Connector, Identity, Object};
use crate::refs::Scope;
use serde_json::{Value, json};

/// Reads a Swagger 2.0 document into a connector (without `apiProperties.json`'s parts).
pub fn read_swagger(document: Value, external: &Object, ctx: &mut Ctx) -> Connector {
    let mut f = Fields::new(document, String::new(), ctx);
    match f.value("swagger") {
        Some(Value::String(v)) if v == "2.0" => {}
        other => {
            let found = other.map_or("nothing".to_string(), |v| v.to_string());
            f.ctx().emit("PB0301", "/swagger", format!("expected \"swagger\": \"2.0\", found {found}"));
        }
    }
    // `$ref`s may point into these three sections; they are read before the paths that use them.
    let definitions = f.object("definitions").unwrap_or_default();
    let parameters = f.object("parameters").unwrap_or_default();
    let responses = f.object("responses").unwrap_or_default();
    let root = json!({ "definitions": definitions, "parameters": parameters, "responses": responses });
    let scope = Scope { root: &root, external };

    let mut c = Connector { identity: read_info(&mut f), ..Connector::default() };
    c.backend =
        Backend { host: f.string("host"), base_path: f.string("basePath"), schemes: f.strings("schemes") };
    c.consumes = f.strings("consumes");
    c.produces = f.strings("produces");
    match f.object("paths") {
        Some(paths) => c.paths = read_paths(paths, &scope, f.ctx()),
        None => f.ctx().emit("PB0303", "", "the document has no \"paths\" object"),
    }
    c.security.schemes =
        read_security_definitions(f.object("securityDefinitions").unwrap_or_default(), f.ctx());
    c.security.requirement = f.value("security");
    c.identity.metadata = read_metadata(&mut f);
    c.extra = f.finish();
    let Value::Object(mut root) = root else { unreachable!("built as an object above") };
    c.shared_parameters = read_shared(&mut root, "parameters", ctx, |name, v, p, ctx| {
        (name.to_string(), read_parameter(v, p, ctx))
    });
    c.shared_responses = read_shared(&mut root, "responses", ctx, |name, v, p, ctx| {
        read_response(name.to_string(), v, p, ctx)
    });
    if let Some(Value::Object(defs)) = root.remove("definitions") {
        c.definitions = defs;
    }
    c
}

fn read_shared<T>(
    root: &mut Object,
    section: &str,
    ctx: &mut Ctx,
    read: impl Fn(&str, Value, String, &mut Ctx) -> T,
) -> Vec<T> {
    let Some(Value::Object(map)) = root.remove(section) else { return Vec::new() };
    map.into_iter()
        .map(|(name, v)| read(&name, v, format!("/{section}/{}", escape_segment(&name)), ctx))
        .collect()
}

fn read_info(f: &mut Fields) -> Identity {
    let info = f.value("info").unwrap_or(Value::Null);
    let mut i = Fields::new(info, "/info".to_string(), f.ctx());
    let title = i.string("title");
    let version = i.string("version");
    let description = i.string("description");
    if title.is_none() || version.is_none() {
        i.ctx().emit("PB0302", "/info", "info.title or info.version is missing");
    }
    Identity {
        title: title.unwrap_or_default(),
        version: version.unwrap_or_default(),
        description,
        info_extra: i.finish(),
        ..Identity::default()
    }
}

/// `x-ms-connector-metadata` as pairs when every entry is `{propertyName, propertyValue}`;
/// any other shape stays verbatim in `extra`.
fn read_metadata(f: &mut Fields) -> Vec<(String, String)> {
    let Some(entries) = f.array("x-ms-connector-metadata") else { return Vec::new() };
    let pairs: Option<Vec<(String, String)>> = entries
        .iter()
        .map(|e| {
            let obj = e.as_object().filter(|o| o.len() == 2)?;
            let name = obj.get("propertyName")?.as_str()?;
            let value = obj.get("propertyValue")?.as_str()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    match pairs {
        Some(pairs) if !pairs.is_empty() => pairs,
        _ => {
            f.put_back("x-ms-connector-metadata", Value::Array(entries));
            Vec::new()
        }
    }
}

/// Writes the Swagger 2.0 document.
pub fn write_swagger(c: &Connector) -> Value {
    let info = Out::new()
        .string("title", &Some(c.identity.title.clone()))
        .string("description", &c.identity.description)
        .string("version", &Some(c.identity.version.clone()))
        .extra(&c.identity.info_extra)
        .build();
    let parameters: Object =
        c.shared_parameters.iter().map(|(k, p)| (k.clone(), write_parameter_body(p))).collect();
    let responses: Object =
        c.shared_responses.iter().map(|r| (r.status.clone(), write_response_body(r))).collect();
    let metadata: Option<Value> = (!c.identity.metadata.is_empty()).then(|| {
        c.identity.metadata.iter().map(|(k, v)| json!({ "propertyName": k, "propertyValue": v })).collect()
    });
    let security = (!c.security.schemes.is_empty()).then(|| write_security_definitions(&c.security.schemes));
    Out::new()
        .string("swagger", &Some("2.0".to_string()))
        .value("info", Some(info))
        .string("host", &c.backend.host)
        .string("basePath", &c.backend.base_path)
        .strings("schemes", &c.backend.schemes)
        .strings("consumes", &c.consumes)
        .strings("produces", &c.produces)
        .value("paths", Some(write_paths(&c.paths)))
        .value("definitions", Some(Value::Object(c.definitions.clone())))
        .map("parameters", &parameters)
        .map("responses", &responses)
        .value("securityDefinitions", security.or(Some(json!({}))))
        .value("security", c.security.requirement.clone())
        .value("x-ms-connector-metadata", metadata)
        .extra(&c.extra)
        .build()
}
