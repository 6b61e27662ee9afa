//! Who is calling: the bearer token, and what the caller may do with a connector.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use patchbay_store::people::token_hash;
use patchbay_store::{Access, ConnectorId, Resource, StoreError, User};

use crate::config_cache::Generation;
use crate::error::ApiError;
use crate::state::SharedState;

/// The authenticated caller, from `Authorization: Bearer <token>`; missing or unknown → 401. With
/// the configuration generation read to authenticate it, which the handler's cached reads use
/// ([`crate::config_cache`]).
#[derive(Debug, Clone)]
pub struct Caller(pub User, pub Generation);

impl FromRequestParts<SharedState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok());
        let token = header
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(ApiError::unauthorized)?;
        let generation = Generation(state.store.config_generation().await?);
        let authenticated = async {
            state.store.people().authenticate_token(token).await?.ok_or_else(ApiError::unauthorized)
        };
        let user =
            state.config_cache.callers.get_or_load(token_hash(token), generation.0, authenticated).await?;
        Ok(Caller(user, generation))
    }
}

/// What `caller` may do with connector `id`, at least `needed`: a connector the caller cannot see
/// is not found (its existence is not revealed); one seen with too weak an access is forbidden.
pub async fn connector_access(
    state: &SharedState,
    caller: &Caller,
    id: &ConnectorId,
    needed: Access,
) -> Result<Access, ApiError> {
    let access = match state.store.sharing().access(&caller.0.id, &Resource::Connector(id.clone())).await {
        Ok(access) => access,
        Err(StoreError::NotFound { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    match access {
        None => Err(ApiError::not_found("connector")),
        Some(access) if access < needed => Err(ApiError::forbidden(format!(
            "this needs {} access to the connector",
            match needed {
                Access::CanUse => "can_use",
                Access::CanEdit => "can_edit",
                Access::Owner => "owner",
            }
        ))),
        Some(access) => Ok(access),
    }
}

/// A record only its owner may see: `found` when `is_owner` says it is the caller's; a missing
/// record, or anyone else's, is not found as `what` (its existence is not revealed).
pub fn owned_by<T>(
    found: Result<T, StoreError>,
    is_owner: impl FnOnce(&T) -> bool,
    what: &str,
) -> Result<T, ApiError> {
    match found {
        Ok(record) if is_owner(&record) => Ok(record),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(ApiError::not_found(what)),
        Err(error) => Err(error.into()),
    }
}
