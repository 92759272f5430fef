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
