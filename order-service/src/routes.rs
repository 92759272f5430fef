//! The HTTP API, one function per endpoint. Paths are matched before
//! methods, so an unknown path is a 404 and a wrong method a 405.

use std::convert::Infallible;

use shared_lib::error::handle_rejection;
use shared_lib::filters::{
    JSON_BODY_LIMIT, health, id_param, json_body, ready, request_id, service_info, with_state,
};
use warp::{Filter, Reply};

use crate::AppState;
use crate::handlers::{self, OrderQuery};

/// The whole API, every rejection recovered into the shared error body.
/// `GET /ready` answers 200 only while the database and user-service's
/// `/health` do.
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let (db, users) = (state.db.clone(), state.users.clone());
    service_info(crate::SERVICE, crate::VERSION)
        .or(health())
        .or(ready(move || {
            let (db, users) = (db.clone(), users.clone());
            async move {
                db.ready().await?;
                users.check_health().await
            }
        }))
        .or(create_order(state.clone()))
        .or(get_order(state.clone()))
        .or(list_orders(state))
        .recover(handle_rejection)
}

/// `POST /api/orders` with a JSON `{user_id, items: [{sku, quantity,
/// unit_price_cents}]}` body of at most 64 KiB.
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
pub fn list_orders(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "orders")
        .and(warp::get())
        .and(warp::query::<OrderQuery>())
        .and(with_state(state))
        .and_then(handlers::list_orders)
}
