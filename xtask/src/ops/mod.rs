//! Every process and HTTP call of xtask, behind one small layer, with the
//! other side effects more than one command shares: tree walks and
//! copies, pid records, secrets, the Kellnr instance, PostgreSQL, Docker,
//! tool installs. The commands decide what to do; these modules do it.
//! Elsewhere a `Command` comes from here ([`run::program`], a tool's
//! `command()`, [`cargo::cargo`]), gets its arguments, and is run by
//! [`run`] or [`procs`] (`tests/layering.rs` checks it); a command writes
//! its own reports and logs with `std::fs` where it makes them.
//!
//! - [`callgrind`]: instructions a running process executes for some work.
//! - [`cargo`]: a cargo command set up once for this checkout (the shared
//!   target dir, the registry and its token); a target dir of its own
//!   seeded from the shared one.
//! - [`docker`]: the Docker engine and `docker compose`.
//! - [`fs`], [`git`], [`http`], [`run`]: tree copies, git, the HTTP client
//!   and running a command, shared with `cargo fleet` (its `ops`).
//! - [`procs`]: background processes, pid records, readiness waits.
//! - [`registry`]: one Kellnr instance: start, health, token.
//! - [`postgres`]: a PostgreSQL 15 server of the project's own: initialise,
//!   start, a database and a role per service, stop.
//! - [`secrets`]: generated tokens and passwords in owner-only files.
//! - [`strace`]: what a command does (programs, compilations, registry
//!   connections), counted from a trace.
//! - [`swarm`]: swarm mode on that engine: init, stack deploy and remove,
//!   tasks, rolling updates, logs.
//! - [`tools`]: pinned tools installed once per machine (cargo, PyPI and
//!   npm tools; Debian packages).

pub use cargo_fleet::ops::{fs, git, http, run};

pub mod callgrind;
pub mod cargo;
pub mod docker;
pub mod postgres;
pub mod procs;
pub mod prometheus;
pub mod registry;
pub mod secrets;
pub mod strace;
pub mod swarm;
pub mod tools;
