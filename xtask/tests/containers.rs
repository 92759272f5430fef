//! The container files, checked without an engine: docker-compose.yml is
//! parsed with docker-compose-types against `fleet.toml`, each Dockerfile
//! with dockerfile-parser (a locked, offline build from vendor/, a non-root
//! user, a healthcheck).
//!
//! That the images build and run is `containers_live.rs`, on a real engine,
//! which `cargo xtask test` always runs: it builds every Dockerfile for
//! real, so this file no longer runs their cargo commands natively (two
//! release builds of their own, five and a half minutes on a cold cache).

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use common::containers::{check_compose, check_dockerfiles};
use xtask::paths::Layout;

#[test]
fn compose_runs_the_registry_and_every_service_as_natively() {
    check_compose(&Layout::detect());
}

#[test]
fn dockerfiles_build_locked_against_the_lockfile_index_and_run_as_non_root() {
    check_dockerfiles(&Layout::detect());
}
