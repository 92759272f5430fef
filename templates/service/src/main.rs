//! `{{name}}`: reads its settings from the environment and serves until
//! SIGTERM or Ctrl-C; `{{name}} healthcheck` asks a running one's `/ready`
//! and exits 0 or 1. shared-lib's `lifecycle::main` does both; everything
//! else lives in the library.

use std::process::ExitCode;

use shared_lib::config::ServiceConfig;

use {{crate}}::{Config, SERVICE, run};

#[tokio::main]
async fn main() -> ExitCode {
    shared_lib::lifecycle::main(SERVICE, Config::from_env(), |listener, config, shutdown| {
        run(listener, config, shutdown)
    })
    .await
}
