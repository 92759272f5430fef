//! What every service of the fleet shares, published to the private registry.
//!
//! A map of the crate:
//!
//! - [`telemetry`]: tracing setup (`RUST_LOG`, text or JSON lines), the
//!   access log, and the request id and W3C trace context in every line
//!   logged while serving (the `traceparent` to send on to other services).
//! - [`metrics`]: what `GET /metrics` serves (OpenMetrics text): requests
//!   by route template, latency, in flight, calls to other services, the
//!   database pools, `build_info`.
//! - [`config`]: reading settings from the environment with clear errors.
//! - [`money`]: amounts in integer cents, overflow-checked, JSON-safe.
//! - [`discount`]: the fleet's discount rule, with an injectable RNG.
//! - [`wire`]: the JSON types the services exchange.
//! - [`error`]: the one JSON error body, its stable codes and the warp
//!   rejection handler.
//! - [`filters`]: warp filters both services use (state, JSON bodies,
//!   request id, health and readiness).
//! - [`openapi`]: the API contract: each service's OpenAPI 3.1 document
//!   on `GET /openapi.json`, shared-lib's endpoints and schemas in it, and
//!   the `Allow` header of every 405.
//! - [`db`]: the data layer: a pool from `DATABASE_URL` (SQLite under the
//!   data directory by default, PostgreSQL when configured), embedded
//!   migrations, readiness and one mapping of database errors.
//! - [`sync`]: locks that keep serving after a panic elsewhere.
//! - [`validate`]: field checks every service makes the same way.
//! - `testing` (feature `testing`, for a service's dev-dependency): what
//!   every service's tests use: a request answered in process, the error
//!   body's code, the real server on an ephemeral port, a scratch database.
//! - [`server`]: serving a warp filter on a listener with request ids,
//!   trace context, metrics, access logs, timeouts, graceful shutdown and
//!   a lingering close.
//! - [`lifecycle`]: a service binary's whole `main` (settings, logging,
//!   signals) and its `healthcheck` subcommand.
//!
//! The version a service was built with is [`VERSION`]; services report it
//! on `GET /` so an operator sees which shared-lib each one runs.

pub mod config;
pub mod db;
pub mod discount;
pub mod error;
pub mod filters;
pub mod lifecycle;
pub mod metrics;
pub mod money;
pub mod openapi;
pub mod server;
pub mod sync;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod validate;
pub mod wire;

/// The version of shared-lib compiled into this binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The header that carries the request id across services.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
