//! The client of user-service: does a user exist, is user-service up.
//! Every call is bounded by the configured timeout and carries the
//! caller's request id, so one id follows a request across both services.

use std::time::Duration;

use shared_lib::REQUEST_ID_HEADER;
use shared_lib::error::ApiError;
use shared_lib::filters::RequestId;
use shared_lib::wire::User;

/// Calls user-service over HTTP.
#[derive(Debug, Clone)]
pub struct UserClient {
    /// user-service's base URL, without a trailing slash.
    base: String,
    /// A pooled client with the configured timeout.
    http: reqwest::Client,
}

impl UserClient {
    /// A client of the user-service at `base`, each call bounded by `timeout`.
    pub fn new(base: &str, timeout: Duration) -> UserClient {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        UserClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        }
    }

    /// The user with `id`, `None` when user-service says 404; a 503
    /// `user_service_unavailable` when it is down, slow or answers oddly.
    pub async fn find(&self, id: u64, request_id: &RequestId) -> Result<Option<User>, ApiError> {
        let url = format!("{}/api/users/{id}", self.base);
        let resp = self
            .http
            .get(&url)
            .header(REQUEST_ID_HEADER, request_id.as_str())
            .send()
            .await
            .map_err(|err| unavailable(&err.to_string()))?;
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

    /// `Ok` when user-service's `GET /health` answers 200.
    pub async fn check_health(&self) -> Result<(), String> {
        match self.http.get(format!("{}/health", self.base)).send().await {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) => Err(format!("user-service health answered {}", resp.status())),
            Err(err) => Err(format!("user-service unreachable: {err}")),
        }
    }
}

fn unavailable(why: &str) -> ApiError {
    tracing::warn!(why, "user-service call failed");
    ApiError::unavailable(
        "user_service_unavailable",
        "user-service did not answer in time; try again later",
    )
}
