//! `pollingtrigger` (spec §4.9): not a request or response hook but the trigger engine's polling
//! state. `triggerConfig` maps query parameter names to templates evaluated against the last poll's
//! response (`triggerBody()`) to give the next poll's query; its special key
//! `x-ms-triggerConfig-nextLink` names the root property holding a next-page link (default
//! `@odata.nextLink`); `triggerDataPath` says where the new items are in a response.
//!
//! Choices: `triggerConfig` may also be written as a string holding a JSON object; non-string
//! values are constants; a query value that evaluates to nothing (`since` of an empty page) is left
//! out of the next query rather than sent empty. Without `triggerDataPath` the body itself holds
//! the items. [`PolicySet::compile`](super::PolicySet::compile) skips these instances; the trigger
//! engine uses [`polling_trigger_config`].

use super::{BodyPath, Params, PathRoot, PolicyError, PolicyScope};
use patchbay_expr::{Template, parse_policy_template};
use patchbay_spec::Connector;
use patchbay_spec::model::PolicyTemplate;
use serde_json::{Map, Value};

/// The property naming the next-page link when `triggerConfig` does not say.
pub const DEFAULT_NEXT_LINK: &str = "@odata.nextLink";

/// The `triggerConfig` key that names the next-page link property.
const NEXT_LINK_KEY: &str = "x-ms-triggerConfig-nextLink";

/// A compiled `pollingtrigger` instance.
#[derive(Debug, Clone)]
pub struct PollingTriggerConfig {
    queries: Vec<(String, Template)>,
    next_link_name: String,
    data_path: Option<BodyPath>,
}

impl PollingTriggerConfig {
    /// Compiles an instance's `triggerConfig` and `triggerDataPath`.
    pub fn from_params(params: &Params) -> Result<Self, PolicyError> {
        let bad = |name: &str, reason: String| PolicyError::BadParameter { name: name.to_string(), reason };
        let config = trigger_config(params)?;
        let mut queries = Vec::new();
        let mut next_link_name = DEFAULT_NEXT_LINK.to_string();
        for (name, value) in config {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                other => other.to_string(),
            };
            if name.eq_ignore_ascii_case(NEXT_LINK_KEY) {
                next_link_name = text.trim().to_string();
                continue;
            }
            let template =
                parse_policy_template(&text).map_err(|e| bad("triggerConfig", format!("`{name}`: {e}")))?;
            queries.push((name, template));
        }
        let data_path = match params.text("triggerDataPath").filter(|t| !t.trim().is_empty()) {
            None => None,
            Some(text) => Some(
                BodyPath::parse(&text)
                    .filter(|p| matches!(p.root, PathRoot::TriggerBody | PathRoot::Body))
                    .ok_or_else(|| bad("triggerDataPath", format!("`{text}` is not a @triggerBody() path")))?,
            ),
        };
        Ok(PollingTriggerConfig { queries, next_link_name, data_path })
    }

    /// The query parameter names the trigger sets, in file order.
    pub fn query_names(&self) -> impl Iterator<Item = &str> {
        self.queries.iter().map(|(name, _)| name.as_str())
    }

    /// Where the new items are (`triggerDataPath`); `None` when the body itself holds them.
    pub fn data_path(&self) -> Option<&BodyPath> {
        self.data_path.as_ref()
    }

    /// The root property holding a next-page link.
    pub fn next_link_name(&self) -> &str {
        &self.next_link_name
    }

    /// The new items of a poll's response body: the array at `triggerDataPath` (a single value is
    /// one item; missing or null is none).
    pub fn items(&self, body: &Value) -> Vec<Value> {
        let found = match &self.data_path {
            Some(path) => path.get(body),
            None => Some(body),
        };
        match found {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(one) => vec![one.clone()],
        }
    }

    /// The next-page link of a response, when it has one.
    pub fn next_link<'a>(&self, body: &'a Value) -> Option<&'a str> {
        body.get(&self.next_link_name)?.as_str().filter(|s| !s.trim().is_empty())
    }

    /// The next poll's query: each `triggerConfig` value evaluated with `triggerBody()` =
    /// `last_body` (and the rest of `scope`); empty values are left out.
    pub fn next_query(
        &self,
        last_body: &Value,
        scope: &PolicyScope,
    ) -> Result<Vec<(String, String)>, PolicyError> {
        let scope = PolicyScope { trigger_body: Some(last_body.clone()), ..scope.clone() };
        let mut query = Vec::new();
        for (name, template) in &self.queries {
            let value = template.evaluate(&scope).map_err(|e| PolicyError::Failed {
                policy: "pollingtrigger".into(),
                reason: format!("triggerConfig `{name}`: {e}"),
            })?;
            let text = patchbay_expr::to_text(&value);
            if !text.is_empty() {
                query.push((name.clone(), text));
            }
        }
        Ok(query)
    }
}

/// `triggerConfig` as an object (also when written as a string of JSON).
fn trigger_config(params: &Params) -> Result<Map<String, Value>, PolicyError> {
    let bad =
        |reason: &str| PolicyError::BadParameter { name: "triggerConfig".into(), reason: reason.into() };
    match params.value("triggerConfig") {
        None => Err(PolicyError::MissingParameter("triggerConfig".into())),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(bad("the text is not a JSON object")),
        },
        Some(_) => Err(bad("it is not an object")),
    }
}

/// The polling configuration of an operation, from its first `pollingtrigger` instance.
pub fn polling_trigger_config(
    connector: &Connector,
    operation_id: &str,
) -> Option<Result<PollingTriggerConfig, PolicyError>> {
    let instance = connector
        .policies
        .iter()
        .find(|p| p.template() == Some(PolicyTemplate::PollingTrigger) && p.applies_to(operation_id))?;
    Some(PollingTriggerConfig::from_params(&Params::new(instance)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::params;
    use serde_json::json;

    fn config(trigger_config: Value, data_path: &str) -> PollingTriggerConfig {
        let p = params(
            "pollingtrigger",
            &[("triggerConfig", trigger_config), ("triggerDataPath", json!(data_path))],
        );
        PollingTriggerConfig::from_params(&p).unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn facebook_newest_first() {
        let c = config(json!({"since": "@{triggerBody().data[0].created_time}"}), "@triggerBody().data");
        let body = json!({"data": [
            {"id": "p2", "created_time": "2024-05-02T10:00:00+0000"},
            {"id": "p1", "created_time": "2024-05-01T10:00:00+0000"}
        ], "paging": {"next": "https://graph.facebook.com/x?after=y"}});
        assert_eq!(c.items(&body).len(), 2);
        assert_eq!(c.items(&body)[0]["id"], json!("p2"));
        let q = c.next_query(&body, &PolicyScope::default()).unwrap();
        assert_eq!(q, pairs(&[("since", "2024-05-02T10:00:00+0000")]));
        // An empty page: no items, and `since` is left out rather than sent empty.
        let empty = json!({"data": []});
        assert!(c.items(&empty).is_empty());
        assert_eq!(c.next_query(&empty, &PolicyScope::default()).unwrap(), vec![]);
        assert_eq!(c.next_link_name(), DEFAULT_NEXT_LINK);
    }

    #[test]
    fn graph_security_filter_and_constants() {
        let c = config(
            json!({"$filter": "lastModifiedDateTime gt @{triggerBody().value[0].lastModifiedDateTime}",
                   "per_page": "1", "limit": 50}),
            "@triggerBody().value",
        );
        let body = json!({"value": [{"lastModifiedDateTime": "2024-01-01T00:00:00Z"}],
                          "@odata.nextLink": "https://graph.microsoft.com/v1.0/security/alerts?$skip=1"});
        let q = c.next_query(&body, &PolicyScope::default()).unwrap();
        assert_eq!(
            q,
            pairs(&[
                ("$filter", "lastModifiedDateTime gt 2024-01-01T00:00:00Z"),
                ("per_page", "1"),
                ("limit", "50")
            ])
        );
        assert_eq!(c.next_link(&body), Some("https://graph.microsoft.com/v1.0/security/alerts?$skip=1"));
        assert_eq!(c.query_names().collect::<Vec<_>>(), ["$filter", "per_page", "limit"]);
    }

    #[test]
    fn huddle_and_connection_parameters() {
        let c = config(
            json!({"after": "@{triggerBody().files[0].created}", "space": "@connectionParameters('space')",
                   "x-ms-triggerConfig-nextLink": "links.next"}),
            "@triggerBody().files",
        );
        let mut scope = PolicyScope::default();
        scope.connection.insert("space".into(), json!("s1"));
        let body = json!({"files": [{"created": "2024-03-01"}], "links.next": "https://h.example/p2"});
        let q = c.next_query(&body, &scope).unwrap();
        assert_eq!(q, pairs(&[("after", "2024-03-01"), ("space", "s1")]));
        assert_eq!(c.next_link_name(), "links.next");
        assert_eq!(c.next_link(&body), Some("https://h.example/p2"));
    }

    #[test]
    fn items_of_odd_bodies() {
        let c = config(json!({}), "@triggerBody().results");
        assert!(c.items(&json!({})).is_empty());
        assert!(c.items(&json!({"results": null})).is_empty());
        assert_eq!(c.items(&json!({"results": {"id": 1}})), vec![json!({"id": 1})]);
        let whole =
            PollingTriggerConfig::from_params(&params("pollingtrigger", &[("triggerConfig", json!({}))]))
                .unwrap();
        assert_eq!(whole.items(&json!([1, 2])), vec![json!(1), json!(2)]);
    }

    #[test]
    fn config_as_text_and_bad_configs() {
        let c = config(json!("{\"since\": \"@{triggerBody().t}\"}"), "@triggerBody().data");
        assert_eq!(
            c.next_query(&json!({"t": 5}), &PolicyScope::default()).unwrap(),
            pairs(&[("since", "5")])
        );
        for bad in [json!("not json"), json!([1]), json!(3)] {
            let p = params("pollingtrigger", &[("triggerConfig", bad)]);
            assert!(matches!(PollingTriggerConfig::from_params(&p), Err(PolicyError::BadParameter { .. })));
        }
        let p = params("pollingtrigger", &[("triggerDataPath", json!("@triggerBody().x"))]);
        assert!(matches!(PollingTriggerConfig::from_params(&p), Err(PolicyError::MissingParameter(_))));
        let p = params("pollingtrigger", &[("triggerConfig", json!({})), ("triggerDataPath", json!("data"))]);
        assert!(matches!(PollingTriggerConfig::from_params(&p), Err(PolicyError::BadParameter { .. })));
    }
}
