//! Serving a warp filter: request ids, access logs, graceful shutdown.
//!
//! [`serve`] takes the listener and the shutdown future from its caller (the
//! mini-redis shape), so a test binds port 0 and a `main` binds the
//! configured address, and both stop the server the same way.
//!
//! Around the service's filter it puts one small service that
//! - takes the caller's `x-request-id` or generates a UUID v4,
//! - runs the request in a tracing span carrying that id (handlers' own
//!   log lines carry it),
//! - answers 408 when the request takes longer than its timeout,
//! - logs one access line when the answer leaves (method, path, status,
//!   latency, request id), formatted and written off the request path by
//!   the log thread ([`crate::telemetry::access`]),
//! - copies the id onto every response, errors included.
//!
//! Every connection closes with a lingering close, as nginx does: after
//! the server's last answer (a 413 sent without reading the body, say) it
//! sends FIN, then reads and discards what the client is still sending,
//! for at most [`LINGER_TIME`] and [`LINGER_BYTES`], before it closes.
//! Closing with unread data would make the kernel send a reset, and a
//! client that writes its whole body before reading (Python's urllib, many
//! HTTP libraries) would get `Broken pipe` or `Connection reset` instead
//! of the 413.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use warp::{Filter, Reply};

use crate::REQUEST_ID_HEADER;
use crate::error::ApiError;

/// How long a client may take to send the request headers before its
/// connection is closed (guards against slow-loris clients).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a closing connection keeps reading what the client still
/// sends after the server's last answer.
pub const LINGER_TIME: Duration = Duration::from_secs(5);

/// The most a closing connection reads and discards after the server's
/// last answer (a body a few times over the 64 KiB limit, comfortably).
pub const LINGER_BYTES: usize = 32 * 1024 * 1024;

/// How long one request may take, from its headers to the end of its
/// answer's production (body upload and handler included), by default.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits [`serve_with`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// A request taking longer is answered 408 `request_timeout` (shared
    /// error body, `connection: close`).
    pub request_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

/// Serves `routes` on `listener` until `shutdown` completes, then stops
/// accepting, lets in-flight requests finish and returns. Uses the default
/// [`ServeOptions`] (a 30 s request timeout).
///
/// `routes` must already have recovered its rejections
/// (`.recover(handle_rejection)`), hence `Error = Infallible`.
pub async fn serve<F, R>(
    listener: TcpListener,
    routes: F,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    F: Filter<Extract = (R,), Error = std::convert::Infallible> + Clone + Send + Sync + 'static,
    R: Reply,
{
    serve_with(listener, routes, shutdown, ServeOptions::default()).await
}

/// [`serve`] with explicit limits.
pub async fn serve_with<F, R>(
    listener: TcpListener,
    routes: F,
    shutdown: impl Future<Output = ()>,
    options: ServeOptions,
) -> std::io::Result<()>
where
    F: Filter<Extract = (R,), Error = std::convert::Infallible> + Clone + Send + Sync + 'static,
    R: Reply,
{
    let filtered = warp::service(routes);
    let limit = options.request_timeout;
    let service = tower::service_fn(move |mut req: warp::http::Request<hyper::body::Incoming>| {
        let mut inner = filtered.clone();
        async move {
            use tower::Service;
            use tracing::Instrument;
            let started = std::time::Instant::now();
            let request_id = match req.headers().get(REQUEST_ID_HEADER) {
                Some(given) => given.clone(),
                None => {
                    let generated = new_request_id();
                    req.headers_mut()
                        .insert(REQUEST_ID_HEADER, generated.clone());
                    generated
                }
            };
            let id = request_id.to_str().unwrap_or("-").to_string();
            // Handlers' own lines carry the id through this span; method,
            // path and status are in the access line.
            let span = tracing::info_span!("request", request_id = %id);
            let method = req.method().to_string();
            let path = req.uri().path().to_string();
            let answer = tokio::time::timeout(limit, inner.call(req))
                .instrument(span)
                .await;
            let mut response = match answer {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => ApiError::request_timeout(format!(
                    "the request took longer than {} ms",
                    limit.as_millis()
                ))
                .into_response(),
            };
            response
                .headers_mut()
                .entry(REQUEST_ID_HEADER)
                .or_insert(request_id);
            crate::telemetry::access(crate::telemetry::AccessRecord {
                at: std::time::SystemTime::now(),
                method,
                path,
                status: response.status().as_u16(),
                latency: started.elapsed(),
                request_id: id,
            });
            Ok::<_, std::convert::Infallible>(response)
        }
    });

    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(
                TokioIo::new(Lingering(Some(stream))),
                TowerToHyperService::new(service.clone()),
            );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!(%peer, %err, "connection closed with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: waiting for in-flight requests");
    graceful.shutdown().await;
    Ok(())
}

/// A connection's socket that closes with a lingering close when hyper is
/// done with it (see the module docs).
struct Lingering(Option<tokio::net::TcpStream>);

impl Lingering {
    fn stream(
        self: std::pin::Pin<&mut Self>,
    ) -> std::io::Result<std::pin::Pin<&mut tokio::net::TcpStream>> {
        match self.get_mut().0.as_mut() {
            Some(stream) => Ok(std::pin::Pin::new(stream)),
            None => Err(std::io::Error::from(std::io::ErrorKind::NotConnected)),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $cx:ident, $call:ident $(, $arg:expr)*) => {
        match $self.stream() {
            Ok(stream) => stream.$call($cx $(, $arg)*),
            Err(err) => std::task::Poll::Ready(Err(err)),
        }
    };
}

impl tokio::io::AsyncRead for Lingering {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        delegate!(self, cx, poll_read, buf)
    }
}

impl tokio::io::AsyncWrite for Lingering {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        delegate!(self, cx, poll_write, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        delegate!(self, cx, poll_write_vectored, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        delegate!(self, cx, poll_flush)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        delegate!(self, cx, poll_shutdown)
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        if let Some(stream) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(linger(stream));
        }
    }
}

/// Sends FIN, then reads and discards until the client closes, for at most
/// [`LINGER_TIME`] and [`LINGER_BYTES`]; the socket closes when it returns.
async fn linger(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.shutdown().await;
    let deadline = tokio::time::Instant::now() + LINGER_TIME;
    let mut buf = vec![0u8; 16 * 1024];
    let mut left = LINGER_BYTES;
    while left > 0 {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
            _ => break,
        }
    }
}

/// A new request id ([`crate::filters::RequestId::generate`]) as the
/// `x-request-id` value.
fn new_request_id() -> warp::http::HeaderValue {
    warp::http::HeaderValue::from_str(crate::filters::RequestId::generate().as_str())
        .unwrap_or_else(|_| warp::http::HeaderValue::from_static("-"))
}

/// How long [`healthcheck`] waits for the answer.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The `healthcheck` subcommand of a service binary, for a container's
/// HEALTHCHECK without curl in the image: `GET path` on loopback at the
/// configured port, `Ok` on a 200, else what went wrong. Plain HTTP/1.1
/// over a std socket: no runtime, no extra dependency.
pub fn healthcheck(server: &crate::config::ServerConfig, path: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let addr = SocketAddr::from(([127, 0, 0, 1], server.port));
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
/// #     fn server(&self) -> &shared_lib::config::ServerConfig { &self.server }
/// # }
/// # async fn run(_: tokio::net::TcpListener, _: Config, _: impl std::future::Future<Output = ()>) -> std::io::Result<()> { Ok(()) }
/// # async fn example(config: Result<Config, shared_lib::config::ConfigError>) -> std::process::ExitCode {
/// shared_lib::server::main("user-service", config, |l, c, s| run(l, c, s)).await
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn raw_get(addr: SocketAddr, path: &str, extra: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{extra}\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn a_request_whose_body_never_ends_gets_408_and_a_closed_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = warp::path("echo")
            .and(crate::filters::json_body::<serde_json::Value>(1024))
            .map(|v: serde_json::Value| warp::reply::json(&v))
            .recover(handle_rejection);
        let options = ServeOptions {
            request_timeout: Duration::from_millis(200),
        };
        tokio::spawn(serve_with(
            listener,
            routes,
            std::future::pending(),
            options,
        ));
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        // Promise 100 bytes, send 2, then stall.
        let head = "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{}";
        s.write_all(head.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 408"), "{out}");
        assert!(out.contains("connection: close"), "{out}");
        assert!(out.contains(r#""code":"request_timeout""#), "{out}");
        assert!(out.contains("x-request-id: "), "{out}");
    }

    /// A client that writes its whole body before reading anything, as
    /// Python's urllib does, must read the 413 (no reset, no broken pipe).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_oversized_body_sent_whole_before_reading_still_gets_its_413() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = warp::path("echo")
            .and(crate::filters::json_body::<serde_json::Value>(64 * 1024))
            .map(|v: serde_json::Value| warp::reply::json(&v))
            .recover(handle_rejection);
        tokio::spawn(serve(listener, routes, std::future::pending()));
        for size in [256 * 1024, 1024 * 1024, 3 * 1024 * 1024, 8 * 1024 * 1024] {
            for attempt in 0..3 {
                let answer = tokio::task::spawn_blocking(move || {
                    use std::io::{Read, Write};
                    let mut s = std::net::TcpStream::connect(addr)?;
                    let head = format!(
                        "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
                    );
                    s.write_all(head.as_bytes())?;
                    s.write_all(&vec![b' '; size])?;
                    let mut out = String::new();
                    s.read_to_string(&mut out)?;
                    Ok::<_, std::io::Error>(out)
                })
                .await
                .unwrap();
                let out = answer.unwrap_or_else(|e| panic!("{size} bytes, try {attempt}: {e}"));
                assert!(out.starts_with("HTTP/1.1 413"), "{size} bytes: {out}");
                assert!(out.contains(r#""code":"payload_too_large""#), "{out}");
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_healthcheck_probe_passes_on_200_only() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes = crate::filters::health()
            .or(warp::path("down").map(|| {
                warp::reply::with_status("no", warp::http::StatusCode::SERVICE_UNAVAILABLE)
            }))
            .recover(handle_rejection);
        tokio::spawn(serve(listener, routes, std::future::pending()));
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

    #[tokio::test]
    async fn serves_with_request_ids_and_stops_on_shutdown() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = crate::filters::request_id()
            .and(warp::path("id"))
            .map(|id: crate::filters::RequestId| id.to_string())
            .recover(handle_rejection);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, routes, async {
            let _ = stopped.await;
        }));

        let given = raw_get(addr, "/id", "x-request-id: trace-me\r\n").await;
        assert!(given.contains("x-request-id: trace-me"), "{given}");
        assert!(
            given.ends_with("trace-me"),
            "handler saw the same id: {given}"
        );

        let generated = raw_get(addr, "/id", "").await;
        let header = generated
            .lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
            .expect("generated id header");
        assert!(
            generated.ends_with(header),
            "handler and response agree: {generated}"
        );

        let missing = raw_get(addr, "/missing", "").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        assert!(
            missing.contains("x-request-id: "),
            "errors carry the id too"
        );

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "listener closed"
        );
    }
}
