//! Paths, operations and responses.

use super::{Object, Parameter};
use serde_json::Value;

/// One path of the API with the operations under it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathItem {
    /// The path template, e.g. `/projects/{projectId}/tasks`.
    pub path: String,
    /// Parameters shared by every operation of the path.
    pub parameters: Vec<Parameter>,
    /// The operations, in file order.
    pub operations: Vec<Operation>,
    /// `x-ms-notification-content`: what a webhook posts to the callback, verbatim.
    pub notification_content: Option<Value>,
    /// Other keys of the path item, verbatim.
    pub extra: Object,
}

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// HEAD
    Head,
    /// PATCH
    Patch,
}

impl Method {
    /// Every method, in Swagger's order.
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
    ];

    /// The lower-case key used in Swagger path items.
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Options => "options",
            Method::Head => "head",
            Method::Patch => "patch",
        }
    }

    /// Parses a method name, case-insensitively.
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.key().eq_ignore_ascii_case(name))
    }

    /// The upper-case name used on the wire.
    pub fn as_upper(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
        }
    }
}

/// `x-ms-visibility`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Always shown.
    Important,
    /// Shown under "advanced".
    Advanced,
    /// Hidden; the platform fills its default.
    Internal,
    /// `none` (the default, shown normally).
    None,
}

impl Visibility {
    /// Parses the extension's value, case-insensitively.
    pub fn parse(text: &str) -> Option<Visibility> {
        match text.to_ascii_lowercase().as_str() {
            "important" => Some(Visibility::Important),
            "advanced" => Some(Visibility::Advanced),
            "internal" => Some(Visibility::Internal),
            "none" | "" => Some(Visibility::None),
            _ => None,
        }
    }

    /// The value as written in packages.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Important => "important",
            Visibility::Advanced => "advanced",
            Visibility::Internal => "internal",
            Visibility::None => "none",
        }
    }
}

/// `x-ms-trigger`: whether a trigger fires once per item or once per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cardinality {
    /// One event per response.
    Single,
    /// The response holds an array of items.
    Batch,
}

impl Cardinality {
    /// Parses `single` or `batch`, case-insensitively.
    pub fn parse(text: &str) -> Option<Cardinality> {
        match text.to_ascii_lowercase().as_str() {
            "single" => Some(Cardinality::Single),
            "batch" => Some(Cardinality::Batch),
            _ => None,
        }
    }

    /// The value as written in packages.
    pub fn as_str(self) -> &'static str {
        match self {
            Cardinality::Single => "single",
            Cardinality::Batch => "batch",
        }
    }
}

/// How a trigger learns about events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    /// The platform calls the operation on a schedule.
    Polling,
    /// The operation subscribes a callback URL; the backend calls it.
    Webhook,
}

/// What an operation is, derived from its extensions.
#[derive(Debug, Clone, PartialEq)]
pub enum OperationKind {
    /// An action called on demand.
    Action,
    /// A trigger.
    Trigger {
        /// Polling or webhook.
        kind: TriggerKind,
        /// Single or batch.
        cardinality: Cardinality,
    },
}

/// One operation of the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// `operationId`; `None` only in broken definitions (the validator reports it).
    pub id: Option<String>,
    /// The HTTP method.
    pub method: Method,
    /// The path template (same as the path item's).
    pub path: String,
    /// Short display name (`summary`).
    pub summary: Option<String>,
    /// Help text (`description`).
    pub description: Option<String>,
    /// `x-ms-visibility`.
    pub visibility: Option<Visibility>,
    /// `deprecated`.
    pub deprecated: bool,
    /// `x-ms-api-annotation` (family, revision, status, replacement), verbatim.
    pub annotation: Option<Value>,
    /// Request media types (`consumes`).
    pub consumes: Vec<String>,
    /// Response media types (`produces`).
    pub produces: Vec<String>,
    /// The operation's own parameters, in file order (see [`Operation::effective_parameters`]).
    pub parameters: Vec<Parameter>,
    /// Responses by status code (`default` included), in file order.
    pub responses: Vec<Response>,
    /// `x-ms-trigger`: present on triggers.
    pub trigger: Option<Cardinality>,
    /// `x-ms-trigger-hint`.
    pub trigger_hint: Option<String>,
    /// `x-ms-trigger-metadata`, verbatim (e.g. `{"kind":"query","mode":"polling"}`).
    pub trigger_metadata: Option<Value>,
    /// `x-ms-pageable.nextLinkName`.
    pub next_link_name: Option<String>,
    /// `x-ms-capabilities` on the operation (e.g. `chunkTransfer`), verbatim.
    pub capabilities: Option<Value>,
    /// `x-ms-no-generic-test`.
    pub no_generic_test: bool,
    /// `x-ms-safe-operation`.
    pub safe: bool,
    /// Operation-level `security`, verbatim.
    pub security: Option<Value>,
    /// Other keys (`tags`, `x-ms-openai-data`, …), verbatim.
    pub extra: super::Object,
}

impl Operation {
    /// An operation with only a method and path.
    pub fn new(method: Method, path: &str) -> Self {
        Operation {
            id: None,
            method,
            path: path.to_string(),
            summary: None,
            description: None,
            visibility: None,
            deprecated: false,
            annotation: None,
            consumes: Vec::new(),
            produces: Vec::new(),
            parameters: Vec::new(),
            responses: Vec::new(),
            trigger: None,
            trigger_hint: None,
            trigger_metadata: None,
            next_link_name: None,
            capabilities: None,
            no_generic_test: false,
            safe: false,
            security: None,
            extra: super::Object::new(),
        }
    }

    /// The operation id, or `METHOD /path` when it has none.
    pub fn display_id(&self) -> String {
        self.id.clone().unwrap_or_else(|| format!("{} {}", self.method.as_upper(), self.path))
    }

    /// The parameters that apply: the path item's, unless the operation redefines them, then its own.
    pub fn effective_parameters<'a>(&'a self, item: &'a PathItem) -> Vec<&'a Parameter> {
        let inherited = item.parameters.iter().filter(|shared| {
            !self.parameters.iter().any(|p| p.name == shared.name && p.location == shared.location)
        });
        inherited.chain(self.parameters.iter()).collect()
    }

    /// What the operation is: an action, or a polling or webhook trigger.
    ///
    /// A trigger is a webhook when its path has `x-ms-notification-content` or one of its
    /// parameters (or a property of its body, through `definitions`) is `x-ms-notification-url`.
    pub fn kind(&self, item: &PathItem, definitions: &super::Object) -> OperationKind {
        let Some(cardinality) = self.trigger else { return OperationKind::Action };
        let webhook = item.notification_content.is_some()
            || self.effective_parameters(item).iter().any(|p| p.notification_url_path(definitions).is_some());
        let kind = if webhook { TriggerKind::Webhook } else { TriggerKind::Polling };
        OperationKind::Trigger { kind, cardinality }
    }

    /// The success response (the lowest 2xx), or `default`.
    pub fn success_response(&self) -> Option<&Response> {
        let mut ok: Vec<&Response> = self.responses.iter().filter(|r| r.status.starts_with('2')).collect();
        ok.sort_by(|a, b| a.status.cmp(&b.status));
        ok.first().copied().or_else(|| self.responses.iter().find(|r| r.status == "default"))
    }
}

/// One response of an operation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    /// Status code (`200`, `202`, `default`, …); for shared responses, their name.
    pub status: String,
    /// `$ref` to a shared response (`#/responses/...`), when the file used one.
    pub reference: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `schema`, verbatim.
    pub schema: Option<Value>,
    /// `headers`, verbatim.
    pub headers: super::Object,
    /// Other keys (`x-ms-summary`, `examples`, …), verbatim.
    pub extra: super::Object,
}
