//! `setconnectionstatustounauthenticated` (spec §4.16): when the backend answers with `statusCode`
//! (typically 401), report that the connection needs a new sign-in
//! ([`ResponseFlags::unauthenticated`](super::ResponseFlags)). Runs in the response and failure
//! sections; `statusCode` may be an integer or a numeric string.

use super::{Behavior, Params, PolicyError, ResponseStage};
use serde_json::Value;

struct SetConnectionStatus {
    status: u16,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    let value =
        params.value("statusCode").ok_or_else(|| PolicyError::MissingParameter("statusCode".into()))?;
    let code = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    let status = code
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| http::StatusCode::from_u16(*c).is_ok())
        .ok_or_else(|| PolicyError::BadParameter {
            name: "statusCode".into(),
            reason: format!("`{value}` is not an HTTP status code"),
        })?;
    Ok(Box::new(SetConnectionStatus { status }))
}

impl Behavior for SetConnectionStatus {
    fn on_response(&self, stage: &mut ResponseStage<'_>) -> Result<(), PolicyError> {
        if stage.status.as_u16() == self.status {
            stage.flags.unauthenticated = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{params, response};
    use crate::response::ResponseBody;
    use serde_json::json;

    fn flagged(code: Value, status: u16) -> bool {
        let p = build(&params("setconnectionstatustounauthenticated", &[("statusCode", code)])).unwrap();
        response(p.as_ref(), status, ResponseBody::Empty).unwrap().flags.unauthenticated
    }

    #[test]
    fn flags_only_the_configured_status() {
        assert!(flagged(json!(401), 401));
        assert!(!flagged(json!(401), 403));
        assert!(!flagged(json!(401), 200));
        assert!(flagged(json!(" 403 "), 403));
    }

    #[test]
    fn the_body_and_headers_are_untouched() {
        let p =
            build(&params("setconnectionstatustounauthenticated", &[("statusCode", json!(401))])).unwrap();
        let out = response(p.as_ref(), 401, ResponseBody::Json(json!({"error": "expired"}))).unwrap();
        assert_eq!(out.body, ResponseBody::Json(json!({"error": "expired"})));
        assert!(out.headers.is_empty());
    }

    #[test]
    fn bad_status_codes_are_rejected() {
        for bad in [json!("abc"), json!(-1), json!(70000), json!(42), json!(4.5), json!(true)] {
            let p = params("setconnectionstatustounauthenticated", &[("statusCode", bad.clone())]);
            assert!(matches!(build(&p).err(), Some(PolicyError::BadParameter { .. })), "{bad}");
        }
        let p = params("setconnectionstatustounauthenticated", &[]);
        assert_eq!(build(&p).err(), Some(PolicyError::MissingParameter("statusCode".into())));
    }
}
