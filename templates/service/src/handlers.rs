//! What each endpoint does. Handlers validate, call the store and reply;
//! every failure is an [`ApiError`] that the top-level recover turns into
//! the shared JSON error body.

use serde::Deserialize;
use shared_lib::error::ApiError;
use shared_lib::validate::bounded_text;
use warp::http::StatusCode;
use warp::{Rejection, Reply};

use crate::AppState;
use crate::error::{ServiceError, codes};

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The body of `POST /api/items`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItem {
    /// Its name, 1 to 100 characters.
    pub name: String,
}

/// `POST /api/items`: 201 with the new item, once it is stored.
pub async fn create_item(body: CreateItem, state: AppState) -> Result<impl Reply, Rejection> {
    let name = validate_name(&body.name)?;
    let item = state.store.add(name).await?;
    Ok(warp::reply::with_status(
        warp::reply::json(&item),
        StatusCode::CREATED,
    ))
}

/// `GET /api/items/{id}`: 200 with the item, 404 `item_not_found`.
pub async fn get_item(id: u64, state: AppState) -> Result<impl Reply, Rejection> {
    match state.store.get(id).await? {
        Some(item) => Ok(warp::reply::json(&item)),
        None => Err(ServiceError::NotFound(id).into()),
    }
}

/// A trimmed name of 1 to [`MAX_NAME_CHARS`] characters without control
/// characters; 422 `invalid_name` otherwise.
pub fn validate_name(raw: &str) -> Result<String, ApiError> {
    bounded_text("name", codes::INVALID_NAME, raw, MAX_NAME_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name(" Ada ").unwrap(), "Ada");
        for bad in ["", "  ", "a\nb"] {
            assert_eq!(
                validate_name(bad).unwrap_err().code(),
                "invalid_name",
                "{bad:?}"
            );
        }
        assert!(validate_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
