//! Binding (spec §2.4): an operation's inputs become an HTTP request draft. Path parameters are
//! encoded per `x-ms-url-encoding`, query and header arrays joined per `collectionFormat`, the
//! body assembled (flattened `body/a/b` inputs included), schema defaults applied to required and
//! internal fields, and the body validated against its JSON Schema.

mod body;
mod form;
mod value;

pub(crate) use body::{flattened_path, merge_flattened, set_path};
pub use value::{CollectionFormat, to_text};

use crate::draft::{DraftBody, HttpDraft};
use crate::plan::OperationPlan;
use http::HeaderMap;
use http::header::{ACCEPT, HeaderName, HeaderValue};
use patchbay_spec::model::{Location, Parameter, UrlEncoding, Visibility};
use serde_json::{Map, Value};

/// The inputs of one call: parameter values by name. Body fields may also be given flattened
/// as `"<body name>/<property>/<sub>"` (how Power Automate stores them).
pub type Inputs = Map<String, Value>;

/// Why inputs cannot be bound. Messages name the parameter and what is wrong, never its value
/// when the value may be secret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BindError {
    /// A required parameter has no value and no default.
    #[error("required {location} parameter `{name}` is missing")]
    Missing {
        /// The parameter.
        name: String,
        /// Where it goes.
        location: String,
    },
    /// A value does not fit its parameter.
    #[error("parameter `{name}`: {reason}")]
    Invalid {
        /// The parameter.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The body does not match its schema.
    #[error("body parameter `{name}` does not match its schema: {}", errors.join("; "))]
    Body {
        /// The body parameter.
        name: String,
        /// Each violation, as `pointer: message`.
        errors: Vec<String>,
    },
}

/// Binds `inputs` to a request for `plan`, against the connector's base URL.
pub fn bind(plan: &OperationPlan, base_url: &str, inputs: &Inputs) -> Result<HttpDraft, BindError> {
    let mut draft = HttpDraft {
        method: plan.method.clone(),
        base_url: base_url.to_string(),
        path: plan.path.clone(),
        query: Vec::new(),
        headers: HeaderMap::new(),
        body: DraftBody::None,
    };
    let mut form_parameters = Vec::new();
    for p in &plan.parameters {
        match p.location {
            Location::Body => draft.body = body::bind_body(plan, p, inputs)?,
            Location::FormData => form_parameters.push(p),
            _ => bind_simple(&mut draft, p, inputs)?,
        }
    }
    if !form_parameters.is_empty() {
        draft.body = form::bind_form(plan, &form_parameters, inputs)?;
    }
    if let Some(accept) = &plan.accept {
        draft.headers.entry(ACCEPT).or_insert_with(|| accept.clone());
    }
    Ok(draft)
}

/// The value to send for a parameter: the input, or else its default when it has one and is
/// required or internal. `None` when an optional parameter is absent.
pub fn value_for<'a>(p: &'a Parameter, inputs: &'a Inputs) -> Result<Option<&'a Value>, BindError> {
    if let Some(v) = inputs.get(&p.name).filter(|v| !v.is_null()) {
        return Ok(Some(v));
    }
    let internal = p.visibility == Some(Visibility::Internal);
    match p.default_value() {
        Some(d) if p.required || internal => Ok(Some(d)),
        _ if p.required => {
            Err(BindError::Missing { name: p.name.clone(), location: p.location.as_str().into() })
        }
        _ => Ok(None),
    }
}

fn bind_simple(draft: &mut HttpDraft, p: &Parameter, inputs: &Inputs) -> Result<(), BindError> {
    let Some(v) = value_for(p, inputs)? else { return Ok(()) };
    value::check_type(p, v)?;
    let format = CollectionFormat::parse(p.collection_format.as_deref());
    match &p.location {
        Location::Path => {
            let text = value::join(v, format.for_single_value());
            let encoded = encode_path_value(&text, p.url_encoding.unwrap_or_default());
            draft.path = draft.path.replace(&format!("{{{}}}", p.name), &encoded);
        }
        Location::Query => {
            for text in value::texts(v, format) {
                draft.query.push((p.name.clone(), text));
            }
        }
        Location::Header => {
            let text = value::join(v, format.for_single_value());
            let invalid = |reason: String| BindError::Invalid { name: p.name.clone(), reason };
            let name = HeaderName::from_bytes(p.name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
            let value =
                HeaderValue::from_str(&text).map_err(|_| invalid("not a valid header value".into()))?;
            draft.headers.insert(name, value);
        }
        _ => {}
    }
    Ok(())
}

/// Characters left as they are in a path segment: RFC 3986 unreserved.
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Encodes a path parameter's value once (`single`) or twice (`double`), per `x-ms-url-encoding`.
pub fn encode_path_value(text: &str, encoding: UrlEncoding) -> String {
    let once = percent_encoding::utf8_percent_encode(text, PATH_SEGMENT).to_string();
    match encoding {
        UrlEncoding::Single => once,
        UrlEncoding::Double => percent_encoding::utf8_percent_encode(&once, PATH_SEGMENT).to_string(),
    }
}
