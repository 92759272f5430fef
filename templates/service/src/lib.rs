//! {{name}}: a service of the fleet.
//!
//! - [`config`]: settings from the environment.
//! - [`error`]: this service's own errors, each with its status and code.
//! - [`routes`]: the HTTP API as warp filters, one function per endpoint.
//! - [`handlers`]: what each endpoint does.
//! - [`store`]: its tables and their migrations, in this service's own
//!   database (shared-lib's data layer: a SQLite file by default,
//!   PostgreSQL with `DATABASE_URL`).
//!
//! [`run`] serves the API on a listener the caller binds, until `shutdown`
//! completes: `main` passes the configured address and SIGTERM/Ctrl-C,
//! tests pass port 0 and a channel.

pub mod config;
pub mod error;
pub mod handlers;
pub mod routes;
pub mod store;

use std::future::Future;
use std::sync::Arc;

pub use config::Config;
use shared_lib::db::{Database, DbError};
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
    /// The database: its readiness is this service's.
    pub db: Database,
    /// The items created so far.
    pub store: store::ItemStore,
    /// What `GET /metrics` serves: requests, latency, the database pools
    /// (add `metrics.callee(..)` handles for the clients of other services).
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// The state for `config`: the database opened (lazily; its
    /// migrations apply in the background as soon as it answers).
    pub fn new(config: &Config) -> Result<AppState, DbError> {
        let db = Database::open(&config.database, store::MIGRATIONS)?;
        let metrics = Metrics::new(&routes::contract());
        metrics.watch_database(&db);
        Ok(AppState {
            store: store::ItemStore::new(db.clone()),
            db,
            metrics,
        })
    }
}

/// Serves the API on `listener` until `shutdown` completes, then lets
/// in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let state = AppState::new(&config).map_err(std::io::Error::other)?;
    tracing::info!(database = %config.database.redacted_url(), "{{name}} keeps its data there");
    let options = ServeOptions::metered(&state.metrics);
    let served =
        shared_lib::server::serve_with(listener, routes::routes(state.clone()), shutdown, options)
            .await;
    state.db.close().await;
    served
}
