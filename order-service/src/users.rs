//! The client of user-service: does a user exist, is user-service up.
//! Every call is bounded by the configured timeout and carries the
//! caller's request id and W3C `traceparent`, so one id and one trace
//! follow a request across both services; each is counted in the
//! `upstream_*` metrics.
//!
//! Users user-service confirmed are remembered for a short time
//! ([`KnownUsers`]), so repeat orders of the same user skip the HTTP hop.
//! That is right while users are never deleted: a "yes, this user exists"
//! cannot turn wrong. Unknown users are never remembered, so a user
//! created a moment ago can order at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared_lib::REQUEST_ID_HEADER;
use shared_lib::error::ApiError;
use shared_lib::filters::RequestId;
use shared_lib::metrics::Callee;
use shared_lib::sync::lock;
use shared_lib::telemetry::{TRACEPARENT_HEADER, traceparent};
use shared_lib::wire::{DependencyState, User};

/// The callee's name in metrics and in `/ready`'s body.
pub const CALLEE: &str = "user-service";

/// Calls user-service over HTTP.
#[derive(Debug, Clone)]
pub struct UserClient {
    /// user-service's base URL, without a trailing slash.
    base: String,
    /// A pooled client with the configured timeout.
    http: reqwest::Client,
    /// Users user-service confirmed lately.
    known: Arc<KnownUsers>,
    /// Where calls are counted.
    calls: Callee,
}

impl UserClient {
    /// A client of the user-service at `base`, each call bounded by
    /// `timeout`, remembering confirmed users in `known`, counting calls in
    /// `calls`.
    pub fn new(base: &str, timeout: Duration, known: KnownUsers, calls: Callee) -> UserClient {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        UserClient {
            base: base.trim_end_matches('/').to_string(),
            http,
            known: Arc::new(known),
            calls,
        }
    }

    /// Whether user `id` exists: from [`KnownUsers`] when user-service
    /// confirmed it lately, else asked with [`UserClient::find`].
    pub async fn exists(&self, id: u64, request_id: &RequestId) -> Result<bool, ApiError> {
        if self.known.contains(id, Instant::now()) {
            return Ok(true);
        }
        let found = self.find(id, request_id).await?.is_some();
        if found {
            self.known.remember(id, Instant::now());
        }
        Ok(found)
    }

    /// The user with `id`, `None` when user-service says 404; a 503
    /// `user_service_unavailable` when it is down, slow or answers oddly.
    pub async fn find(&self, id: u64, request_id: &RequestId) -> Result<Option<User>, ApiError> {
        let url = format!("{}/api/users/{id}", self.base);
        let mut call = self
            .http
            .get(&url)
            .header(REQUEST_ID_HEADER, request_id.as_str());
        if let Some(trace) = traceparent() {
            call = call.header(TRACEPARENT_HEADER, trace);
        }
        let started = Instant::now();
        let resp = call.send().await;
        let answered = resp.as_ref().is_ok_and(|r| !r.status().is_server_error());
        self.calls.record(answered, started.elapsed());
        let resp = resp.map_err(|err| unavailable(&err.to_string()))?;
        match resp.status().as_u16() {
            200 => resp
                .json::<User>()
                .await
                .map(Some)
                .map_err(|err| unavailable(&format!("unreadable answer: {err}"))),
            404 => Ok(None),
            status => Err(unavailable(&format!("it answered {status}"))),
        }
    }

    /// How user-service's `GET /health` answers (200 is up), for `/ready`'s
    /// body and the `upstream_up` gauge.
    pub async fn check_health(&self) -> DependencyState {
        let detail = match self.http.get(format!("{}/health", self.base)).send().await {
            Ok(resp) if resp.status().is_success() => None,
            Ok(resp) => Some(format!("its health answered {}", resp.status())),
            Err(err) => Some(format!("unreachable: {err}")),
        };
        self.calls.set_up(detail.is_none());
        DependencyState {
            name: CALLEE.to_string(),
            up: detail.is_none(),
            detail,
        }
    }
}

fn unavailable(why: &str) -> ApiError {
    tracing::warn!(why, "user-service call failed");
    crate::error::OrderError::UserServiceUnavailable.into()
}

/// The ids user-service confirmed, each for `ttl` after the answer, at
/// most `capacity` of them. A zero `ttl` or `capacity` remembers nothing.
#[derive(Debug)]
pub struct KnownUsers {
    /// How long a confirmation is trusted.
    ttl: Duration,
    /// The most ids kept.
    capacity: usize,
    /// Each id with the instant its confirmation expires.
    until: Mutex<HashMap<u64, Instant>>,
}

impl KnownUsers {
    /// Remembers confirmations for `ttl`, at most `capacity` at a time.
    pub fn new(ttl: Duration, capacity: usize) -> KnownUsers {
        KnownUsers {
            ttl,
            capacity,
            until: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `id` was confirmed less than the TTL before `now`.
    pub fn contains(&self, id: u64, now: Instant) -> bool {
        lock(&self.until).get(&id).is_some_and(|&until| now < until)
    }

    /// Records that user-service confirmed `id` at `now`. When the table is
    /// full, expired entries go first; if none has expired, `id` is not
    /// kept (it is asked for again next time).
    pub fn remember(&self, id: u64, now: Instant) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut until = lock(&self.until);
        if until.len() >= self.capacity && !until.contains_key(&id) {
            until.retain(|_, &mut expires| now < expires);
            if until.len() >= self.capacity {
                return;
            }
        }
        until.insert(id, now + self.ttl);
    }

    /// How many ids are kept (expired ones included until evicted).
    pub fn len(&self) -> usize {
        lock(&self.until).len()
    }

    /// Whether no id is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(10);

    #[test]
    fn a_confirmation_is_trusted_for_the_ttl_only() {
        let known = KnownUsers::new(TTL, 10);
        let t0 = Instant::now();
        assert!(!known.contains(1, t0));
        known.remember(1, t0);
        assert!(known.contains(1, t0 + TTL - Duration::from_millis(1)));
        assert!(!known.contains(1, t0 + TTL), "expired");
        assert!(!known.contains(2, t0), "only what was confirmed");
    }

    #[test]
    fn a_full_table_drops_expired_ids_first_and_never_grows_past_its_capacity() {
        let known = KnownUsers::new(TTL, 2);
        let t0 = Instant::now();
        known.remember(1, t0);
        known.remember(2, t0 + Duration::from_secs(5));
        known.remember(3, t0 + Duration::from_secs(6));
        assert!(
            !known.contains(3, t0 + Duration::from_secs(6)),
            "full: not kept"
        );
        assert_eq!(known.len(), 2);
        // At t0 + 11 s, user 1's confirmation has expired and makes room.
        let later = t0 + Duration::from_secs(11);
        known.remember(3, later);
        assert!(known.contains(3, later));
        assert!(known.contains(2, later));
        assert!(!known.contains(1, later));
        assert_eq!(known.len(), 2);
        // Renewing an id already kept needs no room.
        known.remember(2, later);
        assert!(known.contains(2, later + Duration::from_secs(9)));
    }

    #[test]
    fn a_zero_ttl_or_capacity_remembers_nothing() {
        let t0 = Instant::now();
        for known in [KnownUsers::new(Duration::ZERO, 10), KnownUsers::new(TTL, 0)] {
            known.remember(1, t0);
            assert!(!known.contains(1, t0));
            assert!(known.is_empty());
        }
    }
}
