//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): the
//! `traceparent` header that joins one request's work across services.
//!
//! [`crate::server::serve`] reads the caller's `traceparent` on every
//! request, or starts a trace when there is none (or it is malformed),
//! and gives the request a span id of its own. The trace id then shows in
//! every log line of the request beside its request id, and in its access
//! line. A call to another service made while the request is served sends
//! [`traceparent`]: the same trace, with this request's span as the parent,
//! so a tracing backend (or `grep` over both services' logs) joins them.
//!
//! Only the context is kept and passed on; no span is exported.

use warp::http::HeaderValue;

/// The header that carries the trace context across services.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// One request's place in a trace: the trace it belongs to, its own span
/// id and the trace flags, each held as the lowercase hex the header uses.
/// `Copy` and allocation-free, so every request carries one at no cost.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: [u8; 32],
    span_id: [u8; 16],
    flags: [u8; 2],
}

impl std::fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.traceparent())
    }
}

impl TraceContext {
    /// A new trace (random trace id, sampled) with a random span id.
    pub fn start() -> TraceContext {
        let trace: u128 = loop {
            // All zeros is the one invalid trace id.
            let id = rand::random::<u128>();
            if id != 0 {
                break id;
            }
        };
        TraceContext {
            trace_id: hex(trace.to_be_bytes()),
            span_id: new_span_id(),
            flags: *b"01",
        }
    }

    /// A span of the caller's trace when `traceparent` is a valid header
    /// value (its trace id and flags, a new span id of our own), else a new
    /// trace ([`TraceContext::start`]), as the specification asks of a
    /// receiver that cannot parse the header.
    pub fn continue_or_start(traceparent: Option<&HeaderValue>) -> TraceContext {
        traceparent
            .and_then(|value| TraceContext::parse(value.as_bytes()))
            .map(|(trace_id, flags)| TraceContext {
                trace_id,
                span_id: new_span_id(),
                flags,
            })
            .unwrap_or_else(TraceContext::start)
    }

    /// The trace id and flags of a `traceparent` value, if it is valid:
    /// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lowercase,
    /// ids not all zero; a later version may append `-<more>`, version
    /// `ff` is invalid.
    fn parse(value: &[u8]) -> Option<([u8; 32], [u8; 2])> {
        if value.len() < 55 {
            return None;
        }
        let (version, rest) = value.split_at(2);
        let lower_hex = |s: &[u8]| s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !lower_hex(version) || version == b"ff" {
            return None;
        }
        if version == b"00" && value.len() != 55 || value.len() > 55 && value[55] != b'-' {
            return None;
        }
        let (trace, parent, flags) = (&rest[1..33], &rest[34..50], &rest[51..53]);
        let dashes = rest[0] == b'-' && rest[33] == b'-' && rest[50] == b'-';
        let zero = |s: &[u8]| s.iter().all(|&b| b == b'0');
        if !dashes || !lower_hex(trace) || !lower_hex(parent) || !lower_hex(flags) {
            return None;
        }
        if zero(trace) || zero(parent) {
            return None;
        }
        Some((trace.try_into().ok()?, flags.try_into().ok()?))
    }

    /// The trace id: 32 lowercase hex digits.
    pub fn trace_id(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.trace_id).unwrap_or_default()
    }

    /// This request's span id: 16 lowercase hex digits.
    pub fn span_id(&self) -> &str {
        std::str::from_utf8(&self.span_id).unwrap_or_default()
    }

    /// The `traceparent` value for a call made on behalf of this request:
    /// the same trace, this request's span as the parent.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{}",
            self.trace_id(),
            self.span_id(),
            std::str::from_utf8(&self.flags).unwrap_or("01")
        )
    }
}

/// The `traceparent` to send on a call to another service made while a
/// request is served (inside [`crate::server::serve`]'s scope); `None`
/// outside one.
pub fn traceparent() -> Option<String> {
    super::request::current_trace().map(|trace| trace.traceparent())
}

fn new_span_id() -> [u8; 16] {
    loop {
        let id = rand::random::<u64>();
        if id != 0 {
            return hex(id.to_be_bytes());
        }
    }
}

/// `bytes` as lowercase hex, into an array twice as long.
fn hex<const N: usize, const M: usize>(bytes: [u8; N]) -> [u8; M] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'0'; M];
    for (i, b) in bytes.iter().enumerate().take(M / 2) {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0x0f)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIVEN: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_continued_with_a_new_span() {
        let trace = TraceContext::continue_or_start(Some(&HeaderValue::from_static(GIVEN)));
        assert_eq!(trace.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(trace.span_id(), "00f067aa0ba902b7", "our own span");
        assert_eq!(trace.span_id().len(), 16);
        let sent = trace.traceparent();
        assert!(
            sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{sent}"
        );
        assert!(
            sent.ends_with(&format!("-{}-01", trace.span_id())),
            "{sent}"
        );
        // Flags pass through (not sampled stays not sampled).
        let unsampled = GIVEN.replace("-01", "-00");
        let trace =
            TraceContext::continue_or_start(Some(&HeaderValue::from_str(&unsampled).unwrap()));
        assert!(trace.traceparent().ends_with("-00"));
    }

    #[test]
    fn a_missing_or_malformed_traceparent_starts_a_trace() {
        let bad = [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ];
        for value in bad {
            let header = HeaderValue::from_str(value).unwrap();
            let trace = TraceContext::continue_or_start(Some(&header));
            assert_ne!(
                trace.trace_id(),
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "{value:?} is refused"
            );
            assert!(TraceContext::parse(trace.traceparent().as_bytes()).is_some());
        }
        // A later version may carry more fields after the four it shares.
        let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more";
        let trace = TraceContext::continue_or_start(Some(&HeaderValue::from_static(future)));
        assert_eq!(trace.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn started_traces_are_valid_and_distinct() {
        let (a, b) = (TraceContext::start(), TraceContext::start());
        assert_ne!(a.trace_id(), b.trace_id());
        assert!(TraceContext::parse(a.traceparent().as_bytes()).is_some());
        assert_eq!(traceparent(), None, "outside a request there is none");
    }
}
