//! A new connector from a sample, as Power Platform's "Import from sample" does: a request (a curl
//! command, or `METHOD URL`, header lines, a blank line and a body) and a sample response become a
//! package with one operation, its query and header parameters, and body and response schemas
//! inferred from the samples; the connection asks for an API key when the sample sent one. The
//! package is stored through the API's create, so the validator's diagnostics apply.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, Body};
use crate::portal::connectors::{Finding, findings};
use crate::portal::csrf::Posted;
use crate::portal::page::{Chrome, PortalError, html, see_other};
use crate::portal::session::Signed;
use crate::routes::connectors::{self as api, Upload};
use crate::state::SharedState;

/// The wizard's route.
pub fn router() -> Router<SharedState> {
    Router::new().route("/portal/connectors/new", get(page).post(create))
}

/// A sample request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// `GET`, `POST`, …
    pub method: String,
    /// The absolute URL.
    pub url: url::Url,
    /// The headers sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body sent (may be empty).
    pub body: String,
}

/// Headers that carry a credential: they become the connection's API key, never a parameter.
const KEY_HEADERS: [&str; 4] = ["x-api-key", "api-key", "apikey", "ocp-apim-subscription-key"];

/// Headers the platform sets itself.
const SKIPPED_HEADERS: [&str; 4] = ["content-type", "accept", "content-length", "host"];

/// Parses a curl command (`-X`, `-H`, `-d`/`--data`/`--data-raw`/`--json`, the URL) or the plain
/// form: `METHOD URL`, `Name: value` lines, a blank line, the body.
pub fn parse_sample(text: &str) -> Result<Sample, String> {
    let text = text.trim();
    if text.starts_with("curl ") || text == "curl" { parse_curl(text) } else { parse_plain(text) }
}

/// The plain form.
fn parse_plain(text: &str) -> Result<Sample, String> {
    let (head, body) = text.split_once("\n\n").or_else(|| text.split_once("\r\n\r\n")).unwrap_or((text, ""));
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let (method, url) = first
        .trim()
        .split_once(' ')
        .ok_or("the first line is `METHOD URL`, e.g. `GET https://api.example.com/items`")?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    sample(method, url.trim(), headers, body.trim().to_owned())
}

/// A curl command.
fn parse_curl(text: &str) -> Result<Sample, String> {
    let words = shell_words(&text.replace("\\\n", " "))?;
    let (mut method, mut url, mut headers, mut body) = (None, None, Vec::new(), String::new());
    let mut words = words.into_iter().skip(1);
    while let Some(word) = words.next() {
        let mut value = |what: &str| words.next().ok_or(format!("`{what}` needs a value"));
        match word.as_str() {
            "-X" | "--request" => method = Some(value(&word)?),
            "-H" | "--header" => {
                let header = value(&word)?;
                let (name, text) =
                    header.split_once(':').ok_or(format!("the header `{header}` has no `:`"))?;
                headers.push((name.trim().to_owned(), text.trim().to_owned()));
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--json" => body = value(&word)?,
            "--url" => url = Some(value(&word)?),
            flag if flag.starts_with('-') => {}
            other => url = Some(other.to_owned()),
        }
    }
    let url = url.ok_or("the curl command has no URL")?;
    let method = method.unwrap_or_else(|| if body.is_empty() { "GET".to_owned() } else { "POST".to_owned() });
    sample(&method, &url, headers, body)
}

/// A sample from its parts, the URL checked.
fn sample(method: &str, url: &str, headers: Vec<(String, String)>, body: String) -> Result<Sample, String> {
    let url = url::Url::parse(url).map_err(|error| format!("`{url}` is not an absolute URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("the URL must be http:// or https:// with a host".to_owned());
    }
    Ok(Sample { method: method.to_ascii_uppercase(), url, headers, body })
}

/// Splits a command line into words: single and double quotes, backslash escapes.
fn shell_words(text: &str) -> Result<Vec<String>, String> {
    let (mut words, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(open), c) if c == open => quote = None,
            (None | Some('"'), '\\') => {
                word.extend(chars.next());
                started = true;
            }
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".to_owned());
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

/// A JSON schema describing `value` (objects, arrays from their first item, scalars by type).
pub fn infer_schema(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            let properties: Map<String, Value> =
                fields.iter().map(|(name, field)| (name.clone(), infer_schema(field))).collect();
            json!({"type": "object", "properties": properties})
        }
        Value::Array(items) => {
            json!({"type": "array", "items": items.first().map_or(json!({}), infer_schema)})
        }
        Value::String(_) => json!({"type": "string"}),
        Value::Number(number) if number.is_i64() || number.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Null => json!({}),
    }
}

/// What the wizard asks.
#[derive(Debug, Default, Deserialize)]
pub struct WizardForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    operation_id: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    response: String,
}

/// The package's two documents for `form`'s sample: `(apiDefinition, apiProperties)`.
pub fn build_package(form: &WizardForm) -> Result<(Value, Value), String> {
    let sample = parse_sample(&form.request)?;
    let response: Value = match form.response.trim() {
        "" => Value::Null,
        text => {
            serde_json::from_str(text).map_err(|error| format!("the sample response is not JSON: {error}"))?
        }
    };
    let mut parameters: Vec<Value> = sample
        .url
        .query_pairs()
        .map(|(name, value)| json!({"name": name, "in": "query", "type": "string", "required": false, "x-ms-summary": name, "default": value}))
        .collect();
    let mut key_header = None;
    for (name, value) in &sample.headers {
        let lower = name.to_ascii_lowercase();
        if KEY_HEADERS.contains(&lower.as_str()) {
            key_header = Some(name.clone());
        } else if !SKIPPED_HEADERS.contains(&lower.as_str()) && lower != "authorization" {
            parameters.push(
                json!({"name": name, "in": "header", "type": "string", "required": false, "default": value}),
            );
        }
    }
    if !sample.body.trim().is_empty() {
        let body: Value = serde_json::from_str(&sample.body)
            .map_err(|error| format!("the request body is not JSON: {error}"))?;
        parameters
            .push(json!({"name": "body", "in": "body", "required": true, "schema": infer_schema(&body)}));
    }
    let operation_id = match form.operation_id.trim() {
        "" => "Operation".to_owned(),
        id => id.chars().filter(char::is_ascii_alphanumeric).collect(),
    };
    let summary =
        if form.summary.trim().is_empty() { operation_id.clone() } else { form.summary.trim().to_owned() };
    let mut answer = json!({"description": "OK"});
    if !response.is_null() {
        answer["schema"] = infer_schema(&response);
    }
    let operation = json!({
        "operationId": operation_id,
        "summary": summary,
        "description": summary,
        "parameters": parameters,
        "responses": {"200": answer, "default": {"description": "Operation failed."}},
    });
    let host = match sample.url.port() {
        Some(port) => format!("{}:{port}", sample.url.host_str().unwrap_or_default()),
        None => sample.url.host_str().unwrap_or_default().to_owned(),
    };
    let title = form.name.trim();
    let mut definition = json!({
        "swagger": "2.0",
        "info": {"title": title, "description": if form.description.trim().is_empty() { title } else { form.description.trim() }, "version": "1.0"},
        "host": host,
        "basePath": "/",
        "schemes": [sample.url.scheme()],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {sample.url.path(): {sample.method.to_ascii_lowercase(): operation}},
        "definitions": {},
        "parameters": {},
        "responses": {},
        "securityDefinitions": {},
        "security": [],
        "tags": [],
    });
    let mut properties = json!({"properties": {"iconBrandColor": "#007ee5", "capabilities": [], "publisher": title, "stackOwner": title}});
    if let Some(header) = key_header {
        definition["securityDefinitions"] =
            json!({"api_key": {"type": "apiKey", "in": "header", "name": header}});
        definition["security"] = json!([{"api_key": []}]);
        properties["properties"]["connectionParameters"] = json!({"api_key": {
            "type": "securestring",
            "uiDefinition": {"displayName": "API key", "description": "The API key", "tooltip": "The API key", "constraints": {"tabIndex": 2, "clearText": false, "required": "true"}},
        }});
    }
    Ok((definition, properties))
}

/// The wizard page.
#[derive(Template)]
#[template(path = "portal/wizard.html")]
struct WizardPage {
    chrome: Chrome,
    form: WizardForm,
    failure: Option<String>,
    findings: Vec<Finding>,
}

/// `GET /portal/connectors/new`.
async fn page(signed: Signed) -> Result<Response, PortalError> {
    html(&WizardPage {
        chrome: Chrome::new(&signed, "connectors"),
        form: WizardForm::default(),
        failure: None,
        findings: Vec::new(),
    })
}

/// `POST /portal/connectors/new`: builds the package and stores it as a new connector.
async fn create(
    State(state): State<SharedState>,
    Posted(signed, form): Posted<WizardForm>,
) -> Result<Response, PortalError> {
    let built = build_package(&form).map_err(|message| ApiError::bad_request("invalid_sample", message));
    let (definition, properties) = match built {
        Ok(documents) => documents,
        Err(error) => return refused(&signed, form, &error, &[]),
    };
    let definition = patchbay_spec::export::to_pretty_json(&definition);
    let properties = patchbay_spec::export::to_pretty_json(&properties);
    let upload = Upload {
        name: Some(form.name.trim().to_owned()),
        api_definition: definition.clone(),
        api_properties: properties.clone(),
        script: None,
        icon: None,
        client_secret: None,
    };
    match api::create(State(state), signed.caller(), Body(upload)).await {
        Ok((_, saved)) => Ok(see_other(&format!("/portal/connectors/{}", saved.0.connector.id))),
        Err(error) => {
            let texts = [
                ("apiDefinition.swagger.json", definition.as_str()),
                ("apiProperties.json", properties.as_str()),
            ];
            refused(&signed, form, &error, &texts)
        }
    }
}

/// The wizard again, with what was wrong.
fn refused(
    signed: &Signed,
    form: WizardForm,
    error: &ApiError,
    texts: &[(&str, &str)],
) -> Result<Response, PortalError> {
    let findings = error.diagnostics.as_deref().map(|found| findings(found, texts)).unwrap_or_default();
    let page = html(&WizardPage {
        chrome: Chrome::new(signed, "connectors"),
        form,
        failure: Some(error.message.clone()),
        findings,
    })?;
    Ok((error.status, page).into_response())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{infer_schema, parse_sample};

    #[test]
    fn curl_commands_and_plain_requests_parse() {
        let curl = parse_sample(
            "curl -X POST 'https://api.example.com/items?limit=5' -H 'X-API-Key: k' \\\n -H \"Trace: a b\" --data-raw '{\"name\": \"it\"}'",
        )
        .unwrap();
        assert_eq!(curl.method, "POST");
        assert_eq!(curl.url.as_str(), "https://api.example.com/items?limit=5");
        assert_eq!(
            curl.headers,
            vec![("X-API-Key".to_owned(), "k".to_owned()), ("Trace".to_owned(), "a b".to_owned())]
        );
        assert_eq!(curl.body, "{\"name\": \"it\"}");
        assert_eq!(parse_sample("curl https://x.example/a -d '{}'").unwrap().method, "POST");
        let plain = parse_sample("get http://x.example:8080/a\nX-API-Key: k\n\n{\"a\": 1}").unwrap();
        assert_eq!(
            (plain.method.as_str(), plain.url.port(), plain.body.as_str()),
            ("GET", Some(8080), "{\"a\": 1}")
        );
        assert!(parse_sample("curl -H 'X: y'").unwrap_err().contains("no URL"));
        assert!(parse_sample("curl 'https://x.example").unwrap_err().contains("quote"));
        assert!(parse_sample("nonsense").is_err());
    }

    #[test]
    fn schemas_are_inferred_from_samples() {
        let schema = infer_schema(
            &json!({"id": 1, "tags": ["a"], "price": 1.5, "done": false, "owner": {"name": "x"}}),
        );
        assert_eq!(
            schema,
            json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
                "price": {"type": "number"}, "done": {"type": "boolean"},
                "owner": {"type": "object", "properties": {"name": {"type": "string"}}}
            }})
        );
    }
}
