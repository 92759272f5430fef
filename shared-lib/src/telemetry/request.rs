//! The request id and trace id in every line logged while a request is
//! served, without a tracing span per request.
//!
//! [`crate::server::serve`] runs each request inside `scope`: the ids sit
//! in a task-local, which costs a pointer swap per poll. A span would cost
//! about 4k instructions a request (created in the subscriber's registry,
//! its field formatted, entered and left at every poll, closed), most
//! requests log nothing but their access line, which carries the id
//! itself.
//!
//! When a line is logged inside the scope, [`RequestScoped`] writes it as
//! if a span `request{request_id=... trace_id=...}` were the outermost
//! span, byte for byte what the fmt layer writes for a real one: text
//! `... INFO request{request_id=abc trace_id=4bf9...}: target: message`,
//! JSON `"span":{"request_id":"abc","trace_id":"4bf9...","name":"request"},"spans":[...]`.
//! The tests compare both with a real span's output.
//!
//! Like a span, the id does not follow work moved to another task:
//! `tokio::spawn` starts outside the scope.

use std::fmt::Write as _;
use std::future::Future;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// One request's place in a trace: the trace it belongs to, its own span
/// id and the trace flags, each held as the lowercase hex the header uses.
/// `Copy` and allocation-free, so every request carries one at no cost.
/// Made and read in [`super::trace`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub(super) trace_id: [u8; 32],
    pub(super) span_id: [u8; 16],
    pub(super) flags: [u8; 2],
}

/// What a request's lines carry: its id and its place in a trace.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// The request id (the caller's `x-request-id` or a generated one).
    pub(crate) request_id: String,
    /// The request's trace context (the caller's `traceparent` continued,
    /// or a new trace).
    pub(crate) trace: Option<TraceContext>,
}

tokio::task_local! {
    static REQUEST: Scope;
}

/// The name the request's lines show as their outermost span.
pub const SPAN_NAME: &str = "request";

/// Runs `future` with `scope`'s ids on every line it logs. The returned
/// future gives the scope back ([`tokio::task::futures::TaskLocalFuture::take_value`])
/// once done, so the caller can use it again without a copy.
pub(crate) fn scope<F: Future>(
    scope: Scope,
    future: F,
) -> tokio::task::futures::TaskLocalFuture<Scope, F> {
    REQUEST.scope(scope, future)
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST.try_with(|scope| scope.request_id.clone()).ok()
}

/// The trace context of the request being served on this task, if any.
pub fn current_trace() -> Option<TraceContext> {
    REQUEST.try_with(|scope| scope.trace).ok().flatten()
}

/// An event formatter that adds the request scope to the lines of a
/// tracing-subscriber [`Format`] (see the module docs).
#[derive(Debug, Clone)]
pub struct RequestScoped<F, T> {
    inner: Format<F, T>,
    json: bool,
}

impl<F, T> RequestScoped<F, T> {
    /// Wraps `inner`, a text format (`json = false`) or a JSON one with the
    /// current span and the span list on (tracing-subscriber's defaults).
    pub fn new(inner: Format<F, T>, json: bool) -> Self {
        RequestScoped { inner, json }
    }
}

impl<S, N, F, T> FormatEvent<S, N> for RequestScoped<F, T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: Clone,
    T: Clone,
    Format<F, T>: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let Ok(line) = REQUEST.try_with(|scope| {
            let id = &scope.request_id;
            let trace = scope.trace.as_ref().map(TraceContext::trace_id);
            let ansi = writer.has_ansi_escapes();
            let mut line = String::new();
            // Formatted aside to be spliced; a writer of one's own has no
            // colour, so the format is told the layer's.
            self.inner
                .clone()
                .with_ansi(ansi)
                .format_event(ctx, Writer::new(&mut line), event)
                .map(|()| {
                    let other_spans = ctx.event_scope().is_some();
                    if self.json {
                        json_with_request(&line, id, trace, other_spans)
                    } else {
                        let level = event.metadata().level().as_str();
                        text_with_request(&line, level, id, trace, ansi, other_spans)
                    }
                })
        }) else {
            // Outside a request: the line as it is.
            return self.inner.format_event(ctx, writer, event);
        };
        writer.write_str(&line?)
    }
}

/// `line` (the text formatter's) with the request span written where the
/// fmt layer writes spans: after the level and its space, before any other
/// span (joined by `:`) or the target (then a space).
fn text_with_request(
    line: &str,
    level: &str,
    id: &str,
    trace: Option<&str>,
    ansi: bool,
    other_spans: bool,
) -> String {
    // The timestamp holds no level name; the level is followed by a space
    // (after its colour's reset, with colour).
    let at = line
        .find(level)
        .and_then(|start| line[start..].find(' ').map(|space| start + space + 1))
        .unwrap_or(0);
    let mut out = String::with_capacity(line.len() + id.len() + 48);
    out.push_str(&line[..at]);
    if ansi {
        // Bold name and braces, italic field name, dimmed `=` and `:`.
        let _ = write!(
            out,
            "\x1b[1m{SPAN_NAME}\x1b[0m\x1b[1m{{\x1b[0m\x1b[3mrequest_id\x1b[0m\x1b[2m=\x1b[0m{id}"
        );
        if let Some(trace) = trace {
            let _ = write!(out, " \x1b[3mtrace_id\x1b[0m\x1b[2m=\x1b[0m{trace}");
        }
        out.push_str("\x1b[1m}\x1b[0m\x1b[2m:\x1b[0m");
    } else {
        let _ = write!(out, "{SPAN_NAME}{{request_id={id}");
        if let Some(trace) = trace {
            let _ = write!(out, " trace_id={trace}");
        }
        out.push_str("}:");
    }
    if !other_spans {
        out.push(' ');
    }
    out.push_str(&line[at..]);
    out
}

/// `line` (the JSON formatter's) with the request span: as `span` and the
/// only entry of `spans` when no other span is current, else first in
/// `spans` (the current span stays the innermost one).
fn json_with_request(line: &str, id: &str, trace: Option<&str>, other_spans: bool) -> String {
    let span = match trace {
        Some(trace) => format!(
            r#"{{"request_id":{},"trace_id":"{trace}","name":"{SPAN_NAME}"}}"#,
            serde_json::Value::from(id)
        ),
        None => format!(
            r#"{{"request_id":{},"name":"{SPAN_NAME}"}}"#,
            serde_json::Value::from(id)
        ),
    };
    let mut out = String::with_capacity(line.len() + 2 * span.len() + 20);
    let spans_key = r#""spans":["#;
    match line.rfind(spans_key) {
        Some(at) if other_spans => {
            let at = at + spans_key.len();
            out.push_str(&line[..at]);
            out.push_str(&span);
            out.push(',');
            out.push_str(&line[at..]);
        }
        _ => {
            let at = line.rfind('}').unwrap_or(line.len());
            out.push_str(&line[..at]);
            let _ = write!(out, r#","span":{span},"spans":[{span}]"#);
            out.push_str(&line[at..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::Capture;
    use super::*;
    use tracing_subscriber::fmt::format::{self, FmtSpan};
    use tracing_subscriber::fmt::time::FormatTime;

    /// A clock that always says the same, so two outputs compare.
    #[derive(Clone)]
    struct Fixed;

    impl FormatTime for Fixed {
        fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
            w.write_str("2026-12-03T04:00:00.000000Z")
        }
    }

    /// What a handler logs: lines at several levels, one inside a span of
    /// its own, with an id needing JSON escapes.
    fn handler_lines() {
        tracing::info!(n = 3, "hello {}", 7);
        tracing::warn!(ok = true);
        tracing::error!("bad");
        let inner = tracing::info_span!("lookup", user = 5);
        let _in = inner.enter();
        tracing::info!("inside");
    }

    const ID: &str = r#"r-1"\x"#;
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn scope_of_id() -> Scope {
        let header =
            warp::http::HeaderValue::from_str(&format!("00-{TRACE}-00f067aa0ba902b7-01")).unwrap();
        Scope {
            request_id: ID.to_string(),
            trace: Some(TraceContext::continue_or_start(Some(&header))),
        }
    }

    /// `handler_lines` under a real `request` span.
    fn under_span(subscriber: impl Subscriber + Send + Sync + 'static) {
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = %ID, trace_id = %TRACE);
            let _in = span.enter();
            handler_lines();
        });
    }

    /// `handler_lines` inside `scope`.
    fn in_scope(subscriber: impl Subscriber + Send + Sync + 'static) {
        tracing::subscriber::with_default(subscriber, || {
            REQUEST.sync_scope(scope_of_id(), handler_lines);
        });
    }

    /// The lines of `handler_lines` under a real `request` span, then
    /// inside `scope` with `RequestScoped`, through the same settings.
    fn both(json: bool, ansi: bool) -> (String, String) {
        let span_out = Capture::default();
        let scoped_out = Capture::default();
        let (w1, w2) = (span_out.clone(), scoped_out.clone());
        if json {
            under_span(
                tracing_subscriber::fmt()
                    .json()
                    .with_current_span(true)
                    .with_timer(Fixed)
                    .with_writer(move || w1.clone())
                    .finish(),
            );
            in_scope(
                tracing_subscriber::fmt()
                    .json()
                    .event_format(RequestScoped::new(
                        format().json().with_current_span(true).with_timer(Fixed),
                        true,
                    ))
                    .with_writer(move || w2.clone())
                    .finish(),
            );
        } else {
            under_span(
                tracing_subscriber::fmt()
                    .with_ansi(ansi)
                    .with_timer(Fixed)
                    .with_span_events(FmtSpan::NONE)
                    .with_writer(move || w1.clone())
                    .finish(),
            );
            in_scope(
                tracing_subscriber::fmt()
                    .with_ansi(ansi)
                    .event_format(RequestScoped::new(format().with_timer(Fixed), false))
                    .with_writer(move || w2.clone())
                    .finish(),
            );
        }
        (span_out.text(), scoped_out.text())
    }

    fn format() -> format::Format {
        format::Format::default()
    }

    #[test]
    fn text_lines_read_as_under_a_request_span() {
        let (span, scoped) = both(false, false);
        assert!(
            span.contains(&format!(
                r#" INFO request{{request_id=r-1"\x trace_id={TRACE}}}: shared_lib"#
            )),
            "{span}"
        );
        assert!(span.contains(&format!(
            r#"request{{request_id=r-1"\x trace_id={TRACE}}}:lookup{{user=5}}: "#
        )));
        assert_eq!(scoped, span);
    }

    #[test]
    fn coloured_text_lines_read_as_under_a_request_span() {
        let (span, scoped) = both(false, true);
        assert!(span.contains("\x1b["), "{span}");
        assert_eq!(scoped, span);
    }

    #[test]
    fn json_lines_read_as_under_a_request_span() {
        let (span, scoped) = both(true, false);
        let first: serde_json::Value = serde_json::from_str(span.lines().next().unwrap()).unwrap();
        assert_eq!(first["span"]["request_id"], ID);
        assert_eq!(first["span"]["trace_id"], TRACE);
        assert_eq!(first["spans"][0]["name"], "request");
        assert_eq!(scoped, span);
    }

    #[test]
    fn lines_outside_a_request_are_left_alone() {
        let out = Capture::default();
        let w = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .event_format(RequestScoped::new(format().with_timer(Fixed), false))
            .with_writer(move || w.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || tracing::info!("start"));
        assert_eq!(
            out.text(),
            "2026-12-03T04:00:00.000000Z  INFO shared_lib::telemetry::request::tests: start\n"
        );
        assert_eq!(current_request_id(), None);
        let scope = Scope {
            request_id: "abc".into(),
            trace: None,
        };
        REQUEST.sync_scope(scope, || {
            assert_eq!(current_request_id().as_deref(), Some("abc"));
            assert_eq!(current_trace(), None);
        });
    }
}
