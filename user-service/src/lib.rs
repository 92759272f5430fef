//! user-service keeps the fleet's users.
//!
//! - [`config`]: settings from the environment.
//! - [`routes`]: the HTTP API as warp filters, one function per endpoint.
//! - [`handlers`]: what each endpoint does.
//! - [`store`]: the in-memory user store (data does not survive a restart).
//!
//! [`run`] serves the API on a listener the caller binds, until `shutdown`
//! completes: `main` passes the configured address and SIGTERM/Ctrl-C,
//! tests pass port 0 and a channel.

pub mod config;
pub mod handlers;
pub mod routes;
pub mod store;

use std::future::Future;

pub use config::Config;
use tokio::net::TcpListener;

/// What every handler needs, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The users signed up so far.
    pub store: store::UserStore,
}

impl AppState {
    /// The state for `config`.
    pub fn new(config: &Config) -> AppState {
        AppState {
            store: store::UserStore::new(config.max_users),
        }
    }
}

/// This service's name, as `GET /` reports it.
pub const SERVICE: &str = "user-service";
/// This service's version, as `GET /` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Serves the API on `listener` until `shutdown` completes, then lets
/// in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let state = AppState::new(&config);
    shared_lib::server::serve(listener, routes::routes(state), shutdown).await
}
