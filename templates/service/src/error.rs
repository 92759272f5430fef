//! Every error {{name}} answers with beyond shared-lib's own (bad bodies,
//! ids, queries, an unavailable database), each with its HTTP status and
//! stable code in one place. The OpenAPI document lists the same codes.

use shared_lib::error::ApiError;

/// The stable codes of this service's own errors, for clients to branch on.
pub mod codes {
    /// 422: the name is empty, too long or holds control characters.
    pub const INVALID_NAME: &str = "invalid_name";
}

/// An error of {{name}}'s own, its status and code given in the `From`
/// below. No variant yet: add one per failure the API answers with
/// (user-service's `UserError` is an example).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> ApiError {
        match err {}
    }
}

impl From<ServiceError> for warp::Rejection {
    fn from(err: ServiceError) -> warp::Rejection {
        warp::reject::custom(ApiError::from(err))
    }
}
