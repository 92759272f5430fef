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

use std::cell::RefCell;

use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use warp::http::HeaderValue;

thread_local! {
    /// Ids come from a fast generator per thread, seeded once from the
    /// thread's cryptographic one: trace and span ids must be unique and
    /// unpredictable enough to not collide, not secret (the specification
    /// asks for randomness, not for a CSPRNG), and `rand::random` per id
    /// cost about 300 instructions a request.
    static IDS: RefCell<SmallRng> = RefCell::new(SmallRng::from_rng(&mut rand::rng()));
}

/// A random non-zero `u64` from this thread's id generator.
fn random_id() -> u64 {
    IDS.with(|rng| {
        let mut rng = rng.borrow_mut();
        loop {
            let id = rng.next_u64();
            if id != 0 {
                break id;
            }
        }
    })
}

/// The header that carries the trace context across services.
pub const TRACEPARENT_HEADER: &str = "traceparent";

// The type is declared beside the request scope that carries it
// (`super::request`), so that module needs nothing from this one.
pub use super::request::TraceContext;

impl std::fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.traceparent())
    }
}

impl TraceContext {
    /// A new trace (random trace id, sampled) with a random span id.
    pub fn start() -> TraceContext {
        // Non-zero halves: never the one invalid (all-zero) trace id.
        let (high, low) = (hex_u64(random_id()), hex_u64(random_id()));
        let mut trace_id = [0; 32];
        trace_id[..16].copy_from_slice(&high);
        trace_id[16..].copy_from_slice(&low);
        TraceContext {
            trace_id,
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
    hex_u64(random_id())
}

/// `x` as 16 lowercase hex digits, most significant first.
fn hex_u64(x: u64) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&hex_u32((x >> 32) as u32).to_be_bytes());
    out[8..].copy_from_slice(&hex_u32(x as u32).to_be_bytes());
    out
}

/// `x` as 8 lowercase hex digits packed in a `u64`, the first digit in the
/// most significant byte: each nibble spread into a byte of its own, then
/// all eight turned into ASCII at once (a tenth of a digit-by-digit loop).
fn hex_u32(x: u32) -> u64 {
    let x = u64::from(x);
    let mut v = ((x & 0xffff_0000) << 16) | (x & 0x0000_ffff);
    v = ((v & 0x0000_ff00_0000_ff00) << 8) | (v & 0x0000_00ff_0000_00ff);
    v = ((v & 0x00f0_00f0_00f0_00f0) << 4) | (v & 0x000f_000f_000f_000f);
    // 1 in each byte whose nibble is 10 or more: it becomes a letter.
    let letters = ((v + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    v + 0x3030_3030_3030_3030 + letters * (u64::from(b'a') - u64::from(b'0') - 10)
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
    fn hex_digits_are_lowercase_and_in_order() {
        for x in [
            0u64,
            1,
            0x0123_4567_89ab_cdef,
            u64::MAX,
            0xdead_beef_0000_0a0f,
        ] {
            assert_eq!(hex_u64(x).as_slice(), format!("{x:016x}").as_bytes());
        }
    }

    #[test]
    fn started_traces_are_valid_and_distinct() {
        let (a, b) = (TraceContext::start(), TraceContext::start());
        assert_ne!(a.trace_id(), b.trace_id());
        assert!(TraceContext::parse(a.traceparent().as_bytes()).is_some());
        assert_eq!(traceparent(), None, "outside a request there is none");
    }
}
