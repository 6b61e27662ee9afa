//! The one trait every template implements, and the stages it sees.

use super::scope::PolicyScope;
use crate::draft::HttpDraft;
use crate::response::ResponseBody;
use http::{HeaderMap, StatusCode};

/// Why a policy could not be built or run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// The template id is not in the catalogue.
    #[error("policy template `{0}` is not known")]
    Unknown(String),
    /// The template is known but not implemented yet.
    #[error("policy template `{0}` is not implemented yet")]
    NotImplemented(String),
    /// A required parameter is missing.
    #[error("policy parameter `{0}` is missing")]
    MissingParameter(String),
    /// A parameter's value does not parse.
    #[error("policy parameter `{name}`: {reason}")]
    BadParameter {
        /// The parameter.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An expression failed while running.
    #[error("policy `{policy}` failed: {reason}")]
    Failed {
        /// The template id.
        policy: String,
        /// What went wrong.
        reason: String,
    },
}

/// What a request-section policy may read and change.
pub struct RequestStage<'a> {
    /// The request being built.
    pub draft: &'a mut HttpDraft,
    /// Values expressions can read (a snapshot taken before this policy ran).
    pub scope: &'a PolicyScope,
    /// The operation's path parameters as the caller gave them (for `{param}` in a new path).
    pub path_values: &'a [(String, String)],
}

/// A call a policy needs made before the main request (`setvaluefromurl`): sent through the same
/// connection (its base URL, security and transport).
#[derive(Debug, Clone, PartialEq)]
pub struct SideRequest {
    /// The method.
    pub method: http::Method,
    /// The path (and optional query) relative to the connector's base URL.
    pub path_and_query: String,
}

/// What response policies report back to the pipeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseFlags {
    /// Mark the connection as needing a new sign-in (`setconnectionstatustounauthenticated`).
    pub unauthenticated: bool,
}

/// What a response-section policy may read and change.
pub struct ResponseStage<'a> {
    /// The backend's status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: &'a mut HeaderMap,
    /// The decoded body.
    pub body: &'a mut ResponseBody,
    /// Values expressions can read (`body()` is the response body).
    pub scope: &'a PolicyScope,
    /// What the policy reports back.
    pub flags: &'a mut ResponseFlags,
}

/// One template's behaviour: hooks for the sections it supports; the rest do nothing.
pub trait Behavior: Send + Sync {
    /// Runs in the request section.
    fn on_request(&self, stage: &mut RequestStage<'_>) -> Result<(), PolicyError> {
        let _ = stage;
        Ok(())
    }

    /// A call to make before [`Behavior::on_side_response`] (only `setvaluefromurl` needs one).
    fn side_request(&self, stage: &RequestStage<'_>) -> Result<Option<SideRequest>, PolicyError> {
        let _ = stage;
        Ok(None)
    }

    /// Receives the side call's decoded response body, in the request section.
    fn on_side_response(
        &self,
        stage: &mut RequestStage<'_>,
        body: &serde_json::Value,
    ) -> Result<(), PolicyError> {
        let _ = (stage, body);
        Ok(())
    }

    /// Runs in the response (or failure) section.
    fn on_response(&self, stage: &mut ResponseStage<'_>) -> Result<(), PolicyError> {
        let _ = stage;
        Ok(())
    }
}
