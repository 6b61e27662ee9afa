//! Policy template instances (`policyTemplateInstances` of `apiProperties.json`).

use super::Object;
use serde_json::Value;

/// A policy template of the Power Platform catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyTemplate {
    /// `setheader`: set, append or skip a header.
    SetHeader,
    /// `setqueryparameter`: set a query parameter.
    SetQueryParameter,
    /// `routerequesttoendpoint`: rewrite the path (and method).
    RouteRequestToEndpoint,
    /// `dynamichosturl`: the backend URL from an expression.
    DynamicHostUrl,
    /// `dynamicsubdomain`: an older form of `dynamichosturl`, seen in real packages.
    DynamicSubdomain,
    /// `setproperty`: set a body property.
    SetProperty,
    /// `updatenextlink`: rewrite the paging next link.
    UpdateNextLink,
    /// `pollingtrigger`: carry polling state in the trigger.
    PollingTrigger,
    /// `convertarraytoobject`.
    ConvertArrayToObject,
    /// `convertobjecttoarray`.
    ConvertObjectToArray,
    /// `stringtoarray`.
    StringToArray,
    /// `stringreplace`.
    StringReplace,
    /// `encodepropertyvalue`.
    EncodePropertyValue,
    /// `setvaluefromurl`: fetch a value from another URL.
    SetValueFromUrl,
    /// `setconnectionstatustounauthenticated`.
    SetConnectionStatusToUnauthenticated,
    /// `moveproperties`.
    MoveProperties,
}

/// A template's id and its required parameters, in the registry.
#[derive(Debug, Clone, Copy)]
pub struct TemplateSpec {
    /// The template.
    pub template: PolicyTemplate,
    /// Its id in lower case.
    pub id: &'static str,
    /// Parameters it cannot work without (`x-ms-apimTemplateParameter.<name>`).
    pub required: &'static [&'static str],
}

/// Every known template, in the order the runtime applies request policies (spec §4.2).
pub const TEMPLATES: &[TemplateSpec] = &[
    TemplateSpec {
        template: PolicyTemplate::DynamicHostUrl,
        id: "dynamichosturl",
        required: &["urlTemplate"],
    },
    TemplateSpec {
        template: PolicyTemplate::DynamicSubdomain,
        id: "dynamicsubdomain",
        required: &["urlTemplate"],
    },
    TemplateSpec {
        template: PolicyTemplate::RouteRequestToEndpoint,
        id: "routerequesttoendpoint",
        required: &["newPath"],
    },
    TemplateSpec {
        template: PolicyTemplate::SetValueFromUrl,
        id: "setvaluefromurl",
        required: &["parameterTemplate", "parameterValueUrl", "parameterValuePathTemplate"],
    },
    TemplateSpec { template: PolicyTemplate::SetHeader, id: "setheader", required: &["name", "value"] },
    TemplateSpec {
        template: PolicyTemplate::SetQueryParameter,
        id: "setqueryparameter",
        required: &["name", "value"],
    },
    TemplateSpec {
        template: PolicyTemplate::SetProperty,
        id: "setproperty",
        required: &[
            "newPropertyParentPathTemplate",
            "newPropertySubPathTemplate",
            "propertyValuePathTemplate",
        ],
    },
    TemplateSpec {
        template: PolicyTemplate::ConvertArrayToObject,
        id: "convertarraytoobject",
        required: &["propertyParentPath", "keyWithinCollectionPath", "newPropertyPath"],
    },
    TemplateSpec {
        template: PolicyTemplate::ConvertObjectToArray,
        id: "convertobjecttoarray",
        required: &["propertyParentPath", "newPropertyPath"],
    },
    TemplateSpec {
        template: PolicyTemplate::StringToArray,
        id: "stringtoarray",
        required: &["propertyParentPath", "delimiterList", "childPropertyName", "newPropertyPath"],
    },
    TemplateSpec {
        template: PolicyTemplate::StringReplace,
        id: "stringreplace",
        required: &["propertyParentPath", "sourceString", "replacementString", "newPropertyPath"],
    },
    TemplateSpec {
        template: PolicyTemplate::EncodePropertyValue,
        id: "encodepropertyvalue",
        required: &["propertyParentPath", "newPropertyPath"],
    },
    TemplateSpec {
        template: PolicyTemplate::MoveProperties,
        id: "moveproperties",
        required: &["srcParentPath", "srcSubPath", "dstParentPath", "dstSubPath"],
    },
    TemplateSpec {
        template: PolicyTemplate::UpdateNextLink,
        id: "updatenextlink",
        required: &["nextLinkPropertyName"],
    },
    TemplateSpec {
        template: PolicyTemplate::PollingTrigger,
        id: "pollingtrigger",
        required: &["triggerConfig"],
    },
    TemplateSpec {
        template: PolicyTemplate::SetConnectionStatusToUnauthenticated,
        id: "setconnectionstatustounauthenticated",
        required: &["statusCode"],
    },
];

impl PolicyTemplate {
    /// Finds a template by id, case-insensitively (`setHeader`, `SetHeader`, `setheader`).
    pub fn parse(id: &str) -> Option<PolicyTemplate> {
        Self::spec_of_id(id).map(|s| s.template)
    }

    /// The registry entry of an id, case-insensitively.
    pub fn spec_of_id(id: &str) -> Option<&'static TemplateSpec> {
        TEMPLATES.iter().find(|s| s.id.eq_ignore_ascii_case(id.trim()))
    }

    /// This template's registry entry.
    pub fn spec(self) -> &'static TemplateSpec {
        TEMPLATES.iter().find(|s| s.template == self).expect("every template is in TEMPLATES")
    }
}

/// The pipeline section a policy runs in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PolicySection {
    /// Before the request is sent (the default).
    Request,
    /// After the response arrives.
    Response,
    /// When the call failed.
    Failure,
    /// Anything else, as written.
    Other(String),
}

impl PolicySection {
    /// Parses the section, case-insensitively.
    pub fn parse(text: &str) -> PolicySection {
        match text.to_ascii_lowercase().as_str() {
            "request" => PolicySection::Request,
            "response" => PolicySection::Response,
            "failure" => PolicySection::Failure,
            _ => PolicySection::Other(text.to_string()),
        }
    }

    /// The value as written in packages.
    pub fn as_str(&self) -> &str {
        match self {
            PolicySection::Request => "Request",
            PolicySection::Response => "Response",
            PolicySection::Failure => "Failure",
            PolicySection::Other(s) => s,
        }
    }
}

/// The parameter key naming the operations a policy applies to.
pub const OPERATION_NAME_KEY: &str = "x-ms-apimTemplate-operationName";
/// The parameter key naming the section a policy runs in.
pub const POLICY_SECTION_KEY: &str = "x-ms-apimTemplate-policySection";
/// The prefix of a template's own parameters.
pub const TEMPLATE_PARAMETER_PREFIX: &str = "x-ms-apimTemplateParameter.";

/// One policy template instance.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyInstance {
    /// `templateId` as written (matched case-insensitively through [`PolicyInstance::template`]).
    pub template_id: String,
    /// `title`.
    pub title: Option<String>,
    /// Operation ids it applies to (`x-ms-apimTemplate-operationName`); empty means all.
    pub operations: Vec<String>,
    /// `x-ms-apimTemplate-policySection`; `None` means `Request`.
    pub section: Option<PolicySection>,
    /// The template's own parameters, without the `x-ms-apimTemplateParameter.` prefix, in file order.
    pub parameters: Object,
    /// Other keys of `parameters`, verbatim.
    pub parameters_extra: Object,
    /// Other keys of the instance (`type`, …), verbatim.
    pub extra: Object,
}

impl PolicyInstance {
    /// The template, when the id is a known one.
    pub fn template(&self) -> Option<PolicyTemplate> {
        PolicyTemplate::parse(&self.template_id)
    }

    /// The section it runs in when unset: `Response` for the templates that only act on responses
    /// (`updatenextlink`, `setconnectionstatustounauthenticated`), else `Request`.
    pub fn effective_section(&self) -> PolicySection {
        self.section.clone().unwrap_or_else(|| match self.template() {
            Some(PolicyTemplate::UpdateNextLink | PolicyTemplate::SetConnectionStatusToUnauthenticated) => {
                PolicySection::Response
            }
            _ => PolicySection::Request,
        })
    }

    /// Whether it applies to the operation with this id.
    pub fn applies_to(&self, operation_id: &str) -> bool {
        self.operations.is_empty() || self.operations.iter().any(|o| o == operation_id)
    }

    /// A template parameter's value, by case-insensitive name.
    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_template_is_registered_once() {
        let spec_ids = [
            "setheader",
            "setqueryparameter",
            "routerequesttoendpoint",
            "dynamichosturl",
            "setproperty",
            "updatenextlink",
            "pollingtrigger",
            "convertarraytoobject",
            "convertobjecttoarray",
            "stringtoarray",
            "stringreplace",
            "encodepropertyvalue",
            "setvaluefromurl",
            "setconnectionstatustounauthenticated",
            "moveproperties",
        ];
        for id in spec_ids {
            let n = TEMPLATES.iter().filter(|s| s.id.eq_ignore_ascii_case(id)).count();
            assert_eq!(n, 1, "{id}");
        }
        assert_eq!(PolicyTemplate::parse("SetValueFromUrl"), Some(PolicyTemplate::SetValueFromUrl));
        assert_eq!(PolicyTemplate::parse("PollingTrigger"), Some(PolicyTemplate::PollingTrigger));
        for spec in TEMPLATES {
            assert_eq!(spec.template.spec().id, spec.id);
        }
    }
}
