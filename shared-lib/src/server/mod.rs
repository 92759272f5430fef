//! Serving a warp filter: request ids, access logs, graceful shutdown.
//!
//! [`serve`] takes the listener and the shutdown future from its caller (the
//! mini-redis shape), so a test binds port 0 and a `main` binds the
//! configured address, and both stop the server the same way.
//!
//! Around the service's filter it puts one small service that
//! - takes the caller's `x-request-id` or generates a UUID v4,
//! - continues the caller's W3C `traceparent` or starts a trace
//!   ([`crate::telemetry::trace`]),
//! - runs the request in a scope carrying both ids: handlers' own log lines
//!   show them as a `request` span would ([`crate::telemetry::request`]),
//!   and calls to other services send the trace on,
//! - counts it in the service's [`Metrics`] (by route template, method and
//!   status class, with its latency and while in flight) and answers
//!   `GET /metrics` from them, when [`ServeOptions::metrics`] is set,
//! - answers 408 when the request takes longer than its timeout,
//! - logs one access line when the answer leaves (method, path, status,
//!   latency, request id), formatted and written off the request path by
//!   the log thread ([`crate::telemetry::access`]),
//! - copies the id onto every response, errors included.
//!
//! Every connection closes with a lingering close ([`linger`]), so a client
//! still sending when the answer leaves reads the answer, not a reset.
//!
//! A service binary's `main` (settings, signals, the `healthcheck`
//! subcommand) is [`crate::lifecycle`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use warp::{Filter, Reply};

use crate::REQUEST_ID_HEADER;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::telemetry::TraceContext;
use crate::telemetry::request::Scope;

pub mod linger;

pub use linger::{LINGER_BYTES, LINGER_TIME};

// Where these lived up to 0.3.2, re-exported so code written against
// 0.3.2 keeps compiling; new code uses `crate::lifecycle`.
pub use crate::lifecycle::{HEALTHCHECK_TIMEOUT, Shutdown, healthcheck, main, shutdown_signal};

/// How long a client may take to send the request headers before its
/// connection is closed (guards against slow-loris clients).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request may take, from its headers to the end of its
/// answer's production (body upload and handler included), by default.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits and metrics [`serve_with`] applies.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A request taking longer is answered 408 `request_timeout` (shared
    /// error body, `connection: close`).
    pub request_timeout: Duration,
    /// Where requests are counted; `GET /metrics` answers from it. `None`
    /// counts nothing (and `GET /metrics` goes to the routes).
    pub metrics: Option<Arc<Metrics>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            request_timeout: REQUEST_TIMEOUT,
            metrics: None,
        }
    }
}

impl ServeOptions {
    /// The default limits, counting requests in `metrics`.
    pub fn metered(metrics: &Arc<Metrics>) -> ServeOptions {
        ServeOptions {
            metrics: Some(metrics.clone()),
            ..ServeOptions::default()
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
    R: Reply + 'static,
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
    R: Reply + 'static,
{
    // Boxed, the filter is one `Arc`: the per-request clone `call` needs
    // is a reference count, not a copy of every route and its state (a
    // deep clone and drop cost about 2k instructions a request).
    let filtered = warp::service(routes.boxed());
    let limit = options.request_timeout;
    let metrics = options.metrics;
    let service = tower::service_fn(move |mut req: warp::http::Request<hyper::body::Incoming>| {
        let mut inner = filtered.clone();
        let metrics = metrics.clone();
        async move {
            use tower::Service;
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
            let trace = TraceContext::continue_or_start(
                req.headers().get(crate::telemetry::TRACEPARENT_HEADER),
            );
            let in_flight = metrics
                .as_ref()
                .map(|m| m.start(req.method(), req.uri().path()));
            // Handlers' own lines carry the ids through the scope; method,
            // path and status are in the access line.
            let scope = Scope {
                request_id: request_id.to_str().unwrap_or("-").to_string(),
                trace: Some(trace),
            };
            let method = req.method().to_string();
            let path = req.uri().path().to_string();
            let (answer, id) = match &metrics {
                Some(m) if req.method() == warp::http::Method::GET && path == "/metrics" => {
                    (Ok(Ok(metrics_response(m))), scope.request_id)
                }
                _ => {
                    let mut scoped = std::pin::pin!(crate::telemetry::request::scope(
                        scope,
                        tokio::time::timeout(limit, inner.call(req)),
                    ));
                    let answer = scoped.as_mut().await;
                    // The id comes back with the scope: no second copy.
                    let id = scoped.take_value().map(|s| s.request_id);
                    (answer, id.unwrap_or_default())
                }
            };
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
            let latency = started.elapsed();
            let status = response.status().as_u16();
            if let Some(in_flight) = in_flight {
                in_flight.finish(status, latency);
            }
            crate::telemetry::access(crate::telemetry::AccessRecord {
                at: std::time::SystemTime::now(),
                method,
                path,
                status,
                latency,
                request_id: id,
                trace: Some(trace),
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
                TokioIo::new(linger::Lingering::new(stream)),
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

/// `GET /metrics`: every series of `metrics`, in the OpenMetrics text format.
fn metrics_response(metrics: &Metrics) -> warp::reply::Response {
    let mut response = warp::reply::Response::new(metrics.render().into());
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    response
}

/// A new request id (a UUID v4, as [`crate::filters::RequestId::generate`]
/// makes) as the `x-request-id` value.
fn new_request_id() -> warp::http::HeaderValue {
    // Encoded on the stack: the same UUID v4 text without a String.
    let mut buf = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    warp::http::HeaderValue::from_str(text)
        .unwrap_or_else(|_| warp::http::HeaderValue::from_static("-"))
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
            ..ServeOptions::default()
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
