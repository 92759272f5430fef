//! The HTTP API, one function per endpoint, each with its entry in the
//! OpenAPI document ([`ApiDoc`], served on `GET /openapi.json`). Paths are
//! matched before methods, so an unknown path is a 404 and a wrong method
//! a 405 whose `Allow` header the document gives.

use std::convert::Infallible;
use std::sync::Arc;

use shared_lib::error::{ErrorBody, handle_rejection};
use shared_lib::filters::{
    JSON_BODY_LIMIT, health, id_param, json_body, ready_with, request_id, service_info, with_state,
};
use shared_lib::openapi::{self, Contract, JsonBodyErrors, Unavailable};
use shared_lib::wire::{CreateOrder, Order, Page};
use utoipa::OpenApi;
use warp::{Filter, Reply};

use crate::AppState;
use crate::handlers::{self, OrderQuery};

/// order-service's endpoints, as its OpenAPI document describes them.
#[derive(OpenApi)]
#[openapi(
    info(
        description = "Prices and keeps the fleet's orders, checking each user with user-service."
    ),
    paths(create_order, get_order, list_orders)
)]
pub struct ApiDoc;

/// The service's contract: [`ApiDoc`] with shared-lib's endpoints.
pub fn contract() -> Contract {
    Contract::new(ApiDoc::openapi(), crate::SERVICE, crate::VERSION)
}

/// The whole API, every rejection recovered into the shared error body.
/// `GET /ready` answers 200 while the database does; how user-service's
/// `/health` answered goes into its body, not its status (a user-service
/// outage must not take order-service out of rotation: reads and orders of
/// recently confirmed users need no user-service).
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let contract = Arc::new(contract());
    let (db, users) = (state.db.clone(), state.users.clone());
    service_info(crate::SERVICE, crate::VERSION)
        .or(health())
        .or(ready_with(
            move || {
                let db = db.clone();
                async move { db.ready().await }
            },
            move || {
                let users = users.clone();
                async move { vec![users.check_health().await] }
            },
        ))
        .or(openapi::serve(contract.clone()))
        .or(create_order(state.clone()))
        .or(get_order(state.clone()))
        .or(list_orders(state))
        .or(openapi::method_not_allowed(contract))
        .recover(handle_rejection)
}

/// `POST /api/orders` with a JSON `{user_id, items: [{sku, quantity,
/// unit_price_cents}]}` body of at most 64 KiB.
#[utoipa::path(
    post,
    path = "/api/orders",
    request_body = CreateOrder,
    responses(
        (status = 201, description = "The priced order, stored with its lines", body = Order),
        (status = 422, description = "`invalid_items`, `invalid_sku`, `invalid_quantity`, `amount_overflow` or `unknown_user` (user-service does not know the user)", body = ErrorBody),
        JsonBodyErrors,
        Unavailable,
    )
)]
pub fn create_order(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "orders")
        .and(warp::post())
        .and(request_id())
        .and(json_body(JSON_BODY_LIMIT))
        .and(with_state(state))
        .and_then(handlers::create_order)
}

/// `GET /api/orders/{id}`
#[utoipa::path(
    get,
    path = "/api/orders/{id}",
    params(("id" = u64, Path, minimum = 1, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 400, description = "`invalid_id`: the id is not a positive integer", body = ErrorBody),
        (status = 404, description = "`order_not_found`", body = ErrorBody),
        Unavailable,
    )
)]
pub fn get_order(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path("api")
        .and(warp::path("orders"))
        .and(id_param())
        .and(warp::path::end())
        .and(warp::get())
        .and(with_state(state))
        .and_then(handlers::get_order)
}

/// `GET /api/orders?user_id=1&offset=0&limit=20`
#[utoipa::path(
    get,
    path = "/api/orders",
    params(OrderQuery),
    responses(
        (status = 200, description = "A page of orders in id order", body = Page<Order>),
        (status = 400, description = "`invalid_query` or `invalid_limit`: a parameter is not a number, unknown, or the limit is not 1 to 100", body = ErrorBody),
        Unavailable,
    )
)]
pub fn list_orders(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "orders")
        .and(warp::get())
        .and(warp::query::<OrderQuery>())
        .and(with_state(state))
        .and_then(handlers::list_orders)
}
