//! The fleet's CLI, run as `cargo xtask <command>` from anywhere in the
//! checkout (the alias lives in `.cargo/config.toml`).
//!
//! - [`commands`]: what each subcommand does (`up`, `down`, `test`, `publish`,
//!   `release`, `status`, `bump`, `bench`).
//! - [`bench`]: load with wrk against the services and a bare warp baseline.
//! - [`fleet`]: the registry on port 8000 and the services, as started by `up`.
//! - [`registry`]: one Kellnr instance: start, health, token.
//! - [`history`]: shared-lib versions in git, service pins, publishing a version from its commit.
//! - [`index`]: what a registry holds, from its sparse index.
//! - [`release`]: the semver guard and cargo-release.
//! - [`status`]: which service pins which version; bumping one service.
//! - [`tools`]: pinned cargo tools installed once per machine (Kellnr,
//!   cargo-release, cargo-semver-checks).
//! - [`procs`]: background processes, pid records, readiness waits.
//! - [`paths`], [`run`]: where things are; running cargo and git.

pub mod bench;
pub mod commands;
pub mod fleet;
pub mod history;
pub mod index;
pub mod paths;
pub mod procs;
pub mod registry;
pub mod release;
pub mod run;
pub mod status;
pub mod tools;
