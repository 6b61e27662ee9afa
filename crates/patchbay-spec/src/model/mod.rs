//! The connector model: what every loader produces and every later part of patchbay uses.
//!
//! The model types what the platform acts on and keeps everything else verbatim in `extra`
//! maps (unknown keys, `x-ms-*` extensions it does not type, values of an unexpected type),
//! so a package exported again means exactly what it meant when it was loaded. JSON Schemas are
//! kept as JSON values, `$ref`s included; [`crate::refs`] resolves them.

mod dynamic;
mod operation;
mod parameter;
mod policy;
mod security;

pub use dynamic::{
    DynamicCall, DynamicList, DynamicParameter, DynamicProperties, DynamicSchema, DynamicValues,
};
pub use operation::{
    Cardinality, Method, Operation, OperationKind, PathItem, Response, TriggerKind, Visibility,
};
pub use parameter::{Location, Parameter, UrlEncoding, VALUE_SCHEMA_KEYS};
pub use policy::{
    OPERATION_NAME_KEY, POLICY_SECTION_KEY, PolicyInstance, PolicySection, PolicyTemplate,
    TEMPLATE_PARAMETER_PREFIX, TEMPLATES, TemplateSpec,
};
pub use security::{
    AllowedValue, ConnectionParameter, ConnectionParameterType, Constraints, IdentityProvider, OAuthSettings,
    ParameterSet, ParameterSets, SecurityScheme, SecuritySchemeKind, UiDefinition,
};

use serde_json::{Map, Value};

/// A JSON object, in file order.
pub type Object = Map<String, Value>;

/// One connector: identity, backend, security, operations, policies and custom code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Connector {
    /// Who and what the connector is.
    pub identity: Identity,
    /// Where its API lives.
    pub backend: Backend,
    /// How calls are authenticated: Swagger security definitions and connection parameters.
    pub security: Security,
    /// The paths, in file order, each with its operations.
    pub paths: Vec<PathItem>,
    /// Reusable schemas (`#/definitions`), verbatim.
    pub definitions: Object,
    /// Reusable parameters (`#/parameters`), by key.
    pub shared_parameters: Vec<(String, Parameter)>,
    /// Reusable responses (`#/responses`).
    pub shared_responses: Vec<Response>,
    /// Default request media types (`consumes`).
    pub consumes: Vec<String>,
    /// Default response media types (`produces`).
    pub produces: Vec<String>,
    /// Policy template instances, in file order.
    pub policies: Vec<PolicyInstance>,
    /// Custom code (`script.csx`), when the package has it.
    pub script: Option<Script>,
    /// Connector capabilities from `apiProperties.json` (e.g. `actions`, `triggers`, `gateway`).
    pub capabilities: Vec<String>,
    /// Files outside the two main documents that `$ref`s point to, by relative path.
    pub external_documents: Map<String, Value>,
    /// Other top-level keys of the API definition (`tags`, `x-ms-capabilities`, …), verbatim.
    pub extra: Object,
    /// Other keys of `apiProperties.json`'s `properties`, verbatim.
    pub properties_extra: Object,
    /// Keys of `apiProperties.json` beside `properties` (`$schema`, …), verbatim.
    pub properties_root_extra: Object,
}

/// Who and what the connector is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Identity {
    /// The connector's name: fixed at creation (folder name, paconn `connectorId`, or title).
    pub name: String,
    /// Display title (`info.title`).
    pub title: String,
    /// Description (`info.description`).
    pub description: Option<String>,
    /// Version (`info.version`).
    pub version: String,
    /// Icon background colour (`iconBrandColor`).
    pub brand_color: Option<String>,
    /// The icon image, when the package has one.
    pub icon: Option<Icon>,
    /// Publisher (`publisher`).
    pub publisher: Option<String>,
    /// Owner of the backend service (`stackOwner`).
    pub stack_owner: Option<String>,
    /// Catalogue metadata (`x-ms-connector-metadata`): property name and value pairs.
    pub metadata: Vec<(String, String)>,
    /// Other `info` keys (`contact`, `license`, …), verbatim.
    pub info_extra: Object,
}

impl Identity {
    /// Release status (`info.x-ms-api-annotation.status`), e.g. `Preview`.
    pub fn status(&self) -> Option<&str> {
        self.info_extra.get("x-ms-api-annotation")?.get("status")?.as_str()
    }
}

/// An icon file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Icon {
    /// File name in the package, e.g. `icon.png`.
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Where the connector's API lives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Backend {
    /// URL schemes in preference order (`schemes`); the first is used.
    pub schemes: Vec<String>,
    /// Host and optional port (`host`).
    pub host: Option<String>,
    /// Base path (`basePath`), starting with `/`.
    pub base_path: Option<String>,
}

impl Backend {
    /// The base URL (`scheme://host/basePath`) when a host is set; `https` when no scheme is.
    pub fn base_url(&self) -> Option<String> {
        let host = self.host.as_deref()?;
        let scheme = self.schemes.first().map_or("https", String::as_str);
        let base = self.base_path.as_deref().unwrap_or("").trim_end_matches('/');
        Some(format!("{scheme}://{host}{base}"))
    }

    /// Placeholders like `{region}` in the host, which a policy or connection parameter fills.
    pub fn host_placeholders(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = self.host.as_deref().unwrap_or("");
        while let Some(start) = rest.find('{') {
            let Some(len) = rest[start..].find('}') else { break };
            out.push(rest[start + 1..start + len].to_string());
            rest = &rest[start + len + 1..];
        }
        out
    }
}

/// How calls are authenticated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Security {
    /// Swagger `securityDefinitions`, in file order.
    pub schemes: Vec<SecurityScheme>,
    /// The document-level `security` requirement, verbatim.
    pub requirement: Option<Value>,
    /// `connectionParameters`, in file order.
    pub connection_parameters: Vec<ConnectionParameter>,
    /// `connectionParameterSets`, when the connector offers several ways to sign in.
    pub parameter_sets: Option<ParameterSets>,
}

impl Security {
    /// Every connection parameter: the plain ones and those of every set.
    pub fn all_connection_parameters(&self) -> impl Iterator<Item = &ConnectionParameter> {
        let sets = self.parameter_sets.iter().flat_map(|s| s.values.iter());
        self.connection_parameters.iter().chain(sets.flat_map(|set| set.parameters.iter()))
    }
}

/// Custom code run for some operations (`script.csx`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    /// File name in the package (`script.csx`, sometimes `Script.cs`).
    pub file_name: String,
    /// The source code.
    pub source: String,
    /// Operation ids the script handles (`scriptOperations`); empty means every operation.
    pub operations: Vec<String>,
}

impl Connector {
    /// Every operation with the path item it belongs to, in file order.
    pub fn operations(&self) -> impl Iterator<Item = (&PathItem, &Operation)> {
        self.paths.iter().flat_map(|p| p.operations.iter().map(move |o| (p, o)))
    }

    /// The operation with this id (exact match).
    pub fn operation(&self, id: &str) -> Option<(&PathItem, &Operation)> {
        self.operations().find(|(_, o)| o.id.as_deref() == Some(id))
    }
}
