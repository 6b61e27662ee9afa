//! Policy template instances: known templates, required parameters, existing operations.

use super::Report;
use crate::model::{PolicySection, PolicyTemplate};

/// Checks every policy template instance.
pub fn check(r: &mut Report) {
    let c = r.connector;
    for (i, policy) in c.policies.iter().enumerate() {
        let pointer = format!("/properties/policyTemplateInstances/{i}");
        match PolicyTemplate::spec_of_id(&policy.template_id) {
            None => {
                let msg = format!("policy template `{}` is not known; it will not run", policy.template_id);
                r.properties("PB0701", format!("{pointer}/templateId"), msg);
            }
            Some(spec) => {
                for required in spec.required {
                    if policy.parameter(required).is_none() {
                        let msg =
                            format!("`{}` policy needs `x-ms-apimTemplateParameter.{required}`", spec.id);
                        r.properties("PB0702", format!("{pointer}/parameters"), msg);
                    }
                }
            }
        }
        for (j, op) in policy.operations.iter().enumerate() {
            if c.operation(op).is_none() {
                let msg =
                    format!("policy `{}` names operation `{op}`, which does not exist", policy.template_id);
                r.properties(
                    "PB0703",
                    format!("{pointer}/parameters/x-ms-apimTemplate-operationName/{j}"),
                    msg,
                );
            }
        }
        if let Some(PolicySection::Other(section)) = &policy.section {
            let msg = format!("policy section `{section}` is not Request or Response");
            r.properties("PB0704", format!("{pointer}/parameters/x-ms-apimTemplate-policySection"), msg);
        }
    }
}
