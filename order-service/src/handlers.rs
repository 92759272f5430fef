//! What each endpoint does. An order is validated, its user checked with
//! user-service, priced with shared-lib's money and discount rules (a drawn
//! 0-20 % plus a 5-point volume bonus from 10 units), then stored with its lines in one transaction. Every failure is an [`ApiError`] in the shared error body.

use serde::Deserialize;
use shared_lib::error::ApiError;
use shared_lib::filters::RequestId;
use shared_lib::money::subtotal;
use shared_lib::sync::lock;
use shared_lib::wire::{CreateOrder, Order, PageQuery};
use warp::http::StatusCode;
use warp::{Rejection, Reply};

use crate::AppState;
use crate::error::OrderError;
use crate::pricing::{overflow, price_lines};

/// Query of `GET /api/orders`: `?user_id=1&offset=0&limit=20`.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Only this user's orders (ids are 1 to 2^63 - 1).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub user_id: Option<u64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<usize>,
    /// Items to return (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

/// `POST /api/orders`: 201 with the priced order.
pub async fn create_order(
    request_id: RequestId,
    body: CreateOrder,
    state: AppState,
) -> Result<impl Reply, Rejection> {
    let lines = price_lines(&body)?;
    if !state.users.exists(body.user_id, &request_id).await? {
        return Err(OrderError::UnknownUser(body.user_id).into());
    }
    let sub = subtotal(lines.iter().map(|l| (l.unit_price_cents, l.quantity))).map_err(overflow)?;
    let units: u64 = lines.iter().map(|l| u64::from(l.quantity)).sum();
    let discount = {
        let mut rng = lock(&state.rng);
        state.rule.price(sub, units, &mut rng)
    };
    let order = state
        .store
        .add(Order {
            id: 0,
            user_id: body.user_id,
            items: lines,
            subtotal_cents: sub,
            discount_percent: discount.percent,
            volume_bonus_percent: discount.volume_bonus,
            discount_cents: discount.amount,
            total_cents: discount.total,
            created_at: shared_lib::wire::timestamp_now(),
        })
        .await?;
    tracing::info!(
        order_id = order.id,
        user_id = order.user_id,
        total_cents = order.total_cents.get(),
        "order created"
    );
    Ok(warp::reply::with_status(
        warp::reply::json(&order),
        StatusCode::CREATED,
    ))
}

/// `GET /api/orders/{id}`: 200 with the order, 404 `order_not_found`.
pub async fn get_order(id: u64, state: AppState) -> Result<impl Reply, Rejection> {
    match state.store.get(id).await? {
        Some(order) => Ok(warp::reply::json(&order)),
        None => Err(OrderError::NotFound(id).into()),
    }
}

/// `GET /api/orders?user_id=&offset=&limit=`: a page of orders in id order.
pub async fn list_orders(query: OrderQuery, state: AppState) -> Result<impl Reply, Rejection> {
    let page = PageQuery {
        offset: query.offset,
        limit: query.limit,
    };
    let (offset, limit) = page.bounds()?;
    if query.user_id.is_some_and(|id| id > i64::MAX as u64) {
        return Err(warp::reject::custom(ApiError::bad_request(
            shared_lib::error::codes::INVALID_QUERY,
            format!("user_id must be at most {}", i64::MAX),
        )));
    }
    Ok(warp::reply::json(
        &state.store.page(query.user_id, offset, limit).await?,
    ))
}
