//! Every error order-service answers with beyond shared-lib's own (bad
//! bodies, ids, queries, an unavailable database), each variant with its
//! HTTP status and stable code in one place. The OpenAPI document lists
//! the same codes per endpoint.

use shared_lib::error::ApiError;
use shared_lib::money::MAX_CENTS;

/// The stable codes of [`OrderError`], for clients to branch on.
pub mod codes {
    /// 404: no order has that id.
    pub const ORDER_NOT_FOUND: &str = "order_not_found";
    /// 422: user-service does not know the user (or the id is 0).
    pub const UNKNOWN_USER: &str = "unknown_user";
    /// 422: an order has 1 to 100 lines.
    pub const INVALID_ITEMS: &str = "invalid_items";
    /// 422: a line's SKU is empty, too long or holds control characters.
    pub const INVALID_SKU: &str = "invalid_sku";
    /// 422: a line's quantity is 0 or over 1,000,000.
    pub const INVALID_QUANTITY: &str = "invalid_quantity";
    /// 422: the order's total would exceed the largest amount.
    pub const AMOUNT_OVERFLOW: &str = "amount_overflow";
    /// 503: user-service did not answer in time.
    pub const USER_SERVICE_UNAVAILABLE: &str = "user_service_unavailable";
}

/// An error of order-service's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    /// 404 `order_not_found`.
    NotFound(u64),
    /// 422 `unknown_user`.
    UnknownUser(u64),
    /// 422 `invalid_items`: an order has 1 to `max` lines.
    InvalidItems {
        /// The most lines an order may have.
        max: usize,
    },
    /// 422 `invalid_quantity`: a line's quantity is not 1 to `max`.
    InvalidQuantity {
        /// The line's index.
        line: usize,
        /// The most units a line may have.
        max: u32,
    },
    /// 422 `amount_overflow`.
    AmountOverflow,
    /// 503 `user_service_unavailable`.
    UserServiceUnavailable,
}

impl From<OrderError> for ApiError {
    fn from(err: OrderError) -> ApiError {
        match err {
            OrderError::NotFound(id) => {
                ApiError::not_found(codes::ORDER_NOT_FOUND, format!("order {id} does not exist"))
            }
            OrderError::UnknownUser(0) => {
                ApiError::unprocessable(codes::UNKNOWN_USER, "user ids start at 1")
            }
            OrderError::UnknownUser(id) => {
                ApiError::unprocessable(codes::UNKNOWN_USER, format!("user {id} does not exist"))
            }
            OrderError::InvalidItems { max } => ApiError::unprocessable(
                codes::INVALID_ITEMS,
                format!("an order has 1 to {max} items"),
            ),
            OrderError::InvalidQuantity { line, max } => ApiError::unprocessable(
                codes::INVALID_QUANTITY,
                format!("items[{line}].quantity must be 1 to {max}"),
            ),
            OrderError::AmountOverflow => ApiError::unprocessable(
                codes::AMOUNT_OVERFLOW,
                format!("the order total exceeds the maximum of {MAX_CENTS} cents"),
            ),
            OrderError::UserServiceUnavailable => ApiError::unavailable(
                codes::USER_SERVICE_UNAVAILABLE,
                "user-service did not answer in time; try again later",
            ),
        }
    }
}

impl From<OrderError> for warp::Rejection {
    fn from(err: OrderError) -> warp::Rejection {
        warp::reject::custom(ApiError::from(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::StatusCode;

    #[test]
    fn each_variant_has_its_status_and_code() {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        for (err, status, code) in [
            (
                OrderError::NotFound(7),
                StatusCode::NOT_FOUND,
                codes::ORDER_NOT_FOUND,
            ),
            (
                OrderError::UnknownUser(3),
                unprocessable,
                codes::UNKNOWN_USER,
            ),
            (
                OrderError::InvalidItems { max: 100 },
                unprocessable,
                codes::INVALID_ITEMS,
            ),
            (
                OrderError::InvalidQuantity {
                    line: 2,
                    max: 1_000_000,
                },
                unprocessable,
                codes::INVALID_QUANTITY,
            ),
            (
                OrderError::AmountOverflow,
                unprocessable,
                codes::AMOUNT_OVERFLOW,
            ),
            (
                OrderError::UserServiceUnavailable,
                StatusCode::SERVICE_UNAVAILABLE,
                codes::USER_SERVICE_UNAVAILABLE,
            ),
        ] {
            let api = ApiError::from(err);
            assert_eq!((api.status(), api.code()), (status, code));
        }
    }
}
