//! A policy instance's parameters, read case-insensitively, with expression values parsed once.

use super::PolicyError;
use patchbay_expr::{Template, parse_policy_template};
use patchbay_spec::model::PolicyInstance;
use serde_json::{Map, Value};

/// The template parameters of one instance (`x-ms-apimTemplateParameter.<name>`).
pub struct Params {
    values: Map<String, Value>,
    template_id: String,
}

impl Params {
    /// Reads an instance's parameters.
    pub fn new(instance: &PolicyInstance) -> Self {
        Params { values: instance.parameters.clone(), template_id: instance.template_id.clone() }
    }

    /// Parameters from a map (tests).
    pub fn from_map(template_id: &str, values: Map<String, Value>) -> Self {
        Params { values, template_id: template_id.to_string() }
    }

    /// The template id, for messages.
    pub fn template_id(&self) -> &str {
        &self.template_id
    }

    /// A parameter's raw value.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// A parameter's text (non-strings as JSON text).
    pub fn text(&self, name: &str) -> Option<String> {
        self.value(name).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// A parameter that must be present.
    pub fn required_text(&self, name: &str) -> Result<String, PolicyError> {
        self.text(name).ok_or_else(|| PolicyError::MissingParameter(name.to_string()))
    }

    /// A parameter parsed as a policy expression template.
    pub fn template(&self, name: &str) -> Result<Option<Template>, PolicyError> {
        let Some(text) = self.text(name) else { return Ok(None) };
        parse_policy_template(&text)
            .map(Some)
            .map_err(|e| PolicyError::BadParameter { name: name.to_string(), reason: e.to_string() })
    }

    /// A template that must be present.
    pub fn required_template(&self, name: &str) -> Result<Template, PolicyError> {
        self.template(name)?.ok_or_else(|| PolicyError::MissingParameter(name.to_string()))
    }

    /// An error for a failure while running this policy.
    pub fn failed(&self, reason: impl std::fmt::Display) -> PolicyError {
        PolicyError::Failed { policy: self.template_id.clone(), reason: reason.to_string() }
    }
}
