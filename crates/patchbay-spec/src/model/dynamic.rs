//! `x-ms-dynamic-values`, `-list`, `-schema` and `-properties`: values or schemas fetched by
//! calling another operation of the connector.

use super::Object;
use serde_json::Value;

/// A call to another operation that yields values or a schema. The four extensions share this
/// shape; each uses the selector fields its documentation names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DynamicCall {
    /// `operationId` of the operation to call.
    pub operation_id: Option<String>,
    /// `parameters` of that call, by the callee's parameter name; see [`DynamicParameter`].
    pub parameters: Object,
    /// `value-collection` (dynamic values): where the array is in the response.
    pub value_collection: Option<String>,
    /// `value-path` (dynamic values: the item's value; dynamic schema: where the schema is).
    pub value_path: Option<String>,
    /// `value-title` (dynamic values): the item's display name.
    pub value_title: Option<String>,
    /// `itemsPath` (dynamic list): where the array is in the response.
    pub items_path: Option<String>,
    /// `itemValuePath` (dynamic list: the item's value; dynamic properties: where the schema is).
    pub item_value_path: Option<String>,
    /// `itemTitlePath` (dynamic list): the item's display name.
    pub item_title_path: Option<String>,
    /// Other keys (`capability`, `builtInOperation`, …), verbatim.
    pub extra: Object,
}

/// `x-ms-dynamic-values`.
pub type DynamicValues = DynamicCall;
/// `x-ms-dynamic-list`.
pub type DynamicList = DynamicCall;
/// `x-ms-dynamic-schema`.
pub type DynamicSchema = DynamicCall;
/// `x-ms-dynamic-properties`.
pub type DynamicProperties = DynamicCall;

/// Where one argument of a dynamic call comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DynamicParameter {
    /// A fixed value (`"name": "literal"` or `{"value": …}`).
    Literal(Value),
    /// The value of a parameter of the calling operation (`{"parameter": "name"}`).
    Parameter(String),
    /// A parameter reference by path (`{"parameterReference": "body/name"}`, dynamic list).
    Reference(String),
}

impl DynamicParameter {
    /// Reads one entry of a dynamic call's `parameters`.
    pub fn parse(value: &Value) -> DynamicParameter {
        let field = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        if let Some(name) = field("parameter") {
            DynamicParameter::Parameter(name)
        } else if let Some(path) = field("parameterReference") {
            DynamicParameter::Reference(path)
        } else if let Some(v) = value.get("value") {
            DynamicParameter::Literal(v.clone())
        } else {
            DynamicParameter::Literal(value.clone())
        }
    }
}

impl DynamicCall {
    /// The call's arguments, by callee parameter name.
    pub fn arguments(&self) -> impl Iterator<Item = (&str, DynamicParameter)> {
        self.parameters.iter().map(|(k, v)| (k.as_str(), DynamicParameter::parse(v)))
    }
}
