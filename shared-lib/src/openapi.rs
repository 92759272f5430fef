//! The API contract: every service serves an OpenAPI 3.1 document of its
//! API on `GET /openapi.json`, generated from the code with utoipa, and
//! answers a known path asked with a method it does not serve with a 405
//! whose `Allow` header names the methods the document lists.
//!
//! A service describes its own endpoints (`#[utoipa::path]` on each route
//! function, one `#[derive(OpenApi)]` listing them) and hands the result to
//! [`Contract::new`], which adds what shared-lib serves itself (`GET /`,
//! `/health`, `/ready`, `/openapi.json`, `/metrics`) and the shared schemas ([`ErrorBody`],
//! the wire types):
//!
//! ```ignore
//! let contract = Arc::new(Contract::new(ApiDoc::openapi(), SERVICE, VERSION));
//! service_info(SERVICE, VERSION)
//!     .or(openapi::serve(contract.clone()))
//!     .or(create_user(state))
//!     .or(openapi::method_not_allowed(contract))
//!     .recover(handle_rejection)
//! ```

use std::sync::Arc;

use utoipa::openapi::{OpenApi as Document, PathItem};
use utoipa::{IntoResponses, OpenApi};
use warp::http::{HeaderValue, Method, StatusCode, header};
use warp::hyper::body::Bytes;
use warp::path::FullPath;
use warp::{Filter, Rejection, Reply};

use crate::error::{ApiError, ErrorBody, codes};
use crate::wire::{DependencyState, Readiness, ServiceInfo, Status};

/// What shared-lib's own filters serve, as every service's document shows it.
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::filters::service_info,
        crate::filters::health,
        crate::filters::ready,
        document,
        metrics_document
    ),
    components(schemas(ErrorBody, ServiceInfo, Status, Readiness, DependencyState))
)]
struct SharedApi;

/// The error answers of an endpoint that takes a JSON body
/// ([`crate::filters::json_body`]), each with the shared [`ErrorBody`].
#[derive(IntoResponses)]
pub enum JsonBodyErrors {
    /// `invalid_body`: the body is not JSON or does not fit the request type
    /// (unknown fields included).
    #[response(status = 400)]
    InvalidBody(#[to_schema] ErrorBody),
    /// `length_required`: the body came without content-length.
    #[response(status = 411)]
    LengthRequired(#[to_schema] ErrorBody),
    /// `payload_too_large`: the body is over 64 KiB.
    #[response(status = 413)]
    PayloadTooLarge(#[to_schema] ErrorBody),
    /// `unsupported_media_type`: the body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(#[to_schema] ErrorBody),
}

/// The answer of an endpoint that needs the database (or another service)
/// while that does not answer: 503 with the shared [`ErrorBody`].
#[derive(IntoResponses)]
pub enum Unavailable {
    /// `database_unavailable` (the database is down, busy, out of
    /// connections or not migrated yet) or `not_ready` (a service this one
    /// calls does not answer); retry shortly.
    #[response(status = 503)]
    Unavailable(#[to_schema] ErrorBody),
}

/// A service's OpenAPI document, ready to serve, and the methods of each
/// documented path (for the `Allow` header of a 405).
#[derive(Debug)]
pub struct Contract {
    json: Bytes,
    paths: Vec<(Vec<Segment>, Vec<Method>, HeaderValue)>,
    templates: Vec<String>,
    service: String,
    version: String,
}

/// One segment of a documented path: fixed text, or a `{parameter}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Text the request's segment must equal.
    Fixed(String),
    /// A `{parameter}`: any one segment.
    Param,
}

impl Contract {
    /// The document of `service` at `version`: the service's own `api`
    /// with shared-lib's endpoints and schemas added.
    pub fn new(api: Document, service: &str, version: &str) -> Contract {
        let mut doc = api;
        doc.merge(SharedApi::openapi());
        Contract::from_document(doc, service, version)
    }

    fn from_document(mut doc: Document, service: &str, version: &str) -> Contract {
        doc.info.title = service.to_string();
        doc.info.version = version.to_string();
        let paths = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = methods(item);
                let names: Vec<&str> = methods.iter().map(Method::as_str).collect();
                let allow = HeaderValue::from_str(&names.join(", "))
                    .expect("method names are valid header text");
                (segments(path), methods, allow)
            })
            .collect();
        let templates = doc.paths.paths.keys().cloned().collect();
        let json = doc
            .to_json()
            .expect("an OpenAPI document always serializes");
        Contract {
            json: Bytes::from(json),
            paths,
            templates,
            service: service.to_string(),
            version: version.to_string(),
        }
    }

    /// The document of a service that depends on nothing (no database, no
    /// other service): its `GET /ready` never answers 503, so the document
    /// does not say it might.
    pub fn without_dependencies(api: Document, service: &str, version: &str) -> Contract {
        let mut shared = SharedApi::openapi();
        if let Some(ready) = shared.paths.paths.get_mut("/ready")
            && let Some(get) = ready.get.as_mut()
        {
            get.responses.responses.remove("503");
        }
        let mut doc = api;
        doc.merge(shared);
        Contract::from_document(doc, service, version)
    }

    /// The document as JSON.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// The service the document describes.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The service's version, as the document gives it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The documented path templates (`/api/users/{id}`), in the document's
    /// order.
    pub fn templates(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(String::as_str)
    }

    /// The methods the document lists for `path` (a request path such as
    /// `/api/users/7`), or `None` when no documented path matches it.
    pub fn methods(&self, path: &str) -> Option<&[Method]> {
        self.find(path).map(|(_, methods, _)| methods.as_slice())
    }

    fn find(&self, path: &str) -> Option<&(Vec<Segment>, Vec<Method>, HeaderValue)> {
        self.paths
            .iter()
            .find(|(template, _, _)| matches(template, path))
    }
}

/// Whether request `path` (`/api/users/7`) fits `template`'s segments;
/// without allocating (the metrics match every request with it).
pub(crate) fn matches(template: &[Segment], path: &str) -> bool {
    let mut asked = split(path);
    template.iter().all(|t| match (t, asked.next()) {
        (Segment::Fixed(text), Some(a)) => text == a,
        // `split` drops empty segments: any segment fills a parameter.
        (Segment::Param, Some(_)) => true,
        (_, None) => false,
    }) && asked.next().is_none()
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/').filter(|s| !s.is_empty())
}

/// A path template's segments (`/api/users/{id}`).
pub(crate) fn segments(template: &str) -> Vec<Segment> {
    split(template)
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Fixed(s.to_string())
            }
        })
        .collect()
}

fn methods(item: &PathItem) -> Vec<Method> {
    [
        (&item.get, Method::GET),
        (&item.head, Method::HEAD),
        (&item.post, Method::POST),
        (&item.put, Method::PUT),
        (&item.patch, Method::PATCH),
        (&item.delete, Method::DELETE),
        (&item.options, Method::OPTIONS),
        (&item.trace, Method::TRACE),
    ]
    .into_iter()
    .filter(|(op, _)| op.is_some())
    .map(|(_, method)| method)
    .collect()
}

/// The OpenAPI 3.1 document of this service.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "shared-lib",
    responses((status = 200, description = "The OpenAPI 3.1 document of this service", content_type = "application/json", body = Object))
)]
#[allow(dead_code)]
fn document() {}

/// The service's metrics ([`crate::metrics`]).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "shared-lib",
    responses((status = 200, description = "The service's metrics in the OpenMetrics text format (Prometheus reads it): requests by route template, method and status class, latency histograms, requests in flight, calls to other services, the database pools, build_info", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String))
)]
#[allow(dead_code)]
fn metrics_document() {}

/// `GET /openapi.json`: the contract's document.
pub fn serve(
    contract: Arc<Contract>,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("openapi.json").and(warp::get()).map(move || {
        let mut response = warp::reply::Response::new(contract.json.clone().into());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    })
}

/// Put last in a service's `or` chain: a request whose path the document
/// lists, with a method it does not, gets 405 `method_not_allowed` in the
/// shared body with an `Allow` header naming the documented methods
/// (RFC 9110, 15.5.6). Anything else passes on as "not found", so the
/// other routes' rejections (a bad body, a bad query) still win.
pub fn method_not_allowed(
    contract: Arc<Contract>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and_then(move |method: Method, path: FullPath| {
            let contract = contract.clone();
            async move {
                match contract.find(path.as_str()) {
                    Some((_, methods, allow)) if !methods.contains(&method) => {
                        let mut response = ApiError::new(
                            StatusCode::METHOD_NOT_ALLOWED,
                            codes::METHOD_NOT_ALLOWED,
                            format!(
                                "{} does not accept {method}; it accepts {}",
                                path.as_str(),
                                allow.to_str().unwrap_or_default()
                            ),
                        )
                        .into_response();
                        response.headers_mut().insert(header::ALLOW, allow.clone());
                        Ok(response)
                    }
                    _ => Err(warp::reject::not_found()),
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::handle_rejection;

    /// A one-endpoint API: `POST /things` and `GET /things/{id}`.
    #[derive(OpenApi)]
    #[openapi(paths(create_thing, get_thing))]
    struct ThingApi;

    #[utoipa::path(post, path = "/things", responses((status = 201, description = "made")))]
    #[allow(dead_code)]
    fn create_thing() {}

    #[utoipa::path(get, path = "/things/{id}", params(("id" = u64, Path, description = "id")), responses((status = 200, description = "found")))]
    #[allow(dead_code)]
    fn get_thing() {}

    fn api() -> impl Filter<Extract = (impl Reply,), Error = std::convert::Infallible> + Clone {
        let contract = Arc::new(Contract::new(ThingApi::openapi(), "thing-service", "1.2.3"));
        let create = warp::path!("things")
            .and(warp::post())
            .map(|| warp::reply::with_status("made", StatusCode::CREATED));
        let get = warp::path!("things" / u64)
            .and(warp::get())
            .map(|_| "found");
        serve(contract.clone())
            .or(create)
            .or(get)
            .or(method_not_allowed(contract))
            .recover(handle_rejection)
    }

    #[tokio::test]
    async fn the_document_names_the_service_and_holds_the_shared_endpoints() {
        let resp = warp::test::request()
            .path("/openapi.json")
            .reply(&api())
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/json");
        let doc: serde_json::Value = serde_json::from_slice(resp.body()).expect("JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "thing-service");
        assert_eq!(doc["info"]["version"], "1.2.3");
        for path in [
            "/",
            "/health",
            "/ready",
            "/openapi.json",
            "/things",
            "/things/{id}",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} documented");
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    }

    #[tokio::test]
    async fn a_wrong_method_on_a_documented_path_is_a_405_naming_the_allowed_ones() {
        for (method, path, allow) in [
            ("DELETE", "/things", "POST"),
            ("PUT", "/things/7", "GET"),
            ("POST", "/openapi.json", "GET"),
            ("PATCH", "/health", "GET"),
        ] {
            let resp = warp::test::request()
                .method(method)
                .path(path)
                .reply(&api())
                .await;
            assert_eq!(resp.status(), 405, "{method} {path}");
            assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
            let body: ErrorBody = serde_json::from_slice(resp.body()).expect("error body");
            assert_eq!(body.code, "method_not_allowed");
        }
    }

    #[tokio::test]
    async fn other_rejections_still_win_over_the_fallback() {
        let resp = warp::test::request().path("/nothing").reply(&api()).await;
        assert_eq!(resp.status(), 404);
        assert!(resp.headers().get("allow").is_none());
        let resp = warp::test::request()
            .method("POST")
            .path("/things")
            .reply(&api())
            .await;
        assert_eq!(resp.status(), 201);
    }

    #[test]
    fn a_service_without_dependencies_never_documents_a_503_ready() {
        let doc = |c: Contract| serde_json::from_slice::<serde_json::Value>(c.json()).unwrap();
        let with = doc(Contract::new(ThingApi::openapi(), "t", "0"));
        assert!(with["paths"]["/ready"]["get"]["responses"]["503"].is_object());
        let without = doc(Contract::without_dependencies(
            ThingApi::openapi(),
            "t",
            "0",
        ));
        assert!(without["paths"]["/ready"]["get"]["responses"]["503"].is_null());
        assert!(without["paths"]["/ready"]["get"]["responses"]["200"].is_object());
    }

    #[test]
    fn templates_match_whole_segments() {
        let contract = Contract::new(ThingApi::openapi(), "t", "0");
        assert_eq!(contract.methods("/things/7"), Some(&[Method::GET][..]));
        assert_eq!(contract.methods("/things/"), Some(&[Method::POST][..]));
        assert_eq!(contract.methods("/things/7/x"), None);
        assert_eq!(contract.methods("/thing"), None);
    }
}
