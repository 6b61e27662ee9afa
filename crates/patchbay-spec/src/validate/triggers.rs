//! Triggers: a webhook trigger has one notification-URL parameter and a notification content schema.

use super::{Report, operation_pointer, path_pointer};
use crate::model::{OperationKind, TriggerKind};

/// Checks every webhook trigger.
pub fn check(r: &mut Report) {
    let c = r.connector;
    for item in &c.paths {
        for op in &item.operations {
            let OperationKind::Trigger { kind: TriggerKind::Webhook, .. } = op.kind(item, &c.definitions)
            else {
                continue;
            };
            let callbacks: Vec<String> = op
                .effective_parameters(item)
                .iter()
                .filter_map(|p| {
                    let path = p.notification_url_path(&c.definitions)?;
                    Some(
                        std::iter::once(p.name.as_str())
                            .chain(path.iter().map(String::as_str))
                            .collect::<Vec<_>>()
                            .join("."),
                    )
                })
                .collect();
            match callbacks.len() {
                0 => {
                    let msg = format!(
                        "webhook trigger {} has no parameter marked x-ms-notification-url",
                        op.display_id()
                    );
                    r.definition("PB0501", operation_pointer(op), msg);
                }
                1 => {}
                n => {
                    let msg = format!(
                        "webhook trigger {} has {n} notification-URL parameters: {}",
                        op.display_id(),
                        callbacks.join(", ")
                    );
                    r.definition("PB0502", operation_pointer(op), msg);
                }
            }
            let has_schema = item.notification_content.as_ref().is_some_and(|n| n.get("schema").is_some());
            if !has_schema {
                let msg =
                    format!("webhook trigger {} does not describe its notification content", op.display_id());
                r.definition("PB0503", path_pointer(item), msg);
            }
        }
    }
}
