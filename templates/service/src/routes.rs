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
use utoipa::OpenApi;
use warp::{Filter, Reply};

use crate::AppState;
use crate::handlers::{self, CreateItem};
use crate::store::Item;

/// This service's endpoints, as its OpenAPI document describes them.
#[derive(OpenApi)]
#[openapi(
    info(description = "{{name}}: a service of the fleet (describe what it does)."),
    paths(create_item, get_item)
)]
pub struct ApiDoc;

/// The service's contract: [`ApiDoc`] with shared-lib's endpoints; its
/// `/ready` answers 503 while the database does not.
pub fn contract() -> Contract {
    Contract::new(ApiDoc::openapi(), crate::SERVICE, crate::VERSION)
}

/// The whole API, every rejection recovered into the shared error body.
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
        .or(create_item(state.clone()))
        .or(get_item(state))
        .or(openapi::method_not_allowed(contract))
        .recover(handle_rejection)
}

/// `POST /api/items` with `{"name": "..."}`
#[utoipa::path(
    post,
    path = "/api/items",
    request_body = CreateItem,
    responses(
        (status = 201, description = "The new item", body = Item),
        (status = 422, description = "`invalid_name`: the trimmed name is empty, too long or holds control characters", body = ErrorBody),
        JsonBodyErrors,
        Unavailable,
    )
)]
pub fn create_item(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "items")
        .and(warp::post())
        .and(json_body(JSON_BODY_LIMIT))
        .and(with_state(state))
        .and_then(handlers::create_item)
}

/// `GET /api/items/{id}`
#[utoipa::path(
    get,
    path = "/api/items/{id}",
    params(("id" = u64, Path, minimum = 1, description = "The item's id")),
    responses(
        (status = 200, description = "The item", body = Item),
        (status = 400, description = "`invalid_id`: the id is not a positive integer", body = ErrorBody),
        (status = 404, description = "`item_not_found`", body = ErrorBody),
        Unavailable,
    )
)]
pub fn get_item(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path("api")
        .and(warp::path("items"))
        .and(id_param())
        .and(warp::path::end())
        .and(warp::get())
        .and(with_state(state))
        .and_then(handlers::get_item)
}
