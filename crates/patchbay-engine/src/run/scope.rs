//! The workflow functions expressions call: `triggerBody`, `body`, `variables`, `items`, `result`, ….

use chrono::{DateTime, SecondsFormat, Utc};
use patchbay_expr::{EvalError, EvalErrorKind, Scope};
use serde_json::{Value, json};

use super::exec::{Frame, Run, Stored, lock};

/// The scope of one evaluation: the run, the current frame and (in `Select`/`Query`) the item.
pub struct EvalScope<'s> {
    pub run: &'s Run<'s>,
    pub frame: &'s Frame,
    pub item: Option<&'s Value>,
}

fn time(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn name_arg(function: &str, args: &[Value]) -> Result<String, EvalError> {
    match args {
        [Value::String(s)] => Ok(s.clone()),
        _ => Err(EvalError::new(EvalErrorKind::ArgumentCount, format!("`{function}` takes one name"))),
    }
}

fn no_args(function: &str, args: &[Value]) -> Result<(), EvalError> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(EvalError::new(EvalErrorKind::ArgumentCount, format!("`{function}` takes no arguments")))
    }
}

/// The `actions('A')` object of a stored result.
fn action_object(name: &str, s: &Stored) -> Value {
    json!({
        "name": name,
        "status": s.status.as_str(),
        "code": s.code.map_or_else(|| s.status.as_str().to_string(), |c| c.to_string()),
        "inputs": s.inputs,
        "outputs": s.outputs,
        "error": s.error,
        "startTime": time(s.started),
        "endTime": time(s.ended),
    })
}

impl EvalScope<'_> {
    fn stored(&self, function: &str, args: &[Value]) -> Result<(String, Stored), EvalError> {
        let name = name_arg(function, args)?;
        let key = name.replace(' ', "_");
        match self.frame.lookup(&key) {
            Some(s) => Ok((key, s)),
            None => Err(EvalError::scope(format!("the action '{name}' has not run (or does not exist)"))),
        }
    }

    fn trigger_object(&self) -> Value {
        let t = &self.run.trigger;
        let name = self.run.def.triggers.first().map(|t| t.name.clone()).unwrap_or_else(|| "manual".into());
        json!({
            "name": name,
            "inputs": Value::Null,
            "outputs": {"headers": t.headers, "body": t.body},
            "startTime": time(self.run.trigger_started),
            "endTime": time(self.run.trigger_started),
            "status": "Succeeded",
            "code": "OK",
        })
    }

    fn loop_frame(&self, name: Option<&str>) -> Result<&Frame, EvalError> {
        let mut frame = Some(self.frame);
        while let Some(f) = frame {
            if let Some(loop_name) = &f.loop_name
                && name.is_none_or(|n| n.replace(' ', "_") == *loop_name)
            {
                return Ok(f);
            }
            frame = f.parent.as_deref();
        }
        Err(EvalError::scope(match name {
            Some(n) => format!("'{n}' is not an enclosing loop"),
            None => "`item()` is used outside a loop".to_string(),
        }))
    }

    fn result(&self, args: &[Value]) -> Result<Value, EvalError> {
        let name = name_arg("result", args)?.replace(' ', "_");
        let Some(children) = self.run.def.children.get(&name) else {
            return Err(EvalError::scope(format!("'{name}' is not a scope, loop or condition")));
        };
        let results = lock(&self.run.state);
        let mut out = Vec::new();
        for child in children {
            // The latest record of each child (its last iteration in a loop).
            if let Some(r) = results.records.iter().rev().find(|r| &r.name == child) {
                out.push(json!({
                    "name": r.name, "status": r.status.as_str(), "inputs": r.inputs, "outputs": r.outputs,
                    "error": r.error, "startTime": time(r.started), "endTime": time(r.ended),
                    "code": r.error.as_ref().and_then(|e| e.get("code")).cloned().unwrap_or(json!(r.status.as_str())),
                }));
            }
        }
        Ok(Value::Array(out))
    }

    fn variable(&self, args: &[Value]) -> Result<Value, EvalError> {
        let name = name_arg("variables", args)?;
        let state = lock(&self.run.state);
        state
            .variables
            .get(&name)
            .or_else(|| state.variables.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name)).map(|(_, v)| v))
            .cloned()
            .ok_or_else(|| EvalError::scope(format!("the variable '{name}' is not initialized")))
    }

    fn parameter(&self, args: &[Value]) -> Result<Value, EvalError> {
        let name = name_arg("parameters", args)?;
        self.run
            .parameters
            .get(&name)
            .cloned()
            .ok_or_else(|| EvalError::scope(format!("the parameter '{name}' is not defined")))
    }

    fn workflow(&self) -> Value {
        json!({
            "name": self.run.env.flow_name(),
            "run": {"name": self.run.run_id, "id": self.run.run_id},
        })
    }
}

impl Scope for EvalScope<'_> {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        let t = &self.run.trigger;
        Some(match name {
            "trigger" => no_args(name, args).map(|()| self.trigger_object()),
            "triggerBody" => no_args(name, args).map(|()| t.body.clone()),
            "triggerOutputs" => no_args(name, args).map(|()| json!({"headers": t.headers, "body": t.body})),
            "body" | "actionBody" => self.stored(name, args).map(|(_, s)| s.body),
            "outputs" | "actionOutputs" => self.stored(name, args).map(|(_, s)| s.outputs),
            "actions" => self.stored(name, args).map(|(n, s)| action_object(&n, &s)),
            "items" => name_arg(name, args).and_then(|n| self.loop_frame(Some(&n)).map(|f| f.item.clone())),
            "item" => match self.item {
                Some(item) => no_args(name, args).map(|()| item.clone()),
                None => no_args(name, args).and_then(|()| self.loop_frame(None).map(|f| f.item.clone())),
            },
            "iterationIndexes" => {
                name_arg(name, args).and_then(|n| self.loop_frame(Some(&n)).map(|f| json!(f.index)))
            }
            "variables" => self.variable(args),
            "parameters" => self.parameter(args),
            "workflow" => no_args(name, args).map(|()| self.workflow()),
            "result" => self.result(args),
            "listCallbackUrl" => no_args(name, args).and_then(|()| {
                self.run
                    .env
                    .callback_url()
                    .map(Value::String)
                    .ok_or_else(|| EvalError::scope("this run has no callback URL"))
            }),
            _ => return None,
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.run.env.now()
    }
}
