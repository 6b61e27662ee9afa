//! What the connector routes answer, as typed views: the handlers serialize these, and the API
//! description takes their schemas from the same types.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use patchbay_store::{Access, Connector, ConnectorRevision, RevisionInfo};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A connector record.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorView {
    /// The connector's id.
    pub id: String,
    /// Its name, unique in its environment; it never changes.
    pub name: String,
    /// The user who created it.
    pub owner_id: String,
    /// Its environment.
    pub environment_id: String,
    /// The number of its current (latest) revision, from 1.
    pub current_revision: i64,
    /// When it was published to the catalogue (epoch ms), if it is.
    pub published_at: Option<i64>,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Time of the latest revision (epoch ms).
    pub updated_at: i64,
}

impl From<&Connector> for ConnectorView {
    fn from(connector: &Connector) -> Self {
        ConnectorView {
            id: connector.id.as_str().to_owned(),
            name: connector.name.clone(),
            owner_id: connector.owner_id.as_str().to_owned(),
            environment_id: connector.environment_id.as_str().to_owned(),
            current_revision: connector.current_revision,
            published_at: connector.published_at,
            created_at: connector.created_at,
            updated_at: connector.updated_at,
        }
    }
}

/// A connector just stored (created, or updated to a new revision), with the package's warnings.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorSaved {
    /// The connector record.
    #[serde(flatten)]
    pub connector: ConnectorView,
    /// The new revision's number (on update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// The validator's warnings and notes about the package (diagnostic objects).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Value>,
}

/// One operation of a connector's current revision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationView {
    /// The operation id.
    pub id: Option<String>,
    /// `action` or `trigger`.
    pub kind: &'static str,
    /// For triggers: `polling` or `webhook`.
    pub trigger: Option<&'static str>,
    /// The HTTP method, upper case.
    pub method: String,
    /// The path template.
    pub path: String,
    /// The summary.
    pub summary: Option<String>,
}

/// A connector with the caller's access and its current revision's operations.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorDetails {
    /// The connector record.
    #[serde(flatten)]
    pub connector: ConnectorView,
    /// The caller's access: `owner`, `can_edit` or `can_use`.
    #[schema(value_type = String, example = "owner")]
    pub access: Access,
    /// Whether an OAuth client secret is stored for the connector (never its value).
    pub has_client_secret: bool,
    /// The operations of the current revision.
    pub operations: Vec<OperationView>,
}

/// A revision's number, author and time.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionInfoView {
    /// The revision number, from 1.
    pub revision: i64,
    /// The user who saved it.
    pub author_id: String,
    /// When it was saved (epoch ms).
    pub created_at: i64,
}

impl From<&RevisionInfo> for RevisionInfoView {
    fn from(info: &RevisionInfo) -> Self {
        RevisionInfoView {
            revision: info.revision,
            author_id: info.author_id.as_str().to_owned(),
            created_at: info.created_at,
        }
    }
}

/// A package's files as uploaded.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackageFiles {
    /// `apiDefinition.swagger.json`, as text.
    pub api_definition: String,
    /// `apiProperties.json`, as text.
    pub api_properties: String,
    /// `script.csx`, as text.
    pub script: Option<String>,
    /// `icon.png`, as base64.
    pub icon: Option<String>,
}

/// One revision with its files (never the client secret, which is not part of a package).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionView {
    /// Number, author and time.
    #[serde(flatten)]
    pub info: RevisionInfoView,
    /// The connector.
    pub connector_id: String,
    /// The files.
    pub files: PackageFiles,
}

impl From<&ConnectorRevision> for RevisionView {
    fn from(revision: &ConnectorRevision) -> Self {
        let package = &revision.package;
        RevisionView {
            info: RevisionInfoView::from(&revision.info),
            connector_id: revision.connector_id.as_str().to_owned(),
            files: PackageFiles {
                api_definition: package.api_definition.clone(),
                api_properties: package.api_properties.clone(),
                script: package.script.clone(),
                icon: package.icon.as_ref().map(|bytes| STANDARD.encode(bytes)),
            },
        }
    }
}
