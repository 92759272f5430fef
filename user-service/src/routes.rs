//! The HTTP API, one function per endpoint. Paths are matched before
//! methods, so an unknown path is a 404 and a wrong method a 405.

use std::convert::Infallible;

use shared_lib::error::handle_rejection;
use shared_lib::filters::{
    JSON_BODY_LIMIT, health, id_param, json_body, ready, service_info, with_state,
};
use shared_lib::wire::PageQuery;
use warp::{Filter, Reply};

use crate::AppState;
use crate::handlers;

/// The whole API, every rejection recovered into the shared error body.
/// `GET /ready` answers 200 only while the database does.
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let db = state.db.clone();
    service_info(crate::SERVICE, crate::VERSION)
        .or(health())
        .or(ready(move || {
            let db = db.clone();
            async move { db.ready().await }
        }))
        .or(create_user(state.clone()))
        .or(get_user(state.clone()))
        .or(list_users(state))
        .recover(handle_rejection)
}

/// `POST /api/users` with a JSON `{name, email}` body of at most 64 KiB.
pub fn create_user(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "users")
        .and(warp::post())
        .and(json_body(JSON_BODY_LIMIT))
        .and(with_state(state))
        .and_then(handlers::create_user)
}

/// `GET /api/users/{id}`
pub fn get_user(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path("api")
        .and(warp::path("users"))
        .and(id_param())
        .and(warp::path::end())
        .and(warp::get())
        .and(with_state(state))
        .and_then(handlers::get_user)
}

/// `GET /api/users?offset=0&limit=20`
pub fn list_users(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "users")
        .and(warp::get())
        .and(warp::query::<PageQuery>())
        .and(with_state(state))
        .and_then(handlers::list_users)
}
