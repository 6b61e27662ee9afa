//! `apiProperties.json` ↔ the model: branding, connection parameters, policies, script operations.

use crate::diag::escape_segment;
use crate::fields::{Ctx, Fields, Out};
use crate::model::{
    ConnectionParameter, ConnectionParameterType, Connector, Constraints, IdentityProvider, OAuthSettings,
    OPERATION_NAME_KEY, Object, POLICY_SECTION_KEY, ParameterSet, ParameterSets, PolicyInstance,
    PolicySection, TEMPLATE_PARAMETER_PREFIX, UiDefinition,
};
use serde_json::Value;

/// Reads `apiProperties.json` into `c`; returns `scriptOperations` (kept on the script when there is one).
pub fn read_properties(document: Value, c: &mut Connector, ctx: &mut Ctx) -> Vec<String> {
    let mut root = Fields::new(document, String::new(), ctx);
    let properties = root.value("properties").unwrap_or(Value::Null);
    c.properties_root_extra = root.finish();
    let mut f = Fields::new(properties, "/properties".to_string(), ctx);
    c.identity.brand_color = f.string("iconBrandColor");
    c.capabilities = f.strings("capabilities");
    c.identity.publisher = f.string("publisher");
    c.identity.stack_owner = f.string("stackOwner");
    if let Some(params) = f.object("connectionParameters") {
        let pointer = f.child("connectionParameters");
        c.security.connection_parameters = read_connection_parameters(params, &pointer, f.ctx());
    }
    if let Some(sets) = f.value("connectionParameterSets") {
        let pointer = f.child("connectionParameterSets");
        c.security.parameter_sets = Some(read_parameter_sets(sets, pointer, f.ctx()));
    }
    if let Some(list) = f.array("policyTemplateInstances") {
        let base = f.child("policyTemplateInstances");
        c.policies = list
            .into_iter()
            .enumerate()
            .map(|(i, v)| read_policy(v, format!("{base}/{i}"), f.ctx()))
            .collect();
    }
    let script_operations = f.strings("scriptOperations");
    c.properties_extra = f.finish();
    script_operations
}

fn read_connection_parameters(params: Object, base: &str, ctx: &mut Ctx) -> Vec<ConnectionParameter> {
    params
        .into_iter()
        .map(|(name, v)| {
            let pointer = format!("{base}/{}", escape_segment(&name));
            read_connection_parameter(name, v, pointer, ctx)
        })
        .collect()
}

fn read_connection_parameter(
    name: String,
    value: Value,
    pointer: String,
    ctx: &mut Ctx,
) -> ConnectionParameter {
    let mut f = Fields::new(value, pointer, ctx);
    let kind = f.string("type").map(|t| ConnectionParameterType::parse(&t));
    if let Some(ConnectionParameterType::Other(t)) = &kind {
        let pointer = f.child("type");
        f.ctx().emit("PB0805", pointer, format!("connection parameter type `{t}` is not a known type"));
    }
    let oauth = f.value("oAuthSettings").map(|v| {
        let pointer = f.child("oAuthSettings");
        read_oauth(v, pointer, f.ctx())
    });
    ConnectionParameter {
        name,
        kind,
        default_value: f.value("defaultValue"),
        allowed_values: f.array("allowedValues").unwrap_or_default(),
        ui: read_ui(&mut f),
        oauth,
        extra: f.finish(),
    }
}

fn read_ui(f: &mut Fields) -> Option<UiDefinition> {
    let value = f.value("uiDefinition")?;
    let pointer = f.child("uiDefinition");
    let mut u = Fields::new(value, pointer, f.ctx());
    let constraints = u.value("constraints").map(|v| {
        let pointer = u.child("constraints");
        let mut c = Fields::new(v, pointer, u.ctx());
        Constraints {
            required: c.bool("required"),
            clear_text: c.bool("clearText"),
            hidden: c.bool("hidden"),
            allowed_values: c.array("allowedValues").unwrap_or_default(),
            capability: c.strings("capability"),
            dependencies: c.value("dependencies"),
            extra: c.finish(),
        }
    });
    Some(UiDefinition {
        display_name: u.string("displayName"),
        description: u.string("description"),
        tooltip: u.string("tooltip"),
        constraints,
        extra: u.finish(),
    })
}

fn read_oauth(value: Value, pointer: String, ctx: &mut Ctx) -> OAuthSettings {
    let mut f = Fields::new(value, pointer, ctx);
    let provider = f.string("identityProvider").unwrap_or_default();
    let identity_provider = IdentityProvider::parse(&provider);
    if matches!(&identity_provider, IdentityProvider::Named(_)) {
        let pointer = f.child("identityProvider");
        f.ctx().emit(
            "PB0802",
            pointer,
            format!("identity provider `{provider}` is used with oauth2 semantics"),
        );
    }
    OAuthSettings {
        identity_provider,
        client_id: f.string("clientId"),
        client_secret: f.string("clientSecret"),
        scopes: f.strings("scopes"),
        redirect_mode: f.string("redirectMode"),
        redirect_url: f.string("redirectUrl"),
        properties: f.object("properties").unwrap_or_default(),
        custom_parameters: f.object("customParameters").unwrap_or_default(),
        extra: f.finish(),
    }
}

fn read_parameter_sets(value: Value, pointer: String, ctx: &mut Ctx) -> ParameterSets {
    let mut f = Fields::new(value, pointer, ctx);
    let ui = read_ui(&mut f);
    let base = f.child("values");
    let values = f.array("values").unwrap_or_default();
    let values = values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let mut s = Fields::new(v, format!("{base}/{i}"), f.ctx());
            let name = s.string("name").unwrap_or_default();
            let ui = read_ui(&mut s);
            let pointer = s.child("parameters");
            let parameters = s.object("parameters").unwrap_or_default();
            let parameters = read_connection_parameters(parameters, &pointer, s.ctx());
            ParameterSet { name, ui, parameters, extra: s.finish() }
        })
        .collect();
    ParameterSets { ui, values, extra: f.finish() }
}

fn read_policy(value: Value, pointer: String, ctx: &mut Ctx) -> PolicyInstance {
    let mut f = Fields::new(value, pointer, ctx);
    let template_id = f.string("templateId").unwrap_or_default();
    let title = f.string("title");
    let mut operations = Vec::new();
    let mut section = None;
    let mut parameters = Object::new();
    let mut parameters_extra = Object::new();
    for (key, v) in f.object("parameters").unwrap_or_default() {
        match (key.as_str(), &v) {
            (OPERATION_NAME_KEY, Value::Array(ids)) if ids.iter().all(Value::is_string) => {
                operations = ids.iter().filter_map(Value::as_str).map(str::to_string).collect();
            }
            (POLICY_SECTION_KEY, Value::String(s)) => section = Some(PolicySection::parse(s)),
            _ => match key.strip_prefix(TEMPLATE_PARAMETER_PREFIX) {
                Some(name) => {
                    parameters.insert(name.to_string(), v);
                }
                None => {
                    parameters_extra.insert(key, v);
                }
            },
        }
    }
    PolicyInstance {
        template_id,
        title,
        operations,
        section,
        parameters,
        parameters_extra,
        extra: f.finish(),
    }
}

/// Writes `apiProperties.json`.
pub fn write_properties(c: &Connector) -> Value {
    let script_operations = c.script.as_ref().map(|s| s.operations.clone()).unwrap_or_default();
    let policies: Vec<Value> = c.policies.iter().map(write_policy).collect();
    let properties = Out::new()
        .string("iconBrandColor", &c.identity.brand_color)
        .strings("capabilities", &c.capabilities)
        .string("publisher", &c.identity.publisher)
        .string("stackOwner", &c.identity.stack_owner)
        .map("connectionParameters", &write_connection_parameters(&c.security.connection_parameters))
        .value("connectionParameterSets", c.security.parameter_sets.as_ref().map(write_parameter_sets))
        .value("policyTemplateInstances", (!policies.is_empty()).then_some(Value::Array(policies)))
        .strings("scriptOperations", &script_operations)
        .extra(&c.properties_extra)
        .build();
    Out::new().value("properties", Some(properties)).extra(&c.properties_root_extra).build()
}

fn write_connection_parameters(params: &[ConnectionParameter]) -> Object {
    params.iter().map(|p| (p.name.clone(), write_connection_parameter(p))).collect()
}

fn write_connection_parameter(p: &ConnectionParameter) -> Value {
    Out::new()
        .string("type", &p.kind.as_ref().map(|k| k.as_str().to_string()))
        .value("oAuthSettings", p.oauth.as_ref().map(write_oauth))
        .value("defaultValue", p.default_value.clone())
        .value(
            "allowedValues",
            (!p.allowed_values.is_empty()).then(|| Value::Array(p.allowed_values.clone())),
        )
        .value("uiDefinition", p.ui.as_ref().map(write_ui))
        .extra(&p.extra)
        .build()
}

fn write_ui(u: &UiDefinition) -> Value {
    let constraints = u.constraints.as_ref().map(|c| {
        let as_text = |b: Option<bool>| b.map(|b| b.to_string());
        Out::new()
            .string("required", &as_text(c.required))
            .bool("clearText", c.clear_text)
            .string("hidden", &as_text(c.hidden))
            .value(
                "allowedValues",
                (!c.allowed_values.is_empty()).then(|| Value::Array(c.allowed_values.clone())),
            )
            .strings("capability", &c.capability)
            .value("dependencies", c.dependencies.clone())
            .extra(&c.extra)
            .build()
    });
    Out::new()
        .string("displayName", &u.display_name)
        .string("description", &u.description)
        .string("tooltip", &u.tooltip)
        .value("constraints", constraints)
        .extra(&u.extra)
        .build()
}

fn write_oauth(o: &OAuthSettings) -> Value {
    Out::new()
        .string("identityProvider", &Some(o.identity_provider.as_str().to_string()))
        .string("clientId", &o.client_id)
        .string("clientSecret", &o.client_secret)
        .strings("scopes", &o.scopes)
        .string("redirectMode", &o.redirect_mode)
        .string("redirectUrl", &o.redirect_url)
        .map("properties", &o.properties)
        .map("customParameters", &o.custom_parameters)
        .extra(&o.extra)
        .build()
}

fn write_parameter_sets(s: &ParameterSets) -> Value {
    let values: Vec<Value> = s
        .values
        .iter()
        .map(|set| {
            Out::new()
                .string("name", &Some(set.name.clone()))
                .value("uiDefinition", set.ui.as_ref().map(write_ui))
                .value("parameters", Some(Value::Object(write_connection_parameters(&set.parameters))))
                .extra(&set.extra)
                .build()
        })
        .collect();
    Out::new()
        .value("uiDefinition", s.ui.as_ref().map(write_ui))
        .value("values", Some(Value::Array(values)))
        .extra(&s.extra)
        .build()
}

fn write_policy(p: &PolicyInstance) -> Value {
    let mut parameters = Object::new();
    if !p.operations.is_empty() {
        parameters
            .insert(OPERATION_NAME_KEY.into(), p.operations.iter().cloned().map(Value::String).collect());
    }
    if let Some(section) = &p.section {
        parameters.insert(POLICY_SECTION_KEY.into(), Value::String(section.as_str().to_string()));
    }
    for (k, v) in &p.parameters {
        parameters.insert(format!("{TEMPLATE_PARAMETER_PREFIX}{k}"), v.clone());
    }
    for (k, v) in &p.parameters_extra {
        parameters.insert(k.clone(), v.clone());
    }
    Out::new()
        .string("templateId", &Some(p.template_id.clone()))
        .string("title", &p.title)
        .value("parameters", Some(Value::Object(parameters)))
        .extra(&p.extra)
        .build()
}
