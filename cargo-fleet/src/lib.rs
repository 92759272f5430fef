//! `cargo fleet`: the day-two tooling of a fleet of services that share
//! crates through a private Cargo registry, for services in this
//! repository or in repositories of their own. Configured only by
//! `fleet.toml` ([`manifest`]).
//!
//! - [`commands`]: one module per subcommand (`status`, `check-consumers`,
//!   `bump`, `publish`, `release`, `renovate`), each the only code that prints for its command.
//! - [`workspace`]: the fleet being worked on: root, manifest, registry,
//!   build cache, and the checkouts of services in their own repositories.
//! - [`manifest`]: `fleet.toml`, read and checked.
//! - [`index`]: what the registry holds of a crate.
//! - [`lock`]: what a project's Cargo.toml and Cargo.lock say.
//! - [`pins`]: where each service stands against the registry.
//! - [`advisories`]: the team's advisory database (RustSec format).
//! - [`consumers`]: every service built and tested against a candidate.
//! - [`renovate`]: Renovate's proposals, read from its report.
//! - [`level`]: how far a release moves a version.
//! - [`error`]: the kind of each failure, and its exit code.
//! - [`table`]: the aligned text tables the commands print.
//! - [`ops`]: every process and HTTP call (the registry's sparse index,
//!   with cargo's token, among them), and the tree copies.

pub mod advisories;
pub mod commands;
pub mod consumers;
pub mod error;
pub mod index;
pub mod level;
pub mod lock;
pub mod manifest;
pub mod ops;
pub mod pins;
pub mod renovate;
pub mod table;
pub mod workspace;

pub use workspace::Workspace;
