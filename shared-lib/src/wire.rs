//! The JSON types the services exchange.
//!
//! Requests (`Create*`) refuse unknown fields, so a typo in a client is an
//! error instead of silently ignored data. Responses accept unknown fields,
//! so a reader built on an older shared-lib keeps working when a newer
//! writer adds a field: the wire format only ever grows by optional fields.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::money::Cents;

/// `POST /api/users` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Display name, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Email address, unique across users (compared case-insensitively).
    #[schema(min_length = 3, max_length = 254, example = "ada@example.com")]
    pub email: String,
}

/// A user as user-service returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Assigned by user-service, starting at 1.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Email address as given at creation.
    pub email: String,
    /// Creation time, RFC 3339 in UTC.
    pub created_at: String,
}

/// One line of a `POST /api/orders` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItem {
    /// Stock keeping unit, 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub sku: String,
    /// How many units, 1 to 1,000,000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub quantity: u32,
    /// Price of one unit in cents.
    pub unit_price_cents: Cents,
}

/// `POST /api/orders` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// The user placing the order; must exist in user-service.
    #[schema(minimum = 1)]
    pub user_id: u64,
    /// 1 to 100 lines.
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<OrderItem>,
}

/// One priced line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    /// Stock keeping unit.
    pub sku: String,
    /// How many units.
    pub quantity: u32,
    /// Price of one unit in cents.
    pub unit_price_cents: Cents,
    /// `unit_price_cents * quantity`.
    pub line_total_cents: Cents,
}

/// An order as order-service returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    /// Assigned by order-service, starting at 1.
    pub id: u64,
    /// The user who placed it.
    pub user_id: u64,
    /// The priced lines, in request order.
    pub items: Vec<OrderLine>,
    /// Sum of the line totals.
    pub subtotal_cents: Cents,
    /// The whole discount percentage (drawn plus volume bonus).
    pub discount_percent: u8,
    /// The part of `discount_percent` that is the volume bonus. Absent in
    /// orders priced with shared-lib 0.1, which read as 0.
    #[serde(default)]
    pub volume_bonus_percent: u8,
    /// The discount amount, rounded half up to a cent.
    pub discount_cents: Cents,
    /// `subtotal_cents - discount_cents`.
    pub total_cents: Cents,
    /// Creation time, RFC 3339 in UTC.
    pub created_at: String,
}

/// `GET /` of every service: who it is and what it was built with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceInfo {
    /// The service's name, e.g. `user-service`.
    pub service: String,
    /// The service's own version.
    pub version: String,
    /// The shared-lib version compiled into the service.
    pub shared_lib_version: String,
}

/// The body of `GET /health` (`ok`) and of a ready `GET /ready` (`ready`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    #[schema(example = "ok")]
    pub status: String,
}

/// The body of a ready `GET /ready`: `ready`, and how each service this
/// one calls answered, as information (a callee that is down does not make
/// this service unready: it still serves what needs no callee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    #[schema(example = "ready")]
    pub status: String,
    /// The services this one calls, each as its health answered just now;
    /// absent when it calls none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<DependencyState>,
}

/// How one service this one calls answered its health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DependencyState {
    /// The callee, e.g. `user-service`.
    pub name: String,
    /// Whether its health answered 200 in time.
    pub up: bool,
    /// Why not, when it is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Query of list endpoints: `?offset=0&limit=20`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<usize>,
    /// Items to return (default 20, at most [`PageQuery::MAX_LIMIT`]).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

impl PageQuery {
    /// Default page size.
    pub const DEFAULT_LIMIT: usize = 20;
    /// Largest page size a client may ask for.
    pub const MAX_LIMIT: usize = 100;

    /// The offset and the limit to use, or a 400 `invalid_limit` in the
    /// shared error body when the limit is out of range.
    pub fn bounds(self) -> Result<(usize, usize), crate::error::ApiError> {
        self.resolve().map_err(|why| {
            crate::error::ApiError::bad_request(crate::error::codes::INVALID_LIMIT, why)
        })
    }

    /// The offset and the limit to use, or a message when the limit is out of range.
    pub fn resolve(self) -> Result<(usize, usize), String> {
        let limit = self.limit.unwrap_or(Self::DEFAULT_LIMIT);
        if limit == 0 || limit > Self::MAX_LIMIT {
            return Err(format!("limit must be between 1 and {}", Self::MAX_LIMIT));
        }
        Ok((self.offset.unwrap_or(0), limit))
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The offset this page starts at.
    pub offset: usize,
    /// The page size asked for.
    pub limit: usize,
    /// How many items there are in all.
    pub total: usize,
}

/// The current time as RFC 3339 in UTC with millisecond precision,
/// the format of every `created_at`.
pub fn timestamp_now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_refuse_unknown_fields_but_responses_accept_them() {
        let err =
            serde_json::from_str::<CreateUser>(r#"{"name":"a","email":"a@b.c","admin":true}"#)
                .unwrap_err();
        assert!(err.to_string().contains("unknown field `admin`"), "{err}");
        let user: User = serde_json::from_str(
            r#"{"id":1,"name":"a","email":"a@b.c","created_at":"2026-01-01T00:00:00Z","tier":"gold"}"#,
        )
        .unwrap();
        assert_eq!(user.id, 1);
    }

    #[test]
    fn json_written_by_shared_lib_0_1_still_reads() {
        // A User exactly as user-service on 0.1.x sends it.
        let user: User = serde_json::from_str(
            r#"{"id":3,"name":"Ada","email":"ada@example.com","created_at":"2026-11-21T06:02:20.912Z"}"#,
        )
        .unwrap();
        assert_eq!(user.name, "Ada");
        // An Order written before the volume bonus existed.
        let order: Order = serde_json::from_str(
            r#"{"id":1,"user_id":1,"items":[{"sku":"BOOK","quantity":2,"unit_price_cents":1999,"line_total_cents":3998}],
                "subtotal_cents":3998,"discount_percent":6,"discount_cents":240,"total_cents":3758,
                "created_at":"2026-11-21T06:02:20.926Z"}"#,
        )
        .unwrap();
        assert_eq!((order.discount_percent, order.volume_bonus_percent), (6, 0));
    }

    #[test]
    fn page_query_limits_are_enforced() {
        assert_eq!(PageQuery::default().resolve(), Ok((0, 20)));
        let q = PageQuery {
            offset: Some(5),
            limit: Some(100),
        };
        assert_eq!(q.resolve(), Ok((5, 100)));
        assert!(
            PageQuery {
                offset: None,
                limit: Some(0)
            }
            .resolve()
            .is_err()
        );
        assert!(
            PageQuery {
                offset: None,
                limit: Some(101)
            }
            .resolve()
            .is_err()
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let ts = timestamp_now();
        assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
        assert!(humantime::parse_rfc3339(&ts).is_ok());
    }
}
