//! `formData` parameters: urlencoded, or multipart when a file is among them or `consumes` says so.

use super::value::{CollectionFormat, texts};
use super::{BindError, Inputs, value_for};
use crate::draft::{DraftBody, FormPart};
use crate::plan::OperationPlan;
use base64::Engine;
use bytes::Bytes;
use patchbay_spec::model::Parameter;
use serde_json::Value;

/// Builds the form body.
pub fn bind_form(
    plan: &OperationPlan,
    params: &[&Parameter],
    inputs: &Inputs,
) -> Result<DraftBody, BindError> {
    let has_file = params.iter().any(|p| p.value_type() == Some("file"));
    let multipart = has_file || plan.consumes.as_deref().is_some_and(|c| c.contains("multipart"));
    let mut fields = Vec::new();
    let mut parts = Vec::new();
    for p in params {
        let Some(value) = value_for(p, inputs)? else { continue };
        if p.value_type() == Some("file") {
            parts.push(file_part(p, value)?);
            continue;
        }
        for text in texts(value, CollectionFormat::parse(p.collection_format.as_deref())) {
            if multipart {
                parts.push(FormPart {
                    name: p.name.clone(),
                    file_name: None,
                    content_type: None,
                    data: text.into(),
                });
            } else {
                fields.push((p.name.clone(), text));
            }
        }
    }
    Ok(if multipart { DraftBody::Multipart(parts) } else { DraftBody::Form(fields) })
}

/// A file value: text as it is, or the workflow's binary form
/// `{"$content-type": …, "$content": <base64>, "$filename"?: …}`.
fn file_part(p: &Parameter, value: &Value) -> Result<FormPart, BindError> {
    let mut part = FormPart {
        name: p.name.clone(),
        file_name: Some(p.name.clone()),
        content_type: Some("application/octet-stream".into()),
        data: Bytes::new(),
    };
    match value {
        Value::String(text) => part.data = Bytes::from(text.clone()),
        Value::Object(map) => {
            let content = map.get("$content").and_then(Value::as_str).unwrap_or_default();
            let decoded = base64::engine::general_purpose::STANDARD.decode(content).map_err(|_| {
                BindError::Invalid { name: p.name.clone(), reason: "`$content` is not base64".into() }
            })?;
            part.data = Bytes::from(decoded);
            if let Some(ct) = map.get("$content-type").and_then(Value::as_str) {
                part.content_type = Some(ct.to_string());
            }
            if let Some(name) = map.get("$filename").and_then(Value::as_str) {
                part.file_name = Some(name.to_string());
            }
        }
        _ => {
            return Err(BindError::Invalid {
                name: p.name.clone(),
                reason: "a file is text or {$content}".into(),
            });
        }
    }
    Ok(part)
}
