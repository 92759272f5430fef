//! Every error user-service answers with beyond shared-lib's own (bad
//! bodies, ids, queries, an unavailable database), each variant with its
//! HTTP status and stable code in one place. The OpenAPI document lists
//! the same codes per endpoint.

use shared_lib::error::ApiError;

/// The stable codes of [`UserError`], for clients to branch on.
pub mod codes {
    /// 404: no user has that id.
    pub const USER_NOT_FOUND: &str = "user_not_found";
    /// 409: a user has that email address (compared case-insensitively).
    pub const EMAIL_TAKEN: &str = "email_taken";
    /// 422: the name is empty, too long or holds control characters.
    pub const INVALID_NAME: &str = "invalid_name";
    /// 422: the email address is not like name@example.com.
    pub const INVALID_EMAIL: &str = "invalid_email";
}

/// An error of user-service's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserError {
    /// 404 `user_not_found`.
    NotFound(u64),
    /// 409 `email_taken`.
    EmailTaken,
    /// 422 `invalid_email`, with the address as given (trimmed).
    InvalidEmail(String),
}

impl From<UserError> for ApiError {
    fn from(err: UserError) -> ApiError {
        match err {
            UserError::NotFound(id) => {
                ApiError::not_found(codes::USER_NOT_FOUND, format!("user {id} does not exist"))
            }
            UserError::EmailTaken => {
                ApiError::conflict(codes::EMAIL_TAKEN, "a user with this email already exists")
            }
            UserError::InvalidEmail(email) => ApiError::unprocessable(
                codes::INVALID_EMAIL,
                format!("{email:?} is not an email address like name@example.com"),
            ),
        }
    }
}

impl From<UserError> for warp::Rejection {
    fn from(err: UserError) -> warp::Rejection {
        warp::reject::custom(ApiError::from(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::StatusCode;

    #[test]
    fn each_variant_has_its_status_and_code() {
        for (err, status, code) in [
            (
                UserError::NotFound(7),
                StatusCode::NOT_FOUND,
                codes::USER_NOT_FOUND,
            ),
            (
                UserError::EmailTaken,
                StatusCode::CONFLICT,
                codes::EMAIL_TAKEN,
            ),
            (
                UserError::InvalidEmail("x".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::INVALID_EMAIL,
            ),
        ] {
            let api = ApiError::from(err);
            assert_eq!((api.status(), api.code()), (status, code));
        }
    }
}
