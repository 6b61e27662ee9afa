//! Policy templates (spec §4): one module per template, each implementing [`Behavior`]; one
//! registry table ([`REGISTRY`]) from template to constructor; and [`PolicySet::compile`], which
//! picks an operation's instances and orders them as spec §4.2 says.

mod behavior;
mod body_path;
mod convert_array_to_object;
mod convert_object_to_array;
mod dynamic_host_url;
mod encode_property_value;
mod move_properties;
mod params;
pub mod polling_trigger;
mod reshape;
mod route_request;
mod scope;
mod set_connection_status;
mod set_header;
mod set_property;
mod set_query_parameter;
mod set_value_from_url;
mod string_replace;
mod string_to_array;
#[cfg(test)]
mod test_support;
pub mod update_next_link;

pub use behavior::{Behavior, PolicyError, RequestStage, ResponseFlags, ResponseStage, SideRequest};
pub use body_path::{BodyPath, PathRoot, Step};
pub use params::Params;
pub use polling_trigger::{PollingTriggerConfig, polling_trigger_config};
pub use scope::PolicyScope;
pub use update_next_link::{NextLinkLocation, NextLinkRewrite, next_link_location, rewrite_next_link};

use patchbay_spec::Connector;
use patchbay_spec::model::{PolicyInstance, PolicySection, PolicyTemplate};

/// Builds a template's behaviour from an instance's parameters.
pub type Constructor = fn(&Params) -> Result<Box<dyn Behavior>, PolicyError>;

/// Every implemented template with its constructor, in the order request policies run (spec §4.2:
/// URL shaping first, then the rest in file order).
pub const REGISTRY: &[(PolicyTemplate, Constructor)] = &[
    (PolicyTemplate::DynamicHostUrl, dynamic_host_url::build),
    (PolicyTemplate::DynamicSubdomain, dynamic_host_url::build),
    (PolicyTemplate::RouteRequestToEndpoint, route_request::build),
    (PolicyTemplate::SetHeader, set_header::build),
    (PolicyTemplate::SetQueryParameter, set_query_parameter::build),
    (PolicyTemplate::SetValueFromUrl, set_value_from_url::build),
    (PolicyTemplate::SetProperty, set_property::build),
    (PolicyTemplate::ConvertArrayToObject, convert_array_to_object::build),
    (PolicyTemplate::ConvertObjectToArray, convert_object_to_array::build),
    (PolicyTemplate::StringToArray, string_to_array::build),
    (PolicyTemplate::StringReplace, string_replace::build),
    (PolicyTemplate::EncodePropertyValue, encode_property_value::build),
    (PolicyTemplate::MoveProperties, move_properties::build),
    (PolicyTemplate::UpdateNextLink, update_next_link::build),
    (PolicyTemplate::SetConnectionStatusToUnauthenticated, set_connection_status::build),
];

/// One compiled instance.
pub struct CompiledPolicy {
    /// Which template.
    pub template: PolicyTemplate,
    /// The instance's title, for messages.
    pub title: String,
    /// The section it runs in.
    pub section: PolicySection,
    /// What it does.
    pub behavior: Box<dyn Behavior>,
    /// Whether its expressions read the request (`headers()`, `queryParameters()`, `body()`,
    /// `item()`); when none does, the pipeline skips refreshing the scope before it.
    pub reads_request: bool,
}

/// The policies of one operation, by section, in execution order.
#[derive(Default)]
pub struct PolicySet {
    /// Request-section policies: URL shaping first, then file order.
    pub request: Vec<CompiledPolicy>,
    /// Response-section policies, in file order.
    pub response: Vec<CompiledPolicy>,
    /// Failure-section policies, in file order (run when the final status is an error).
    pub failure: Vec<CompiledPolicy>,
    /// Instances that could not be compiled (unknown template, bad parameter), with the reason.
    pub skipped: Vec<(String, PolicyError)>,
}

impl PolicySet {
    /// Compiles the instances that apply to `operation_id`.
    pub fn compile(connector: &Connector, operation_id: &str) -> PolicySet {
        let mut set = PolicySet::default();
        for instance in connector.policies.iter().filter(|p| p.applies_to(operation_id)) {
            match compile_instance(instance) {
                Ok(Some(policy)) => match policy.section {
                    PolicySection::Response => set.response.push(policy),
                    PolicySection::Failure => set.failure.push(policy),
                    _ => set.request.push(policy),
                },
                Ok(None) => {}
                Err(e) => set.skipped.push((instance.template_id.clone(), e)),
            }
        }
        let url_shaping = |p: &CompiledPolicy| match p.template {
            PolicyTemplate::DynamicHostUrl | PolicyTemplate::DynamicSubdomain => 0,
            PolicyTemplate::RouteRequestToEndpoint => 1,
            _ => 2,
        };
        set.request.sort_by_key(url_shaping);
        set
    }
}

/// Compiles one instance; `Ok(None)` for templates that the pipeline handles elsewhere
/// (`pollingtrigger` belongs to the trigger engine).
fn compile_instance(instance: &PolicyInstance) -> Result<Option<CompiledPolicy>, PolicyError> {
    let Some(template) = instance.template() else {
        return Err(PolicyError::Unknown(instance.template_id.clone()));
    };
    let Some((_, build)) = REGISTRY.iter().find(|(t, _)| *t == template) else {
        return if template == PolicyTemplate::PollingTrigger {
            Ok(None)
        } else {
            Err(PolicyError::NotImplemented(instance.template_id.clone()))
        };
    };
    let params = Params::new(instance);
    let behavior = build(&params)?;
    let text = serde_json::Value::Object(instance.parameters.clone()).to_string().to_ascii_lowercase();
    let reads_request =
        ["header(", "headers(", "queryparameter", "body(", "item("].iter().any(|f| text.contains(f));
    Ok(Some(CompiledPolicy {
        reads_request,
        template,
        title: instance.title.clone().unwrap_or_else(|| instance.template_id.clone()),
        section: instance.effective_section(),
        behavior,
    }))
}
