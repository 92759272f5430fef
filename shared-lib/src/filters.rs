//! warp filters both services use.
//!
//! Each filter documents the HTTP shape it matches. Paths are matched before
//! methods, so an unknown path is a 404 and a known path with the wrong
//! method a 405.

use std::future::Future;

use serde::de::DeserializeOwned;
use warp::{Filter, Rejection, Reply};

use crate::REQUEST_ID_HEADER;
use crate::error::ApiError;

/// Hands a clone of `state` to every request.
pub fn with_state<S: Clone + Send + Sync + 'static>(
    state: S,
) -> impl Filter<Extract = (S,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// The body limit both services use for JSON requests: 64 KiB.
pub const JSON_BODY_LIMIT: u64 = 64 * 1024;

/// A JSON body of type `T`, at most `limit` bytes.
///
/// Rejects a body without content-length (411), larger than `limit` (413),
/// with a content type other than JSON (415) or that does not decode as `T`
/// (400): [`crate::error::handle_rejection`] answers each with the shared body.
pub fn json_body<T: DeserializeOwned + Send>(
    limit: u64,
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::body::content_length_limit(limit).and(warp::body::json())
}

/// One path segment holding a numeric id (`/api/users/{id}`). A segment
/// that is not a positive integer is a 400 with code `invalid_id`, not a 404.
pub fn id_param() -> impl Filter<Extract = (u64,), Error = Rejection> + Clone {
    warp::path::param::<String>().and_then(|raw: String| async move {
        match raw.parse::<u64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => Err(warp::reject::custom(ApiError::bad_request(
                crate::error::codes::INVALID_ID,
                format!("{raw:?} is not an id; ids are positive integers"),
            ))),
        }
    })
}

/// `GET /`: who the service is, its version and the shared-lib it runs, as
/// a [`crate::wire::ServiceInfo`].
#[utoipa::path(
    get,
    path = "/",
    tag = "shared-lib",
    responses((status = 200, description = "Who the service is and what it runs", body = crate::wire::ServiceInfo))
)]
pub fn service_info(
    service: &'static str,
    version: &'static str,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    // Shared, not copied: warp clones a `map` closure's captures for
    // every request (three `String`s, about 800 instructions).
    let info = std::sync::Arc::new(crate::wire::ServiceInfo {
        service: service.to_string(),
        version: version.to_string(),
        shared_lib_version: crate::VERSION.to_string(),
    });
    warp::path::end()
        .and(warp::get())
        .map(move || warp::reply::json(&*info))
}

/// The id of the current request, from the `x-request-id` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// A new random id (a UUID v4).
    pub fn generate() -> RequestId {
        RequestId(uuid::Uuid::new_v4().to_string())
    }

    /// The id as text, ready for a header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Extracts the request id. [`crate::server::serve`] guarantees the header
/// (taking the caller's or generating one); outside it (e.g. in
/// `warp::test`), a missing header gets a fresh id.
pub fn request_id() -> impl Filter<Extract = (RequestId,), Error = std::convert::Infallible> + Clone
{
    warp::header::optional::<String>(REQUEST_ID_HEADER)
        .map(|id: Option<String>| id.map(RequestId).unwrap_or_else(RequestId::generate))
        .recover(|_| async { Ok::<_, std::convert::Infallible>(RequestId::generate()) })
        .unify()
}

/// `GET /health`: 200 `{"status":"ok"}` while the process serves requests.
#[utoipa::path(
    get,
    path = "/health",
    tag = "shared-lib",
    responses((status = 200, description = "The process serves requests", body = crate::wire::Status))
)]
pub fn health() -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("health").and(warp::get()).map(|| {
        warp::reply::json(&crate::wire::Status {
            status: "ok".into(),
        })
    })
}

/// `GET /ready`: 200 `{"status":"ready"}` when `check` succeeds, else 503
/// with code `not_ready` and the check's message. `check` covers only what
/// this service owns (its database, its migrations): see [`ready_with`]
/// for the services it calls.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "shared-lib",
    responses(
        (status = 200, description = "Ready: what this service owns (its database, its migrations) answers; `dependencies` says how the services it calls answered, as information only", body = crate::wire::Readiness),
        (status = 503, description = "`not_ready`: what this service owns (its database, its migrations) does not answer", body = crate::error::ErrorBody)
    )
)]
pub fn ready<F, Fut>(
    check: F,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    ready_with(check, || async { Vec::new() })
}

/// How long [`ready_with`] waits for the services this one calls: a
/// callee slower than that is reported down, and `/ready` still answers
/// within about this time.
pub const DEPENDENCY_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// [`ready`] that also reports the services this one calls: `dependencies`
/// asks each (at most [`DEPENDENCY_CHECK_TIMEOUT`]) and its answers go into
/// the body, never into the status: readiness must not cascade (a callee
/// shared by many services would take them all out of rotation, reads and
/// everything else that needs no callee included).
pub fn ready_with<F, Fut, D, DFut>(
    check: F,
    dependencies: D,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
    D: Fn() -> DFut + Clone + Send + Sync + 'static,
    DFut: Future<Output = Vec<crate::wire::DependencyState>> + Send,
{
    warp::path!("ready").and(warp::get()).then(move || {
        let (check, dependencies) = (check.clone(), dependencies.clone());
        async move {
            let asked = tokio::time::timeout(DEPENDENCY_CHECK_TIMEOUT, dependencies());
            let (own, asked) = tokio::join!(check(), asked);
            match own {
                Ok(()) => warp::reply::json(&crate::wire::Readiness {
                    status: "ready".into(),
                    dependencies: asked.unwrap_or_default(),
                })
                .into_response(),
                Err(why) => {
                    ApiError::unavailable(crate::error::codes::NOT_READY, why).into_response()
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::handle_rejection;

    #[tokio::test]
    async fn health_answers_ok_and_refuses_other_methods() {
        let api = health().recover(handle_rejection);
        let resp = warp::test::request().path("/health").reply(&api).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.body().as_ref(), br#"{"status":"ok"}"#);
        let resp = warp::test::request()
            .method("POST")
            .path("/health")
            .reply(&api)
            .await;
        assert_eq!(resp.status(), 405);
    }

    #[tokio::test]
    async fn ready_reflects_the_check() {
        let up = ready(|| async { Ok(()) });
        let resp = warp::test::request().path("/ready").reply(&up).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.body().as_ref(), br#"{"status":"ready"}"#);
        let down = ready(|| async { Err("the database does not answer".to_string()) });
        let resp = warp::test::request().path("/ready").reply(&down).await;
        assert_eq!(resp.status(), 503);
        let body: crate::error::ErrorBody = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(body.code, "not_ready");
        assert_eq!(body.message, "the database does not answer");
    }

    #[tokio::test]
    async fn a_callee_that_is_down_or_hangs_is_reported_but_never_makes_it_unready() {
        use crate::wire::{DependencyState, Readiness};
        let down = || async {
            vec![DependencyState {
                name: "user-service".into(),
                up: false,
                detail: Some("unreachable".into()),
            }]
        };
        let f = ready_with(|| async { Ok(()) }, down);
        let resp = warp::test::request().path("/ready").reply(&f).await;
        assert_eq!(resp.status(), 200);
        let body: Readiness = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(body.dependencies.len(), 1);
        assert!(!body.dependencies[0].up);
        // A callee that never answers costs at most the check timeout.
        let hangs = || std::future::pending::<Vec<DependencyState>>();
        let f = ready_with(|| async { Ok(()) }, hangs);
        let started = std::time::Instant::now();
        let resp = warp::test::request().path("/ready").reply(&f).await;
        assert_eq!(resp.status(), 200);
        assert!(started.elapsed() < 5 * DEPENDENCY_CHECK_TIMEOUT);
        // Its own database down: unready, whatever the callees say.
        let f = ready_with(|| async { Err("no database".to_string()) }, down);
        let resp = warp::test::request().path("/ready").reply(&f).await;
        assert_eq!(resp.status(), 503);
    }

    #[tokio::test]
    async fn ids_must_be_positive_integers() {
        let f = warp::path("u").and(id_param()).and(warp::path::end());
        let ok = warp::test::request()
            .path("/u/42")
            .filter(&f)
            .await
            .unwrap();
        assert_eq!(ok, 42);
        for bad in [
            "/u/abc",
            "/u/0",
            "/u/-1",
            "/u/1.5",
            "/u/99999999999999999999999",
        ] {
            let rejection = warp::test::request()
                .path(bad)
                .filter(&f)
                .await
                .unwrap_err();
            assert_eq!(
                crate::error::api_error_for(&rejection).code(),
                "invalid_id",
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn service_info_names_the_service_and_shared_lib_version() {
        let f = service_info("demo", "9.9.9");
        let resp = warp::test::request().path("/").reply(&f).await;
        let info: crate::wire::ServiceInfo = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(info.service, "demo");
        assert_eq!(info.version, "9.9.9");
        assert_eq!(info.shared_lib_version, crate::VERSION);
    }

    #[tokio::test]
    async fn request_id_comes_from_the_header_or_is_generated() {
        let f = request_id();
        let given = warp::test::request()
            .header(REQUEST_ID_HEADER, "abc-123")
            .filter(&f)
            .await
            .unwrap();
        assert_eq!(given.as_str(), "abc-123");
        let a = warp::test::request().filter(&f).await.unwrap();
        let b = warp::test::request().filter(&f).await.unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 36);
    }
}
