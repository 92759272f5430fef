//! The one JSON error body of the fleet and the warp rejection handler.
//!
//! Every error a service returns has this shape, with a stable
//! machine-readable `code` and a human `message`:
//!
//! ```json
//! {"code": "user_not_found", "message": "user 7 does not exist"}
//! ```
//!
//! Handlers reject with an [`ApiError`]; one `recover(handle_rejection)` at
//! the top of a service turns it, and every rejection warp produces itself
//! (unknown path, wrong method, bad JSON, oversized body ...), into that body.
//! Internal causes are logged, never sent to the client.

use std::convert::Infallible;

use serde::{Deserialize, Serialize};
use warp::http::StatusCode;
use warp::reject::Reject;
use warp::{Rejection, Reply};

/// The stable `code`s shared-lib itself sends. Services define their own
/// beside these (`user_not_found`, `email_taken` ...); clients may branch
/// on all of them.
pub mod codes {
    /// No route matches the path.
    pub const NOT_FOUND: &str = "not_found";
    /// The path exists, not for that method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The JSON body does not parse or does not fit the type.
    pub const INVALID_BODY: &str = "invalid_body";
    /// The body is over the limit.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// A body came without content-length.
    pub const LENGTH_REQUIRED: &str = "length_required";
    /// The body is not application/json.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// The query string does not fit the endpoint.
    pub const INVALID_QUERY: &str = "invalid_query";
    /// A required header is missing.
    pub const MISSING_HEADER: &str = "missing_header";
    /// A header has a bad value.
    pub const INVALID_HEADER: &str = "invalid_header";
    /// A path id is not a positive integer.
    pub const INVALID_ID: &str = "invalid_id";
    /// A page limit is out of range.
    pub const INVALID_LIMIT: &str = "invalid_limit";
    /// The request took longer than the server allows.
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    /// The service cannot serve yet (a dependency is down).
    pub const NOT_READY: &str = "not_ready";
    /// The database does not answer now (down, busy, out of connections,
    /// not migrated yet); retry shortly.
    pub const DATABASE_UNAVAILABLE: &str = "database_unavailable";
    /// The write clashes with existing data (a unique key).
    pub const CONFLICT: &str = "conflict";
    /// A bug; the cause is in the service log.
    pub const INTERNAL: &str = "internal";
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable, snake_case: clients branch on it.
    #[schema(example = "user_not_found")]
    pub code: String,
    /// Human-readable explanation; may change between versions.
    #[schema(example = "user 7 does not exist")]
    pub message: String,
}

/// An error a handler returns; its constructor names the status it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status sent.
    status: StatusCode,
    /// The stable code sent in the body.
    code: &'static str,
    /// The message sent in the body.
    message: String,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 Bad Request: the request itself is malformed (e.g. a non-numeric id).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 Not Found: the addressed resource does not exist.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409 Conflict: the request clashes with existing data (e.g. a duplicate email).
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// 422 Unprocessable Entity: well-formed, but breaks a rule (e.g. an empty order).
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 408 Request Timeout: the request (body included) took longer than the
    /// server allows; the connection is closed after the answer.
    pub fn request_timeout(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::REQUEST_TIMEOUT, codes::REQUEST_TIMEOUT, message)
    }

    /// 503 Service Unavailable: a dependency (another service, the database) is down or too slow.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// 500 Internal Server Error: `cause` is logged here and never sent.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "internal error; the cause is in the service log",
        )
    }

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message of this error.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl Reject for ApiError {}

impl Reply for ApiError {
    fn into_response(self) -> warp::reply::Response {
        let body = ErrorBody {
            code: self.code.to_string(),
            message: self.message,
        };
        let mut response =
            warp::reply::with_status(warp::reply::json(&body), self.status).into_response();
        if closes_connection(self.status) {
            response.headers_mut().insert(
                warp::http::header::CONNECTION,
                warp::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

/// Whether an error answer ends its connection: 411 and 413 are sent
/// without reading the body, and a request that timed out may still be
/// sending one, so the connection cannot carry another request. Saying
/// `connection: close` keeps a keep-alive client from reusing it.
fn closes_connection(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::LENGTH_REQUIRED | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    )
}

/// Turns any rejection into the shared error body. Use it once, at the top:
/// `routes.recover(handle_rejection)`.
pub async fn handle_rejection(rejection: Rejection) -> Result<ApiError, Infallible> {
    Ok(api_error_for(&rejection))
}

/// The [`ApiError`] a rejection is answered with.
///
/// When routes are combined with `or`, a rejection holds one cause per route
/// tried. The most specific cause wins: a handler's own [`ApiError`], then a
/// body or query problem, and "wrong method" only when nothing else matched,
/// so `GET /api/users?limit=x` reports the bad query, not the sibling
/// `POST /api/users` route's method.
pub fn api_error_for(rejection: &Rejection) -> ApiError {
    use warp::filters::body::BodyDeserializeError;
    use warp::reject::{
        InvalidHeader, InvalidQuery, LengthRequired, MethodNotAllowed, MissingHeader,
        PayloadTooLarge, UnsupportedMediaType,
    };

    if rejection.is_not_found() {
        return ApiError::not_found(codes::NOT_FOUND, "no such endpoint");
    }
    if let Some(err) = rejection.find::<ApiError>() {
        return err.clone();
    }
    if let Some(err) = rejection.find::<BodyDeserializeError>() {
        let cause = std::error::Error::source(err)
            .map(ToString::to_string)
            .unwrap_or_else(|| err.to_string());
        return ApiError::bad_request(codes::INVALID_BODY, format!("invalid JSON body: {cause}"));
    }
    if rejection.find::<PayloadTooLarge>().is_some() {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            "request body is too large",
        );
    }
    if rejection.find::<LengthRequired>().is_some() {
        return ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            codes::LENGTH_REQUIRED,
            "a content-length header is required",
        );
    }
    if rejection.find::<UnsupportedMediaType>().is_some() {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json",
        );
    }
    if let Some(err) = rejection.find::<InvalidQuery>() {
        return ApiError::bad_request(codes::INVALID_QUERY, format!("invalid query string: {err}"));
    }
    if let Some(err) = rejection.find::<MissingHeader>() {
        return ApiError::bad_request(
            codes::MISSING_HEADER,
            format!("missing header {}", err.name()),
        );
    }
    if let Some(err) = rejection.find::<InvalidHeader>() {
        return ApiError::bad_request(
            codes::INVALID_HEADER,
            format!("invalid header {}", err.name()),
        );
    }
    if rejection.find::<MethodNotAllowed>().is_some() {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::METHOD_NOT_ALLOWED,
            "this endpoint does not accept that method",
        );
    }
    ApiError::internal(format!("unhandled rejection: {rejection:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::Filter;

    async fn body_of(resp: warp::http::Response<warp::hyper::body::Bytes>) -> ErrorBody {
        serde_json::from_slice(resp.body()).expect("error body is JSON")
    }

    #[tokio::test]
    async fn api_errors_keep_their_status_and_code() {
        let route = warp::path("x")
            .and_then(|| async {
                Err::<String, _>(Rejection::from(ApiError::conflict(
                    "taken",
                    "already there",
                )))
            })
            .recover(handle_rejection);
        let resp = warp::test::request().path("/x").reply(&route).await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert_eq!(
            body_of(resp).await,
            ErrorBody {
                code: "taken".into(),
                message: "already there".into()
            }
        );
    }

    #[tokio::test]
    async fn warp_rejections_become_the_shared_body() {
        let route = warp::path("j")
            .and(warp::post())
            .and(warp::body::content_length_limit(16))
            .and(warp::body::json::<serde_json::Value>())
            .map(|_| "ok")
            .recover(handle_rejection);

        let cases = [
            (warp::test::request().path("/nope"), 404, "not_found"),
            (
                warp::test::request().method("GET").path("/j"),
                405,
                "method_not_allowed",
            ),
            (
                warp::test::request().method("POST").path("/j").body("{"),
                400,
                "invalid_body",
            ),
            (
                warp::test::request()
                    .method("POST")
                    .path("/j")
                    .body("[1,2,3,4,5,6,7,8,9,10]"),
                413,
                "payload_too_large",
            ),
            (
                warp::test::request()
                    .method("POST")
                    .path("/j")
                    .header("content-type", "text/plain")
                    .body("{}"),
                415,
                "unsupported_media_type",
            ),
        ];
        for (req, status, code) in cases {
            let resp = req.reply(&route).await;
            assert_eq!(resp.status().as_u16(), status, "{code}");
            let closes = resp
                .headers()
                .get("connection")
                .is_some_and(|v| v == "close");
            assert_eq!(
                closes,
                status == 413,
                "{code}: connection: close only when the body was refused unread"
            );
            assert_eq!(body_of(resp).await.code, code);
        }
    }
}
