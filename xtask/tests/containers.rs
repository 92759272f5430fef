//! The container path, checked without a Docker engine (none runs on these
//! machines): docker-compose.yml is parsed with docker-compose-types, each
//! Dockerfile with dockerfile-parser, and every cargo command of each
//! Dockerfile's build stages runs natively with the Dockerfile's own
//! environment, so a broken build command fails here.
//!
//! What this cannot show: that the images build and run under a real
//! engine (base images, apt-get, BuildKit's host network, healthchecks
//! executing inside the containers).

mod common;

use common::containers::{check_compose, check_dockerfiles, check_native_builds};
use xtask::paths::Layout;

#[test]
fn compose_runs_the_registry_and_every_service_as_natively() {
    check_compose(&Layout::detect());
}

#[test]
fn dockerfiles_build_locked_against_the_lockfile_index_and_run_as_non_root() {
    check_dockerfiles(&Layout::detect());
}

#[test]
fn the_dockerfile_build_commands_succeed_natively() {
    check_native_builds(&Layout::detect());
}
