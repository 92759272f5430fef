//! order-service takes the fleet's orders.
//!
//! - [`config`]: settings from the environment.
//! - [`error`]: this service's own errors, each with its status and code.
//! - [`routes`]: the HTTP API as warp filters, one function per endpoint.
//! - [`handlers`]: what each endpoint does.
//! - [`pricing`]: an order's lines validated and priced, and their limits.
//! - [`store`]: the orders and their lines, with their migrations, in this
//!   service's own database (shared-lib's data layer: a SQLite file by
//!   default, PostgreSQL with `DATABASE_URL`).
//! - [`users`]: the client of user-service, with a bounded timeout and a
//!   short memory of the users it confirmed.
//!
//! [`run`] serves the API on a listener the caller binds, until `shutdown`
//! completes: `main` passes the configured address and SIGTERM/Ctrl-C,
//! tests pass port 0 and a channel.

pub mod config;
pub mod error;
pub mod handlers;
pub mod pricing;
pub mod routes;
pub mod store;
pub mod users;

use std::future::Future;
use std::sync::{Arc, Mutex};

pub use config::Config;
use shared_lib::db::{Database, DbError};
use shared_lib::discount::{DiscountRng, DiscountRule};
use shared_lib::metrics::Metrics;
use shared_lib::server::ServeOptions;
use tokio::net::TcpListener;

/// This service's name, as `GET /` reports it.
pub const SERVICE: &str = "order-service";
/// This service's version, as `GET /` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database: part of this service's readiness.
    pub db: Database,
    /// The orders taken so far.
    pub store: store::OrderStore,
    /// Asks user-service whether a user exists.
    pub users: users::UserClient,
    /// The discount rule every order is priced with.
    pub rule: DiscountRule,
    /// The discount RNG: seeded from `DISCOUNT_SEED` for reproducible runs,
    /// else from the OS.
    pub rng: Arc<Mutex<DiscountRng>>,
    /// What `GET /metrics` serves: requests, latency, calls to
    /// user-service, the database pools.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// The state for `config`: the database opened (lazily; its
    /// migrations apply in the background as soon as it answers).
    pub fn new(config: &Config) -> Result<AppState, DbError> {
        let rng = match config.discount_seed {
            Some(seed) => DiscountRng::seeded(seed),
            None => DiscountRng::from_os(),
        };
        let db = Database::open(&config.database, store::MIGRATIONS)?;
        let metrics = Metrics::new(&routes::contract());
        metrics.watch_database(&db);
        Ok(AppState {
            store: store::OrderStore::new(db.clone()),
            db,
            users: users::UserClient::new(
                &config.user_service_url,
                config.user_service_timeout,
                users::KnownUsers::new(config.user_cache_ttl, config.user_cache_max),
                metrics.callee(users::CALLEE),
            ),
            rule: DiscountRule::STANDARD,
            rng: Arc::new(Mutex::new(rng)),
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
    tracing::info!(user_service = %config.user_service_url, "order-service calls user-service there");
    let state = AppState::new(&config).map_err(std::io::Error::other)?;
    tracing::info!(database = %config.database.redacted_url(), "order-service keeps its data there");
    let options = ServeOptions::metered(&state.metrics);
    let served =
        shared_lib::server::serve_with(listener, routes::routes(state.clone()), shutdown, options)
            .await;
    state.db.close().await;
    served
}
