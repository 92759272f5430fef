//! The HTTP API, one function per endpoint, each with its entry in the
//! OpenAPI document ([`ApiDoc`], served on `GET /openapi.json`). Paths are
//! matched before methods, so an unknown path is a 404 and a wrong method
//! a 405 whose `Allow` header the document gives.

use std::convert::Infallible;
use std::sync::Arc;

use shared_lib::error::{ErrorBody, handle_rejection};
use shared_lib::filters::{health, ready, service_info, with_state};
use shared_lib::openapi::{self, Contract};
use utoipa::OpenApi;
use warp::{Filter, Reply};

use crate::AppState;
use crate::handlers::{self, Greeting, HelloQuery};

/// This service's endpoints, as its OpenAPI document describes them.
#[derive(OpenApi)]
#[openapi(
    info(description = "{{name}}: a service of the fleet (describe what it does)."),
    paths(hello)
)]
pub struct ApiDoc;

/// The service's contract: [`ApiDoc`] with shared-lib's endpoints. When
/// the service gets a database or calls another service, use
/// `Contract::new` (its `/ready` can then answer 503).
pub fn contract() -> Contract {
    Contract::without_dependencies(ApiDoc::openapi(), crate::SERVICE, crate::VERSION)
}

/// The whole API, every rejection recovered into the shared error body.
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let contract = Arc::new(contract());
    service_info(crate::SERVICE, crate::VERSION)
        .or(health())
        .or(ready(|| async { Ok(()) }))
        .or(openapi::serve(contract.clone()))
        .or(hello(state))
        .or(openapi::method_not_allowed(contract))
        .recover(handle_rejection)
}

/// `GET /api/hello?name=Ada`
#[utoipa::path(
    get,
    path = "/api/hello",
    params(HelloQuery),
    responses(
        (status = 200, description = "The greeting", body = Greeting),
        (status = 400, description = "`invalid_query`: `name` is missing or another parameter is given", body = ErrorBody),
        (status = 422, description = "`invalid_name`: the trimmed name is empty, too long or holds control characters", body = ErrorBody),
    )
)]
pub fn hello(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "hello")
        .and(warp::get())
        .and(warp::query::<HelloQuery>())
        .and(with_state(state))
        .and_then(handlers::hello)
}
