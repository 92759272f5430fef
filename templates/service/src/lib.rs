//! {{name}}: a service of the fleet.
//!
//! - [`config`]: settings from the environment.
//! - [`error`]: this service's own errors, each with its status and code.
//! - [`routes`]: the HTTP API as warp filters, one function per endpoint.
//! - [`handlers`]: what each endpoint does.
//!
//! [`run`] serves the API on a listener the caller binds, until `shutdown`
//! completes: `main` passes the configured address and SIGTERM/Ctrl-C,
//! tests pass port 0 and a channel.

pub mod config;
pub mod error;
pub mod handlers;
pub mod routes;

use std::future::Future;
use std::sync::Arc;

pub use config::Config;
use shared_lib::metrics::Metrics;
use shared_lib::server::ServeOptions;
use tokio::net::TcpListener;

/// This service's name, as `GET /` reports it.
pub const SERVICE: &str = "{{name}}";
/// This service's version, as `GET /` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every handler needs, cheap to clone. Add stores and clients of
/// other services here.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The settings it started with.
    pub config: Config,
    /// What `GET /metrics` serves (add `metrics.callee(..)` handles for
    /// the clients of other services).
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// The state for `config`.
    pub fn new(config: &Config) -> AppState {
        AppState {
            config: config.clone(),
            metrics: Metrics::new(&routes::contract()),
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes, then lets
/// in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let state = AppState::new(&config);
    let options = ServeOptions::metered(&state.metrics);
    shared_lib::server::serve_with(listener, routes::routes(state), shutdown, options).await
}
