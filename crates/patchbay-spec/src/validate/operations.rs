//! Operations and their parameters: ids, path parameters, locations, bodies, visibility.

use super::{Report, operation_pointer, parameter_pointer, path_pointer};
use crate::model::{Location, Operation, PathItem, Visibility};
use std::collections::{HashMap, HashSet};

/// Checks every operation.
pub fn check(r: &mut Report) {
    let mut seen: HashMap<&str, String> = HashMap::new();
    for item in &r.connector.paths {
        check_item_parameters(r, item);
        for op in &item.operations {
            match op.id.as_deref() {
                None | Some("") => {
                    let msg = format!("{} {} has no operationId", op.method.as_upper(), op.path);
                    r.definition("PB0401", operation_pointer(op), msg);
                }
                Some(id) => {
                    if let Some(first) = seen.get(id) {
                        let msg = format!("operationId `{id}` is already used by {first}");
                        r.definition("PB0402", format!("{}/operationId", operation_pointer(op)), msg);
                    } else {
                        seen.insert(id, format!("{} {}", op.method.as_upper(), op.path));
                    }
                }
            }
            check_path_parameters(r, item, op);
            check_parameters(r, op);
        }
    }
}

fn template_names(path: &str) -> Vec<&str> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(name, _)| name)).collect()
}

fn check_path_parameters(r: &mut Report, item: &PathItem, op: &Operation) {
    let params = op.effective_parameters(item);
    for name in template_names(&item.path) {
        let declared = params.iter().any(|p| p.location == Location::Path && p.name == name);
        if !declared {
            let msg = format!("path parameter `{{{name}}}` of {} is not declared", op.display_id());
            r.definition("PB0403", operation_pointer(op), msg);
        }
    }
    for (i, p) in op.parameters.iter().enumerate() {
        if p.location != Location::Path || p.reference.is_some() && p.name.is_empty() {
            continue;
        }
        if !template_names(&item.path).contains(&p.name.as_str()) {
            let msg = format!("path parameter `{}` does not appear in `{}`", p.name, item.path);
            r.definition("PB0404", parameter_pointer(op, i), msg);
        } else if !p.required {
            let msg = format!("path parameter `{}` is not marked required", p.name);
            r.definition("PB0404", parameter_pointer(op, i), msg);
        }
    }
}

fn check_item_parameters(r: &mut Report, item: &PathItem) {
    for (i, p) in item.parameters.iter().enumerate() {
        if let Location::Other(other) = &p.location {
            let msg = format!("parameter `{}` has location `{other}`", p.name);
            r.definition("PB0405", format!("{}/parameters/{i}", path_pointer(item)), msg);
        }
    }
}

fn check_parameters(r: &mut Report, op: &Operation) {
    let mut seen = HashSet::new();
    let (mut bodies, mut forms) = (0, 0);
    for (i, p) in op.parameters.iter().enumerate() {
        if p.reference.is_some() && p.name.is_empty() {
            continue; // an unresolved reference, reported by the loader
        }
        let pointer = parameter_pointer(op, i);
        match &p.location {
            Location::Body => bodies += 1,
            Location::FormData => forms += 1,
            Location::Other(other) => {
                let msg = format!("parameter `{}` of {} has location `{other}`", p.name, op.display_id());
                r.definition("PB0405", format!("{pointer}/in"), msg);
            }
            _ => {}
        }
        if !seen.insert((p.name.as_str(), p.location.as_str())) {
            let msg = format!(
                "parameter `{}` ({}) appears twice in {}",
                p.name,
                p.location.as_str(),
                op.display_id()
            );
            r.definition("PB0407", pointer.clone(), msg);
        }
        let internal = p.visibility == Some(Visibility::Internal);
        if internal && p.required && p.default_value().is_none() && p.location != Location::Body {
            let msg = format!("parameter `{}` is internal and required but has no default", p.name);
            r.definition("PB0408", pointer, msg);
        }
    }
    if bodies > 1 || (bodies > 0 && forms > 0) {
        let msg = format!("{} has {bodies} body and {forms} formData parameters", op.display_id());
        r.definition("PB0406", operation_pointer(op), msg);
    }
}
