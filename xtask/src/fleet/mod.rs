//! The fleet on this machine: the registry on port 8000 and the services of
//! `fleet.toml`, started from this checkout and remembered in `.fleet/`.
//! Nothing here prints; the commands report what these functions return.
//!
//! - [`registry`]: the fleet's Kellnr, native or in a container.
//! - [`pinned`]: every pinned shared-lib version published to it.
//! - [`tool`]: `cargo fleet` published to it.
//! - [`services`]: each service's address, environment and data; building
//!   and starting it.
//! - [`prometheus`]: the fleet's Prometheus, scraping every service.
//! - [`stop`]: stopping all of it, deleting its data.
//! - [`mod@vendor`]: a service's dependencies vendored for its image.

pub mod images;
pub mod pinned;
pub mod prometheus;
pub mod registry;
pub mod services;
pub mod stop;
pub mod tool;
pub mod vendor;

pub use pinned::{Docs, PinnedReport, Replayed, publish_pinned};
pub use registry::{
    RegistryStart, container_registry, ensure_registry, fleet_registry, swarm_registry,
};
pub use services::{
    DataBackend, ServiceStart, binary, build_service, build_services, data_dir, data_env,
    fleet_postgres, service_env, start_service, url,
};
pub use stop::{down, wipe_data};
pub use tool::publish_tool;
pub use vendor::vendor;
