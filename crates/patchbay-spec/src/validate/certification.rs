//! The certification checklist (spec §8.3), as warnings.

use super::{Report, operation_pointer, parameter_pointer};
use crate::model::{Location, Method, OperationKind, TriggerKind};

/// Applies the checklist.
pub fn check(r: &mut Report) {
    check_identity(r);
    check_operations(r);
}

fn check_identity(r: &mut Report) {
    let c = r.connector;
    let id = &c.identity;
    if id.publisher.is_none() || id.stack_owner.is_none() {
        r.properties("PB0901", "/properties", "publisher or stackOwner is missing");
    }
    match id.brand_color.as_deref() {
        Some(color)
            if is_hex_color(color)
                && !["#007ee5", "#ffffff"].contains(&color.to_ascii_lowercase().as_str()) => {}
        Some(color) => r.properties(
            "PB0902",
            "/properties/iconBrandColor",
            format!("iconBrandColor `{color}` is not allowed"),
        ),
        None => r.properties("PB0902", "/properties", "iconBrandColor is missing"),
    }
    let names: Vec<&str> = id.metadata.iter().map(|(k, _)| k.as_str()).collect();
    for needed in ["Website", "Privacy policy", "Categories"] {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(needed)) {
            r.definition("PB0903", "", format!("x-ms-connector-metadata has no `{needed}`"));
        }
    }
    let title = id.title.to_ascii_lowercase();
    if id.title.chars().count() > 30 || title.split_whitespace().any(|w| w == "api" || w == "connector") {
        r.definition(
            "PB0904",
            "/info/title",
            format!("title `{}` is too long or names API/Connector", id.title),
        );
    }
    let len = id.description.as_deref().map_or(0, |d| d.chars().count());
    if !(30..=500).contains(&len) {
        r.definition("PB0905", "/info/description", format!("info.description has {len} characters"));
    }
    let contact = id.info_extra.get("contact");
    let complete = contact.is_some_and(|c| ["name", "url", "email"].iter().all(|k| c.get(k).is_some()));
    if !complete {
        r.definition("PB0906", "/info", "info.contact with name, url and email is missing");
    }
}

fn is_hex_color(text: &str) -> bool {
    text.len() == 7 && text.starts_with('#') && text[1..].chars().all(|c| c.is_ascii_hexdigit())
}

fn check_operations(r: &mut Report) {
    let c = r.connector;
    let has_delete = c.operations().any(|(_, o)| o.method == Method::Delete);
    for (item, op) in c.operations() {
        let pointer = operation_pointer(op);
        let name = op.display_id();
        match op.summary.as_deref() {
            Some(s) if s.chars().count() <= 80 && !s.ends_with(['.', '!', '?', ':']) => {}
            _ => r.definition(
                "PB0907",
                pointer.clone(),
                format!("{name}: summary is missing, too long or ends in punctuation"),
            ),
        }
        if op.description.is_none() || op.description == op.summary {
            r.definition(
                "PB0908",
                pointer.clone(),
                format!("{name}: description is missing or equals the summary"),
            );
        }
        if op
            .id
            .as_deref()
            .is_some_and(|id| id.contains(['-', '_']) || !id.starts_with(|ch: char| ch.is_ascii_uppercase()))
        {
            r.definition(
                "PB0909",
                format!("{pointer}/operationId"),
                format!("{name}: operationId is not PascalCase"),
            );
        }
        for (i, p) in op.parameters.iter().enumerate().filter(|(_, p)| p.reference.is_none()) {
            if p.location != Location::Body && (p.summary.is_none() || p.description.is_none()) {
                let msg = format!("{name}: parameter `{}` needs x-ms-summary and description", p.name);
                r.definition("PB0910", parameter_pointer(op, i), msg);
            }
        }
        let kind = op.kind(item, &c.definitions);
        let needs_schema = kind == OperationKind::Action && op.method != Method::Delete;
        if needs_schema && op.success_response().is_none_or(|resp| resp.schema.is_none()) {
            r.definition(
                "PB0911",
                format!("{pointer}/responses"),
                format!("{name}: the success response has no schema"),
            );
        }
        if let OperationKind::Trigger { kind, .. } = kind {
            if op.trigger_hint.is_none() {
                r.definition("PB0912", pointer.clone(), format!("{name}: trigger has no x-ms-trigger-hint"));
            }
            if kind == TriggerKind::Webhook && !has_delete {
                r.definition(
                    "PB0505",
                    pointer.clone(),
                    format!("{name}: no DELETE operation to remove the subscription"),
                );
            }
        }
        let replaced = op.annotation.as_ref().is_some_and(|a| a.get("replacement").is_some());
        if replaced && !op.deprecated {
            r.definition(
                "PB0913",
                format!("{pointer}/x-ms-api-annotation"),
                format!("{name}: replacement on an operation that is not deprecated"),
            );
        }
    }
}
