//! The blocking HTTP client xtask talks to the registry and to services with.

use std::time::Duration;

/// A blocking client with short timeouts (registry reads, health checks).
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap_or_else(|_| reqwest::blocking::Client::new())
}

/// Whether a GET of `url` with `client` answers 2xx (false when it does not
/// answer at all).
pub fn answers_ok(client: &reqwest::blocking::Client, url: &str) -> bool {
    client
        .get(url)
        .send()
        .is_ok_and(|r| r.status().is_success())
}

/// The JSON a GET of `url` answers with 2xx; `None` when it does not
/// answer, answers otherwise, or not with JSON.
pub fn get_json(client: &reqwest::blocking::Client, url: &str) -> Option<serde_json::Value> {
    client
        .get(url)
        .send()
        .ok()
        .filter(|r| r.status().is_success())
        .and_then(|r| r.json().ok())
}

/// The client type the functions here take.
pub type Client = reqwest::blocking::Client;

/// `method url` with `json` as its body when given; the answer's status.
pub fn send(client: &Client, method: &str, url: &str, json: Option<String>) -> anyhow::Result<u16> {
    use anyhow::Context;
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .with_context(|| format!("bad HTTP method {method:?}"))?;
    let mut call = client.request(method, url);
    if let Some(body) = json {
        call = call.header("content-type", "application/json").body(body);
    }
    let resp = call
        .send()
        .with_context(|| format!("{url} did not answer"))?;
    Ok(resp.status().as_u16())
}
