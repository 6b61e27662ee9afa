//! A flow definition as a graph the page can draw with nested boxes: the trigger, then each scope's
//! actions in `runAfter` order (an action after everything it waits for), with the conditions of
//! each edge, and the branches of `If`, `Switch`, `Foreach`, `Until` and `Scope` indented below.

use serde_json::{Map, Value};

/// One box (or branch label) of the graph, at a nesting depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// How deep it is nested (0: top level).
    pub depth: usize,
    /// `trigger`, `action` or `branch` (a label such as "If yes").
    pub role: &'static str,
    /// The trigger's or action's name, or the branch's label.
    pub name: String,
    /// Its `type`.
    pub kind: String,
    /// The `runAfter` edges: `after A (Succeeded, Failed)`.
    pub after: Vec<String>,
}

/// The graph of a workflow `definition` (`{"triggers", "actions"}`, also inside a
/// `{"definition": …}` wrapper as exported flows have it), top to bottom.
pub fn nodes(definition: &Value) -> Vec<Node> {
    let definition = definition.get("definition").filter(|inner| inner.is_object()).unwrap_or(definition);
    let mut out = Vec::new();
    if let Some(triggers) = definition.get("triggers").and_then(Value::as_object) {
        for (name, trigger) in triggers {
            out.push(Node {
                depth: 0,
                role: "trigger",
                name: name.clone(),
                kind: kind_of(trigger),
                after: Vec::new(),
            });
        }
    }
    if let Some(actions) = definition.get("actions").and_then(Value::as_object) {
        scope(actions, 0, &mut out);
    }
    out
}

/// The actions of one scope, in `runAfter` order, with their branches.
fn scope(actions: &Map<String, Value>, depth: usize, out: &mut Vec<Node>) {
    for name in ordered(actions) {
        let action = &actions[name.as_str()];
        let after = action
            .get("runAfter")
            .and_then(Value::as_object)
            .map(|edges| {
                edges
                    .iter()
                    .map(|(before, statuses)| {
                        let statuses: Vec<&str> = statuses
                            .as_array()
                            .map(|all| all.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        format!(
                            "after {before} ({})",
                            if statuses.is_empty() { "Succeeded".to_owned() } else { statuses.join(", ") }
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Node { depth, role: "action", name: name.clone(), kind: kind_of(action), after });
        branches(action, depth + 1, out);
    }
}

/// The nested scopes of `action`: its own actions, `else`, the `cases` and `default` of a switch.
fn branches(action: &Value, depth: usize, out: &mut Vec<Node>) {
    let is_if = kind_of(action).eq_ignore_ascii_case("if");
    let mut branch = |label: String, actions: Option<&Map<String, Value>>| {
        if let Some(actions) = actions {
            out.push(Node { depth, role: "branch", name: label, kind: String::new(), after: Vec::new() });
            scope(actions, depth + 1, out);
        }
    };
    let own = action.get("actions").and_then(Value::as_object);
    branch(if is_if { "If yes".to_owned() } else { "Inside".to_owned() }, own);
    branch("If no".to_owned(), action.pointer("/else/actions").and_then(Value::as_object));
    if let Some(cases) = action.get("cases").and_then(Value::as_object) {
        for (case, body) in cases {
            let label = match body.get("case") {
                Some(value) => format!("Case {case} ({value})"),
                None => format!("Case {case}"),
            };
            branch(label, body.get("actions").and_then(Value::as_object));
        }
    }
    branch("Default".to_owned(), action.pointer("/default/actions").and_then(Value::as_object));
}

/// The names of `actions` so that each comes after every action it runs after (ties and cycles
/// in definition order).
fn ordered(actions: &Map<String, Value>) -> Vec<String> {
    let mut placed: Vec<String> = Vec::with_capacity(actions.len());
    let mut left: Vec<&String> = actions.keys().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|name| {
            let waits = actions[name.as_str()].get("runAfter").and_then(Value::as_object);
            waits.is_none_or(|edges| {
                edges.keys().all(|before| placed.contains(before) || !actions.contains_key(before))
            })
        });
        let next = left.remove(ready.unwrap_or(0));
        placed.push(next.clone());
    }
    placed
}

/// A trigger's or action's `type`.
fn kind_of(value: &Value) -> String {
    value.get("type").and_then(Value::as_str).unwrap_or("?").to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::nodes;

    #[test]
    fn actions_follow_what_they_run_after_and_branches_nest() {
        let definition = json!({
            "triggers": {"manual": {"type": "Request"}},
            "actions": {
                "Answer": {"type": "Response", "runAfter": {"Check": ["Succeeded", "Failed"]}},
                "Check": {"type": "If", "runAfter": {},
                    "actions": {"Yes": {"type": "Compose"}},
                    "else": {"actions": {"No": {"type": "Compose"}}}}
            }
        });
        let drawn: Vec<(usize, &str, String)> =
            nodes(&definition).into_iter().map(|node| (node.depth, node.role, node.name)).collect();
        assert_eq!(
            drawn,
            vec![
                (0, "trigger", "manual".to_owned()),
                (0, "action", "Check".to_owned()),
                (1, "branch", "If yes".to_owned()),
                (2, "action", "Yes".to_owned()),
                (1, "branch", "If no".to_owned()),
                (2, "action", "No".to_owned()),
                (0, "action", "Answer".to_owned()),
            ]
        );
        let answer = nodes(&definition).pop().expect("a node");
        assert_eq!(answer.after, vec!["after Check (Succeeded, Failed)".to_owned()]);
    }
}
