//! `user-service`: reads its settings from the environment and serves until
//! SIGTERM or Ctrl-C; `user-service healthcheck` asks a running one's `/ready` and
//! exits 0 or 1. Everything else lives in the library.

use std::process::ExitCode;

use user_service::{Config, run};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("user-service: {err}");
            return ExitCode::from(2);
        }
    };
    // `<binary> healthcheck`: the container HEALTHCHECK, no curl needed.
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return match shared_lib::server::healthcheck(&config.server, "/ready") {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("user-service: unhealthy: {err}");
                ExitCode::FAILURE
            }
        };
    }
    // Access logs leave the request path; the guard flushes them at exit.
    let _logs =
        match shared_lib::telemetry::init_non_blocking(config.server.log_format, std::io::stdout())
        {
            Ok(guard) => guard,
            Err(err) => {
                eprintln!("user-service: {err}");
                return ExitCode::from(2);
            }
        };
    let listener = match tokio::net::TcpListener::bind(config.server.addr()).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "user-service: cannot listen on {}: {err} (set PORT or BIND_ADDR)",
                config.server.addr()
            );
            return ExitCode::from(1);
        }
    };
    tracing::info!(addr = %config.server.addr(), shared_lib = shared_lib::VERSION, "user-service listening");
    match run(listener, config, shared_lib::server::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "server failed");
            ExitCode::from(1)
        }
    }
}
