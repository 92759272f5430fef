//! Every error {{name}} answers with beyond shared-lib's own (bad bodies,
//! ids, queries, an unavailable database), each variant with its HTTP
//! status and stable code in one place. The OpenAPI document lists the
//! same codes per endpoint.

use shared_lib::error::ApiError;

/// The stable codes of this service's own errors, for clients to branch on.
pub mod codes {
    /// 404: no item has that id.
    pub const ITEM_NOT_FOUND: &str = "item_not_found";
    /// 422: the name is empty, too long or holds control characters.
    pub const INVALID_NAME: &str = "invalid_name";
}

/// An error of {{name}}'s own: one variant per failure the API answers
/// with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    /// 404 `item_not_found`.
    NotFound(u64),
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> ApiError {
        match err {
            ServiceError::NotFound(id) => {
                ApiError::not_found(codes::ITEM_NOT_FOUND, format!("item {id} does not exist"))
            }
        }
    }
}

impl From<ServiceError> for warp::Rejection {
    fn from(err: ServiceError) -> warp::Rejection {
        warp::reject::custom(ApiError::from(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_has_its_status_and_code() {
        let err = ApiError::from(ServiceError::NotFound(7));
        assert_eq!(err.code(), codes::ITEM_NOT_FOUND);
        assert_eq!(err.status(), warp::http::StatusCode::NOT_FOUND);
    }
}
