//! What the loader accepts and rejects.

use patchbay_engine::{ActionKind, Definition, TriggerKind};
use serde_json::json;

fn diagnostics(doc: serde_json::Value) -> Vec<String> {
    match Definition::parse(&doc) {
        Ok(_) => panic!("expected a load error"),
        Err(e) => e.diagnostics.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn an_unsupported_action_type_is_rejected_with_its_name() {
    let d = diagnostics(json!({"triggers": {}, "actions": {
        "Ok": {"type": "Compose", "inputs": 1},
        "Mystery_step": {"type": "Table", "inputs": {}, "runAfter": {"Ok": ["Succeeded"]}}
    }}));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].contains("Mystery_step") && d[0].contains("`Table`"), "{d:?}");
}

#[test]
fn a_malformed_expression_names_the_action_and_the_column() {
    let doc = json!({"actions": {"Outer": {"type": "Scope", "actions": {
        "Broken": {"type": "Compose", "inputs": {"x": "@concat('a', )"}}
    }}}});
    let err = Definition::parse(&doc).unwrap_err();
    let d = &err.diagnostics[0];
    assert_eq!(d.name.as_deref(), Some("Broken"));
    assert_eq!(d.column, Some(14), "{d}");
    assert!(d.to_string().contains("/inputs/x") && d.to_string().contains("column 14"), "{d}");
}

#[test]
fn run_time_properties_statuses_and_graph_errors_are_rejected() {
    let d = diagnostics(json!({"actions": {
        "A": {"type": "Compose", "inputs": 1, "runtimeConfiguration": {"secureData": {"properties": ["inputs"]}}},
        "B": {"type": "Compose", "inputs": 1, "runAfter": {"A": ["Succeeded", "Done"]}},
        "C": {"type": "Compose", "inputs": 1, "runAfter": {"Nope": ["Succeeded"]}},
        "D": {"type": "Compose", "runAfter": {"E": ["Succeeded"]}},
        "E": {"type": "Compose", "runAfter": {"D": ["Succeeded"]}},
        "F": {"type": "Http", "inputs": {"uri": "x", "retryPolicy": {"type": "sometimes"}}},
        "G": {"type": "ApiConnection", "inputs": {}},
        "H": {"type": "If", "expression": {"maybe": [1, 2]}, "actions": {}}
    }}));
    let all = d.join("\n");
    for needle in [
        "action 'A': unsupported property `runtimeConfiguration`",
        "action 'B': unsupported `runAfter` status \"Done\"",
        "action 'C': `runAfter` names `Nope`",
        "action 'D': `runAfter` forms a cycle",
        "action 'E': `runAfter` forms a cycle",
        "action 'F': unsupported `retryPolicy`",
        "action 'G': type `ApiConnection`",
        "action 'H': /expression: unsupported condition operator `maybe`",
    ] {
        assert!(all.contains(needle), "missing `{needle}` in:\n{all}");
    }
}

#[test]
fn unsupported_triggers_and_response_without_request_are_rejected() {
    let d = diagnostics(json!({"triggers": {"t": {"type": "SlidingWindow"}}, "actions": {}}));
    assert!(d[0].contains("trigger 't': unsupported trigger type `SlidingWindow`"), "{d:?}");
    let d = diagnostics(
        json!({"triggers": {"t": {"type": "Recurrence", "recurrence": {"frequency": "Day", "interval": 1}}},
                               "actions": {"R": {"type": "Response", "inputs": {}}}}),
    );
    assert!(d[0].contains("action 'R'") && d[0].contains("`Request` trigger"), "{d:?}");
}

#[test]
fn power_automate_export_loads_with_connection_references() {
    let doc = json!({"properties": {
        "connectionReferences": {"shared_contoso": {"connection": {"connectionReferenceLogicalName": "cr_contoso"}}},
        "definition": {
            "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"$connections": {"defaultValue": {}, "type": "Object"}, "$authentication": {"defaultValue": {}, "type": "SecureObject"}},
            "triggers": {"When_new": {"type": "OpenApiConnection", "recurrence": {"interval": 3, "frequency": "Minute"},
                "splitOn": "@triggerOutputs()?['body/value']",
                "inputs": {"host": {"connectionName": "shared_contoso", "operationId": "OnNewOrUpdatedTasks", "apiId": "/x"},
                           "parameters": {"project": "alpha"}, "authentication": "@parameters('$authentication')"}}},
            "actions": {"Comment": {"type": "OpenApiConnection", "runAfter": {},
                "inputs": {"host": {"connection": {"referenceName": "shared_contoso"}, "operationId": "AddComment"},
                           "parameters": {"taskId": "@triggerOutputs()?['body/id']", "body/text": "Auto @{triggerBody()?['title']}"},
                           "retryPolicy": {"type": "exponential", "interval": "PT10S", "count": 5, "minimumInterval": "PT5S", "maximumInterval": "PT2M"}}}}
        }
    }});
    let def = Definition::parse(&doc).unwrap();
    assert!(
        matches!(&def.triggers[0].kind, TriggerKind::OpenApiConnection { operation_id, .. } if operation_id == "OnNewOrUpdatedTasks")
    );
    assert!(def.triggers[0].split_on.is_some());
    assert!(
        matches!(&def.actions.actions[0].kind, ActionKind::OpenApiConnection { connection, .. } if connection == "shared_contoso")
    );
    assert_eq!(def.connection_names(), vec!["shared_contoso".to_string()]);
    assert!(def.connection_references.contains_key("shared_contoso"));
    let retry = def.actions.actions[0].retry.clone().unwrap();
    assert_eq!(retry.delay(1), Some(std::time::Duration::from_secs(10)));
    assert_eq!(retry.delay(5), Some(std::time::Duration::from_secs(120)));
    assert_eq!(retry.delay(6), None);
}

#[test]
fn logic_apps_outer_parameters_override_defaults() {
    let doc = json!({"definition": {"parameters": {"p": {"type": "String", "defaultValue": "a"}}, "triggers": {}, "actions": {}},
                     "parameters": {"p": {"value": "b"}}});
    assert_eq!(Definition::parse(&doc).unwrap().parameters["p"], json!("b"));
    assert!(Definition::parse(&json!({"foo": 1})).is_err());
    assert!(Definition::from_text("{").is_err());
}
