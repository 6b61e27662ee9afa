//! The state a polling trigger carries from one poll to the next (spec §5.2.2): the `Location`
//! the backend named, and the query the `pollingtrigger` policy computed from the last items.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A polling trigger's state between polls; the default is a fresh trigger's (first poll).
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
pub struct PollState {
    /// The absolute URL the next poll GETs (the last `Location`), if the backend named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Query parameters of the next poll (from `pollingtrigger`'s `triggerConfig`), set over the
    /// trigger's inputs.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub query: Map<String, Value>,
    /// Whether a `pollingtrigger` baseline was taken (the first successful poll fires nothing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baselined: bool,
}

impl PollState {
    /// Reads stored state; `Null` or anything unreadable is a fresh state.
    pub fn from_json(value: &Value) -> PollState {
        PollState::deserialize(value).unwrap_or_default()
    }

    /// The state as JSON for storage (empty parts left out; a fresh state is `{}`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The query as `(name, text)` pairs, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query.iter().map(|(k, v)| (k.clone(), crate::bind::to_text(v))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_leaves_empty_parts_out() {
        assert_eq!(PollState::default().to_json(), json!({}));
        let state = PollState {
            location: Some("https://api.example/poll?since=4".into()),
            query: json!({"since": "4"}).as_object().cloned().unwrap(),
            baselined: true,
        };
        let stored = state.to_json();
        assert_eq!(
            stored,
            json!({"location": "https://api.example/poll?since=4", "query": {"since": "4"}, "baselined": true})
        );
        assert_eq!(PollState::from_json(&stored), state);
        assert_eq!(state.query_pairs(), vec![("since".to_string(), "4".to_string())]);
    }

    #[test]
    fn null_and_garbage_read_as_a_fresh_state() {
        for stored in
            [Value::Null, json!(3), json!("x"), json!([1]), json!({"location": 5}), json!({"query": []})]
        {
            assert_eq!(PollState::from_json(&stored), PollState::default(), "{stored}");
        }
        assert_eq!(
            PollState::from_json(&json!({"location": "u", "other": 1})).location.as_deref(),
            Some("u")
        );
    }
}
