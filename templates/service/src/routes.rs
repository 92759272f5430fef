//! The HTTP API, one function per endpoint. Paths are matched before
//! methods, so an unknown path is a 404 and a wrong method a 405.

use std::convert::Infallible;

use shared_lib::error::handle_rejection;
use shared_lib::filters::{health, ready, service_info, with_state};
use warp::{Filter, Reply};

use crate::AppState;
use crate::handlers::{self, HelloQuery};

/// The whole API, every rejection recovered into the shared error body.
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    service_info(crate::SERVICE, crate::VERSION)
        .or(health())
        .or(ready(|| async { Ok(()) }))
        .or(hello(state))
        .recover(handle_rejection)
}

/// `GET /api/hello?name=Ada`
pub fn hello(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "hello")
        .and(warp::get())
        .and(warp::query::<HelloQuery>())
        .and(with_state(state))
        .and_then(handlers::hello)
}
