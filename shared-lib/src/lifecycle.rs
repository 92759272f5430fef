//! A service binary's process: its whole `main` ([`main`]: settings,
//! logging, binding, signals) and the `healthcheck` subcommand a
//! container's HEALTHCHECK runs ([`healthcheck`]). Serving itself is
//! [`crate::server`].

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

/// How long [`healthcheck`] waits for the answer.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The `healthcheck` subcommand of a service binary, for a container's
/// HEALTHCHECK without curl in the image: `GET path` on loopback at the
/// configured port, `Ok` on a 200, else what went wrong. Plain HTTP/1.1
/// over a std socket: no runtime, no extra dependency.
pub fn healthcheck(server: &crate::config::ServerConfig, path: &str) -> Result<(), String> {
    probe(SocketAddr::from(([127, 0, 0, 1], server.port)), path)
}

/// `GET path` at `addr` within [`HEALTHCHECK_TIMEOUT`]: `Ok` on a 200,
/// else what went wrong.
pub(crate) fn probe(addr: SocketAddr, path: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect_timeout(&addr, HEALTHCHECK_TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(HEALTHCHECK_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(HEALTHCHECK_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send to {addr}: {e}"))?;
    let mut head = [0u8; 64];
    let n = stream
        .read(&mut head)
        .map_err(|e| format!("no answer from {addr}{path}: {e}"))?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status_line = status_line.lines().next().unwrap_or("");
    if status_line.starts_with("HTTP/1.1 200") || status_line.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        Err(format!("{addr}{path} answered {status_line:?}"))
    }
}

/// The shutdown future [`main`] hands to a service's `run`.
pub type Shutdown = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// A service binary's whole `main`, the same for every service:
/// - settings that do not parse: one line on stderr, exit 2;
/// - `<binary> healthcheck`: [`healthcheck`] of `/ready`, exit 0 or 1;
/// - access logs through [`crate::telemetry::init_non_blocking`], flushed
///   at exit;
/// - the configured address bound (exit 1 with the reason when it cannot
///   be), then `run(listener, config, shutdown)` until SIGTERM or Ctrl-C.
///
/// ```no_run
/// # struct Config { server: shared_lib::config::ServerConfig }
/// # impl shared_lib::config::ServiceConfig for Config {
/// #     fn from_lookup(l: &impl Fn(&str) -> Option<String>) -> Result<Config, shared_lib::config::ConfigError> {
/// #         Ok(Config { server: shared_lib::config::ServerConfig::from_lookup(l, 8081)? })
/// #     }
/// #     fn server(&self) -> &shared_lib::config::ServerConfig { &self.server }
/// # }
/// # async fn run(_: tokio::net::TcpListener, _: Config, _: impl std::future::Future<Output = ()>) -> std::io::Result<()> { Ok(()) }
/// # async fn example(config: Result<Config, shared_lib::config::ConfigError>) -> std::process::ExitCode {
/// shared_lib::lifecycle::main("user-service", config, |l, c, s| run(l, c, s)).await
/// # }
/// ```
pub async fn main<C, F, Fut>(
    service: &str,
    config: Result<C, crate::config::ConfigError>,
    run: F,
) -> std::process::ExitCode
where
    C: crate::config::ServiceConfig,
    F: FnOnce(TcpListener, C, Shutdown) -> Fut,
    Fut: Future<Output = std::io::Result<()>>,
{
    use std::process::ExitCode;
    let config = match config {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{service}: {err}");
            return ExitCode::from(2);
        }
    };
    let server = config.server().clone();
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return match healthcheck(&server, "/ready") {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("{service}: unhealthy: {err}");
                ExitCode::FAILURE
            }
        };
    }
    // Kept until the end of main: dropping it flushes the queued log lines.
    let _logs = match crate::telemetry::init_non_blocking(server.log_format, std::io::stdout()) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("{service}: {err}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(server.addr()).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "{service}: cannot listen on {}: {err} (set PORT or BIND_ADDR)",
                server.addr()
            );
            return ExitCode::from(1);
        }
    };
    tracing::info!(addr = %server.addr(), shared_lib = crate::VERSION, "{service} listening");
    match run(listener, config, Box::pin(shutdown_signal())).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "server failed");
            ExitCode::from(1)
        }
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT), whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::handle_rejection;
    use warp::Filter;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_healthcheck_probe_passes_on_200_only() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes = crate::filters::health()
            .or(warp::path("down").map(|| {
                warp::reply::with_status("no", warp::http::StatusCode::SERVICE_UNAVAILABLE)
            }))
            .recover(handle_rejection);
        tokio::spawn(crate::server::serve(
            listener,
            routes,
            std::future::pending(),
        ));
        let config = crate::config::ServerConfig::from_lookup(&|_| None, port).unwrap();
        let probe = |path: &'static str| {
            let config = config.clone();
            tokio::task::spawn_blocking(move || healthcheck(&config, path))
        };
        assert_eq!(probe("/health").await.unwrap(), Ok(()));
        let err = probe("/down").await.unwrap().unwrap_err();
        assert!(err.contains("503"), "{err}");
        let closed = crate::config::ServerConfig::from_lookup(&|_| None, 1).unwrap();
        assert!(
            healthcheck(&closed, "/health")
                .unwrap_err()
                .contains("cannot connect")
        );
    }
}
