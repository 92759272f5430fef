//! The HTTP API, one function per endpoint, each with its entry in the
//! OpenAPI document ([`ApiDoc`], served on `GET /openapi.json`). Paths are
//! matched before methods, so an unknown path is a 404 and a wrong method
//! a 405 whose `Allow` header the document gives.

use std::convert::Infallible;
use std::sync::Arc;

use shared_lib::error::{ErrorBody, handle_rejection};
use shared_lib::filters::{
    JSON_BODY_LIMIT, health, id_param, json_body, ready, service_info, with_state,
};
use shared_lib::openapi::{self, Contract, JsonBodyErrors, Unavailable};
use shared_lib::wire::{CreateUser, Page, PageQuery, User};
use utoipa::OpenApi;
use warp::{Filter, Reply};

use crate::AppState;
use crate::handlers;

/// user-service's endpoints, as its OpenAPI document describes them.
#[derive(OpenApi)]
#[openapi(
    info(description = "Keeps the fleet's users: create, fetch and list them."),
    paths(create_user, get_user, list_users)
)]
pub struct ApiDoc;

/// The service's contract: [`ApiDoc`] with shared-lib's endpoints.
pub fn contract() -> Contract {
    Contract::new(ApiDoc::openapi(), crate::SERVICE, crate::VERSION)
}

/// The whole API, every rejection recovered into the shared error body.
/// `GET /ready` answers 200 only while the database does.
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let contract = Arc::new(contract());
    let db = state.db.clone();
    service_info(crate::SERVICE, crate::VERSION)
        .or(health())
        .or(ready(move || {
            let db = db.clone();
            async move { db.ready().await }
        }))
        .or(openapi::serve(contract.clone()))
        .or(create_user(state.clone()))
        .or(get_user(state.clone()))
        .or(list_users(state))
        .or(openapi::method_not_allowed(contract))
        .recover(handle_rejection)
}

/// `POST /api/users` with a JSON `{name, email}` body of at most 64 KiB.
#[utoipa::path(
    post,
    path = "/api/users",
    request_body = CreateUser,
    responses(
        (status = 201, description = "The new user", body = User),
        (status = 409, description = "`email_taken`: a user has this address (compared case-insensitively)", body = ErrorBody),
        (status = 422, description = "`invalid_name` or `invalid_email`: the trimmed name is empty, too long or holds control characters; the email is not like name@example.com", body = ErrorBody),
        JsonBodyErrors,
        Unavailable,
    )
)]
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
#[utoipa::path(
    get,
    path = "/api/users/{id}",
    params(("id" = u64, Path, minimum = 1, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 400, description = "`invalid_id`: the id is not a positive integer", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        Unavailable,
    )
)]
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
#[utoipa::path(
    get,
    path = "/api/users",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users in id order", body = Page<User>),
        (status = 400, description = "`invalid_query` or `invalid_limit`: a parameter is not a number, unknown, or the limit is not 1 to 100", body = ErrorBody),
        Unavailable,
    )
)]
pub fn list_users(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "users")
        .and(warp::get())
        .and(warp::query::<PageQuery>())
        .and(with_state(state))
        .and_then(handlers::list_users)
}
