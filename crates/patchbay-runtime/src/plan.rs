//! A connector compiled for execution: each operation's effective parameters, media types,
//! resolved body schema and its validator, prepared once so the request path never re-reads JSON.

use crate::policy::PolicySet;
use patchbay_spec::Connector;
use patchbay_spec::model::{Location, Operation, Parameter, PathItem};
use patchbay_spec::refs::resolve_schema;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One operation, ready to bind.
pub struct OperationPlan {
    /// The operation id.
    pub id: String,
    /// The method.
    pub method: http::Method,
    /// The path template.
    pub path: String,
    /// The effective parameters (path item's, then the operation's own), in order.
    pub parameters: Vec<Parameter>,
    /// The request media type (`consumes`, operation first), if any.
    pub consumes: Option<String>,
    /// The response media type (`produces`), if any.
    pub produces: Option<String>,
    /// `produces` as the `Accept` header value, prepared once.
    pub accept: Option<http::HeaderValue>,
    /// `x-ms-pageable.nextLinkName`.
    pub next_link_name: Option<String>,
    /// The body parameter's schema, `$ref`s resolvable (definitions inlined), `x-nullable` applied.
    pub body_schema: Option<Value>,
    /// A validator for the body, when its schema compiles.
    pub body_validator: Option<Arc<jsonschema::Validator>>,
    /// The success response's schema, standalone, for response warnings.
    pub response_validator: Option<Arc<jsonschema::Validator>>,
    /// The policy template instances that apply, compiled, by section.
    pub policies: PolicySet,
}

/// A connector with every operation compiled.
pub struct CompiledConnector {
    /// The connector.
    pub connector: Arc<Connector>,
    operations: HashMap<String, Arc<OperationPlan>>,
}

impl CompiledConnector {
    /// Compiles every operation that has an id.
    pub fn compile(connector: Arc<Connector>) -> Self {
        let operations = connector
            .operations()
            .filter_map(|(item, op)| {
                let id = op.id.clone()?;
                Some((id.clone(), Arc::new(compile_operation(&connector, item, op, id))))
            })
            .collect();
        CompiledConnector { connector, operations }
    }

    /// The plan of an operation.
    pub fn operation(&self, id: &str) -> Option<&Arc<OperationPlan>> {
        self.operations.get(id)
    }
}

fn compile_operation(c: &Connector, item: &PathItem, op: &Operation, id: String) -> OperationPlan {
    let parameters: Vec<Parameter> = op.effective_parameters(item).into_iter().cloned().collect();
    let body_schema =
        parameters.iter().find(|p| p.location == Location::Body).map(|p| standalone_schema(c, &p.schema));
    let body_validator = body_schema.as_ref().and_then(|s| jsonschema::draft4::new(s).ok()).map(Arc::new);
    let first = |own: &[String], doc: &[String]| own.first().or_else(|| doc.first()).cloned();
    let response_validator = op
        .success_response()
        .and_then(|r| r.schema.as_ref())
        .and_then(|s| jsonschema::draft4::new(&standalone_schema(c, s)).ok())
        .map(Arc::new);
    OperationPlan {
        id,
        method: http::Method::from_bytes(op.method.as_upper().as_bytes()).unwrap_or(http::Method::GET),
        path: op.path.clone(),
        consumes: first(&op.consumes, &c.consumes),
        produces: first(&op.produces, &c.produces),
        accept: first(&op.produces, &c.produces).and_then(|p| http::HeaderValue::from_str(&p).ok()),
        next_link_name: op.next_link_name.clone(),
        parameters,
        body_schema,
        body_validator,
        response_validator,
        policies: PolicySet::compile(c, &op.id.clone().unwrap_or_default()),
    }
}

/// A schema that validates on its own: its `$ref` resolved, the connector's definitions attached
/// for nested references, and Swagger's `x-nullable` turned into a JSON Schema type union.
pub fn standalone_schema(c: &Connector, schema: &Value) -> Value {
    let mut root = resolve_schema(c, schema).cloned().unwrap_or_else(|_| Value::Object(Map::new()));
    let mut definitions = Value::Object(c.definitions.clone());
    apply_nullable(&mut root);
    apply_nullable(&mut definitions);
    if let Value::Object(map) = &mut root
        && !map.contains_key("definitions")
        && !c.definitions.is_empty()
    {
        map.insert("definitions".into(), definitions);
    }
    root
}

/// Rewrites `x-nullable: true` (and OpenAPI's `nullable`) into `type: [T, "null"]`, everywhere.
fn apply_nullable(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let nullable = ["x-nullable", "nullable"].iter().any(|k| map.get(*k) == Some(&Value::Bool(true)));
            if nullable && let Some(Value::String(t)) = map.get("type").cloned() {
                map.insert("type".into(), Value::Array(vec![Value::String(t), Value::String("null".into())]));
            }
            // Swagger's `type: file` is not JSON Schema; a file is sent as a string or object.
            if map.get("type").and_then(Value::as_str) == Some("file") {
                map.remove("type");
            }
            map.values_mut().for_each(apply_nullable);
        }
        Value::Array(items) => items.iter_mut().for_each(apply_nullable),
        _ => {}
    }
}
