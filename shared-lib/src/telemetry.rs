//! Tracing setup: one call at start-up.
//!
//! The level filter comes from `RUST_LOG` (default `info`); the format is
//! text for people or JSON lines for log collectors. [`init_non_blocking`]
//! (what the services use) moves the writing off the request path: lines
//! go through a bounded in-memory queue to a writer thread; when the queue
//! is full a request waits for room, so no line is ever dropped, and the
//! returned [`LogGuard`] flushes what is queued when it is dropped at exit. Text is coloured only
//! when stdout is a terminal and `NO_COLOR` is unset, so log files and
//! container logs hold plain text. The writer is a
//! parameter, so a test can capture logs; [`init_for_tests`] logs only when
//! `TEST_LOG` is set.

use std::io::IsTerminal;
use std::str::FromStr;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format;

pub mod request;
pub mod trace;

pub use request::{RequestScoped, current_request_id, current_trace};
pub use trace::{TRACEPARENT_HEADER, TraceContext, traceparent};

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected `text` or `json`".to_string()),
        }
    }
}

/// Why tracing could not be set up.
#[derive(Debug)]
pub enum TelemetryError {
    /// `RUST_LOG` is not a valid filter.
    InvalidFilter(String),
    /// A global subscriber was already installed.
    AlreadyInitialised,
}

impl std::fmt::Display for TelemetryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TelemetryError::InvalidFilter(why) => write!(f, "invalid RUST_LOG: {why}"),
            TelemetryError::AlreadyInitialised => write!(f, "tracing is already initialised"),
        }
    }
}

impl std::error::Error for TelemetryError {}

/// The level filter: `RUST_LOG` when set, else `info`.
#[deprecated(
    since = "0.5.1",
    note = "lends out tracing-subscriber's EnvFilter; `init` and `init_non_blocking` read RUST_LOG themselves. Removed at the next breaking release."
)]
#[doc(hidden)]
pub fn filter_from_env() -> Result<EnvFilter, TelemetryError> {
    env_filter()
}

/// The level filter: `RUST_LOG` when set, else `info`.
fn env_filter() -> Result<EnvFilter, TelemetryError> {
    match std::env::var("RUST_LOG") {
        Ok(spec) => {
            EnvFilter::try_new(&spec).map_err(|e| TelemetryError::InvalidFilter(e.to_string()))
        }
        Err(_) => Ok(EnvFilter::new("info")),
    }
}

/// Whether text logs get ANSI colours: stdout is a terminal and `NO_COLOR`
/// is unset (<https://no-color.org>).
pub fn use_colour() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Installs the global subscriber writing `format` lines to `writer`.
pub fn init<W>(format: LogFormat, writer: W) -> Result<(), TelemetryError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let colour = use_colour();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter()?)
        .with_ansi(colour)
        .with_writer(writer);
    // Lines logged while a request is served carry its id as a `request`
    // span would ([`request`]).
    let text = || RequestScoped::new(format::Format::default(), false);
    let installed = match format {
        // Without colour, fields are written as plain `name=value`: the
        // default formatter styles each name even when styles are off.
        LogFormat::Text if !colour => builder
            .fmt_fields(plain_fields())
            .event_format(text())
            .try_init(),
        LogFormat::Text => builder.event_format(text()).try_init(),
        LogFormat::Json => builder
            .json()
            .event_format(RequestScoped::new(
                format::Format::default().json().with_current_span(true),
                true,
            ))
            .try_init(),
    };
    installed.map_err(|_| TelemetryError::AlreadyInitialised)
}

/// Text fields as `name=value`, space-separated, the message bare: what
/// the default formatter writes without colour, at less cost.
fn plain_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let name = field.name();
        if name == "message" {
            write!(w, "{value:?}")
        } else {
            write!(w, "{}={value:?}", name.strip_prefix("r#").unwrap_or(name))
        }
    })
    .delimited(" ")
}

/// How many log lines may wait for the writer thread before a request that
/// logs waits for room.
pub const LOG_QUEUE_LINES: usize = 16_384;

/// Flushes the queued log lines when dropped: keep it alive in `main` until
/// the server has shut down.
#[must_use = "dropping the guard stops the log writer; keep it until exit"]
#[derive(Debug)]
pub struct LogGuard {
    // Fields drop in this order: the access-log thread writes its last
    // batch into the writer's queue before the writer thread is flushed.
    /// Stops and joins the access-log thread when dropped.
    _access: AccessGuard,
    /// Flushes and stops the writer thread when dropped; never read.
    _worker: tracing_appender::non_blocking::WorkerGuard,
}

/// One access-log line: what [`access`] takes on the request path. It is
/// formatted (text or JSON, as the other lines) and written by the log
/// thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// When the answer left.
    pub at: std::time::SystemTime,
    /// The request method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The answer's status.
    pub status: u16,
    /// From the request's arrival to the answer.
    pub latency: std::time::Duration,
    /// The request id (the caller's `x-request-id`, or the generated one).
    pub request_id: String,
    /// The request's trace context (its trace id is logged), if any.
    pub trace: Option<TraceContext>,
}

impl AccessRecord {
    /// The line, in `format`, newline included.
    pub fn line(&self, format: LogFormat) -> String {
        let mut out = String::new();
        self.write_line(format, &mut out);
        out
    }

    /// Appends [`AccessRecord::line`] to `out` (the log thread's batch),
    /// without a string of its own.
    fn write_line(&self, format: LogFormat, out: &mut String) {
        use std::fmt::Write;
        // Writing into a String cannot fail.
        let _ = match format {
            LogFormat::Text => {
                // Pieces pushed one by one: `std::fmt` machinery for seven
                // arguments cost more than the rest of the line.
                write_rfc3339_micros(out, self.at);
                out.push_str("  INFO access: ");
                out.push_str(&self.method);
                out.push(' ');
                out.push_str(&self.path);
                out.push(' ');
                push_digits(out, u64::from(self.status), 1);
                out.push(' ');
                // Milliseconds with 3 decimals, from integer microseconds.
                let us = u64::try_from(self.latency.as_micros()).unwrap_or(u64::MAX);
                push_digits(out, us / 1000, 1);
                out.push('.');
                push_digits(out, us % 1000, 3);
                out.push_str(" ms request_id=");
                out.push_str(&self.request_id);
                if let Some(trace) = &self.trace {
                    out.push_str(" trace_id=");
                    out.push_str(trace.trace_id());
                }
                out.push('\n');
                Ok(())
            }
            LogFormat::Json => {
                let at = humantime::format_rfc3339_micros(self.at);
                let ms = self.latency.as_secs_f64() * 1000.0;
                let line = serde_json::json!({
                    "timestamp": at.to_string(),
                    "level": "INFO",
                    "target": ACCESS_TARGET,
                    "fields": {
                        "message": "request",
                        "method": self.method,
                        "path": self.path,
                        "status": self.status,
                        "latency_ms": ms,
                        "request_id": self.request_id,
                        "trace_id": self.trace.as_ref().map(TraceContext::trace_id),
                    },
                });
                writeln!(out, "{line}")
            }
        };
    }
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut start = buf.len();
    while n > 0 || buf.len() - start < width.max(1) {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[start..]).unwrap_or_default());
}

/// Appends `at` as humantime's `format_rfc3339_micros` writes it
/// (`2027-01-15T08:00:00.000000Z`), from integer arithmetic into a fixed
/// buffer: the date by Howard Hinnant's `civil_from_days`. Outside years
/// 1970-9999 it leaves the job to humantime.
fn write_rfc3339_micros(out: &mut String, at: std::time::SystemTime) {
    let Ok(since) = at.duration_since(std::time::UNIX_EPOCH) else {
        out.push_str(&humantime::format_rfc3339_micros(at).to_string());
        return;
    };
    let secs = since.as_secs();
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    // civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    if year > 9_999 {
        out.push_str(&humantime::format_rfc3339_micros(at).to_string());
        return;
    }
    let mut buf = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |end: usize, mut n: u64, digits: usize| {
        for i in 0..digits {
            buf[end - i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(3, year, 4);
    put(6, month, 2);
    put(9, day, 2);
    put(12, of_day / 3_600, 2);
    put(15, of_day / 60 % 60, 2);
    put(18, of_day % 60, 2);
    put(25, u64::from(since.subsec_micros()), 6);
    // Only ASCII was written.
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// The target access lines are filtered by: `RUST_LOG=shared_lib::access=warn`
/// turns them off.
pub const ACCESS_TARGET: &str = "shared_lib::access";

type AccessSink = std::sync::mpsc::SyncSender<AccessRecord>;

/// Where [`access`] sends records, once [`init_non_blocking`] ran.
static ACCESS_SINK: std::sync::Mutex<Option<AccessSink>> = std::sync::Mutex::new(None);

/// Stops the access-log thread (after it wrote everything queued) when dropped.
#[derive(Debug)]
struct AccessGuard(Option<std::thread::JoinHandle<()>>);

impl Drop for AccessGuard {
    fn drop(&mut self) {
        // Closing the channel ends the thread once it drained the queue.
        crate::sync::lock(&ACCESS_SINK).take();
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// While requests keep coming, the access-log thread writes what queued
/// up at most this often (nginx's `access_log ... flush=`), instead of
/// being woken for every line; an idle one sleeps until the next line.
pub const ACCESS_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);

/// The most bytes of access lines the thread holds before it writes them.
const ACCESS_BATCH_BYTES: usize = 64 * 1024;

/// Starts the thread that formats and writes access records to `writer`,
/// behind a queue of [`LOG_QUEUE_LINES`]; a full queue makes the request
/// wait (no line is lost).
///
/// Idle, the thread blocks on the queue. Once a line arrives it writes
/// what is queued, then every [`ACCESS_FLUSH_INTERVAL`] writes what came
/// meanwhile in one write, until an interval brings nothing: under load a
/// request only pushes a record (no wake-up of this thread, no syscall),
/// and a line waits at most one interval. When the queue closes (the
/// guard drops) everything queued is written before the thread ends.
fn start_access_log<W>(format: LogFormat, mut writer: W) -> AccessGuard
where
    W: std::io::Write + Send + 'static,
{
    use std::sync::mpsc::TryRecvError;
    let (sink, records) = std::sync::mpsc::sync_channel::<AccessRecord>(LOG_QUEUE_LINES);
    *crate::sync::lock(&ACCESS_SINK) = Some(sink);
    let thread = std::thread::Builder::new()
        .name("access-log".into())
        .spawn(move || {
            let mut out = String::with_capacity(ACCESS_BATCH_BYTES);
            let mut write = |out: &mut String| {
                let _ = writer.write_all(out.as_bytes());
                let _ = writer.flush();
                out.clear();
            };
            // Idle: wait for the next line.
            while let Ok(first) = records.recv() {
                first.write_line(format, &mut out);
                // Busy: drain, write, let the queue fill for an interval.
                loop {
                    let closed = loop {
                        match records.try_recv() {
                            Ok(next) => {
                                next.write_line(format, &mut out);
                                if out.len() >= ACCESS_BATCH_BYTES {
                                    write(&mut out);
                                }
                            }
                            Err(TryRecvError::Empty) => break false,
                            Err(TryRecvError::Disconnected) => break true,
                        }
                    };
                    let wrote = !out.is_empty();
                    if wrote {
                        write(&mut out);
                    }
                    if closed {
                        return;
                    }
                    if !wrote {
                        break;
                    }
                    std::thread::sleep(ACCESS_FLUSH_INTERVAL);
                }
            }
        })
        .ok();
    AccessGuard(thread)
}

/// Logs one answered request. With [`init_non_blocking`] installed, the
/// record goes to the access-log thread (formatting included: nothing but a
/// queue push on the request path); else it is an ordinary `info` event.
/// `RUST_LOG` filters it under [`ACCESS_TARGET`].
pub fn access(record: AccessRecord) {
    if !tracing::enabled!(target: "shared_lib::access", tracing::Level::INFO) {
        return;
    }
    let sink = crate::sync::lock(&ACCESS_SINK).clone();
    match sink {
        Some(sink) => {
            let _ = sink.send(record);
        }
        None => tracing::info!(
            target: "shared_lib::access",
            method = %record.method,
            path = %record.path,
            status = record.status,
            latency_ms = record.latency.as_secs_f64() * 1000.0,
            request_id = %record.request_id,
            trace_id = record.trace.as_ref().map(TraceContext::trace_id),
            "request"
        ),
    }
}

/// Like [`init`], with `writer` behind a bounded queue and its own thread:
/// a request never waits for stdout unless [`LOG_QUEUE_LINES`] lines are
/// already queued, and then it waits rather than losing a line. It also
/// starts the access-log thread: [`access`] records are formatted there, in
/// the same format, and handed in batches to the same `writer` queue as
/// every other line, so whatever captures the logs captures access lines.
pub fn init_non_blocking<W>(format: LogFormat, writer: W) -> Result<LogGuard, TelemetryError>
where
    W: std::io::Write + Send + 'static,
{
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .thread_name("log-writer")
        .finish(writer);
    init(format, writer.clone())?;
    Ok(LogGuard {
        _access: start_access_log(format, writer),
        _worker: guard,
    })
}

/// For tests: logs as text through the test harness' capture when
/// `TEST_LOG` is set, and stays silent otherwise. Safe to call many times.
pub fn init_for_tests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(env_filter().unwrap_or_else(|_| EnvFilter::new("info")))
                .event_format(RequestScoped::new(format::Format::default(), false))
                .with_test_writer()
                .try_init();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer keeping everything written, shared by its clones (also
    /// the request scope's tests' writer).
    #[derive(Clone, Default)]
    pub(super) struct Capture(pub(super) std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Capture {
        /// Everything written so far.
        pub(super) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn plain_fields_write_what_the_default_formatter_writes_without_colour() {
        let emit = || {
            let span = tracing::info_span!("request", request_id = %"r-1");
            let _in = span.enter();
            tracing::info!(n = 3, r#type = "x", text = ?"quoted", "hello {}", 7);
            tracing::warn!(ok = true);
        };
        let default = Capture::default();
        let w = default.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .without_time()
            .with_writer(move || w.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let plain = Capture::default();
        let w = plain.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .without_time()
            .fmt_fields(plain_fields())
            .with_writer(move || w.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let text = Capture::text;
        assert!(
            text(&plain).contains("request{request_id=r-1}: "),
            "{}",
            text(&plain)
        );
        assert_eq!(text(&plain), text(&default));
    }

    #[test]
    fn log_format_parses_case_insensitively_and_explains_errors() {
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        assert_eq!("TEXT".parse(), Ok(LogFormat::Text));
        assert_eq!(
            "xml".parse::<LogFormat>(),
            Err("expected `text` or `json`".to_string())
        );
    }

    #[test]
    fn queued_lines_are_all_written_by_the_time_the_guard_drops() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Slow(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Slow {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                // Slower than the producer: the small queue fills up.
                std::thread::yield_now();
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Slow::default();
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .buffered_lines_limit(4)
            .finish(out.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(writer)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..2_000 {
                tracing::info!(i, "line");
            }
        });
        drop(guard);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text.lines().count(),
            2_000,
            "no line lost with a full queue"
        );
        assert!(text.lines().last().unwrap().contains("i=1999"));
    }

    #[test]
    fn access_lines_carry_method_path_status_latency_and_request_id() {
        let record = AccessRecord {
            at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000),
            method: "GET".into(),
            path: "/api/users/7".into(),
            status: 404,
            latency: std::time::Duration::from_micros(1500),
            request_id: "r-9".into(),
            trace: None,
        };
        let text = record.line(LogFormat::Text);
        assert_eq!(
            text,
            "2027-01-15T08:00:00.000000Z  INFO access: GET /api/users/7 404 1.500 ms request_id=r-9\n"
        );
        let traced = AccessRecord {
            trace: Some(TraceContext::continue_or_start(Some(
                &warp::http::HeaderValue::from_static(
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                ),
            ))),
            ..record.clone()
        };
        assert!(
            traced
                .line(LogFormat::Text)
                .ends_with(" request_id=r-9 trace_id=4bf92f3577b34da6a3ce929d0e0e4736\n")
        );
        let json: serde_json::Value = serde_json::from_str(&traced.line(LogFormat::Json)).unwrap();
        assert_eq!(
            json["fields"]["trace_id"],
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let json: serde_json::Value = serde_json::from_str(&record.line(LogFormat::Json)).unwrap();
        assert_eq!(json["fields"]["path"], "/api/users/7");
        assert_eq!(json["fields"]["status"], 404);
        assert_eq!(json["fields"]["latency_ms"], 1.5);
        assert_eq!(json["fields"]["request_id"], "r-9");
        assert_eq!(json["target"], ACCESS_TARGET);
    }

    #[test]
    fn access_timestamps_and_numbers_read_as_humantime_and_format_write_them() {
        // Every third day or so from 1970 to 9999 at a varying time of
        // day, leap days and centuries included.
        let mut at = 0u64;
        let mut checked = 0;
        while at < 253_402_300_800 {
            let t = std::time::UNIX_EPOCH
                + std::time::Duration::new(
                    at + (at / 86_400 % 86_400),
                    (at % 1_000_000) as u32 * 997,
                );
            let mut ours = String::new();
            write_rfc3339_micros(&mut ours, t);
            assert_eq!(ours, humantime::format_rfc3339_micros(t).to_string());
            at += 3 * 86_400 + 3_607;
            checked += 1;
        }
        assert!(checked > 900_000);
        for n in [0u64, 7, 42, 999, 1_000, 65_535, u64::MAX] {
            for width in [1, 3, 6] {
                let mut ours = String::new();
                push_digits(&mut ours, n, width);
                assert_eq!(ours, format!("{n:0width$}"));
            }
        }
    }

    #[test]
    fn the_access_thread_writes_every_record_before_its_guard_returns() {
        let out = Capture::default();
        let guard = start_access_log(LogFormat::Text, out.clone());
        let sink = ACCESS_SINK.lock().unwrap().clone().unwrap();
        // A lone line is written within a flush interval or so, without
        // waiting for more lines or for the guard.
        let record = |path: String, request_id: String| AccessRecord {
            at: std::time::SystemTime::now(),
            method: "GET".into(),
            path,
            status: 200,
            latency: std::time::Duration::ZERO,
            request_id,
            trace: None,
        };
        sink.send(record("/alone".into(), "lone".into())).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !String::from_utf8_lossy(&out.0.lock().unwrap()).contains("request_id=lone") {
            assert!(
                std::time::Instant::now() < deadline,
                "the lone line was never written"
            );
            std::thread::yield_now();
        }
        for i in 0..3_000 {
            sink.send(record(format!("/n/{i}"), format!("id-{i}")))
                .unwrap();
        }
        drop(sink);
        drop(guard);
        let text = out.text();
        let ours: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("request_id=id-"))
            .collect();
        assert_eq!(ours.len(), 3_000, "no record lost");
        assert!(
            ours.last().unwrap().ends_with("request_id=id-2999"),
            "in order"
        );
    }

    #[test]
    fn json_lines_carry_the_span_fields() {
        let buf = Capture::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = "r-1");
            let _g = span.enter();
            tracing::info!("hello");
        });
        let out = buf.text();
        let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["fields"]["message"], "hello");
        assert_eq!(line["span"]["request_id"], "r-1");
    }
}
