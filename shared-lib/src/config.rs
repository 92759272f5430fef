//! Reading settings from the environment, with errors that name the
//! variable, the value and what was expected.
//!
//! Every function takes a `lookup` (`|key| std::env::var(key).ok()` in
//! production), so tests pass a map instead of changing the process
//! environment.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

use crate::telemetry::LogFormat;

/// A setting with an unusable value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable.
    pub key: String,
    /// Its value.
    pub value: String,
    /// What was expected instead.
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid {}={:?}: {}", self.key, self.value, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// The value of `key` parsed as `T`, or `default` when it is unset or empty.
pub fn var_or<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match lookup(key).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|e: T::Err| ConfigError {
            key: key.to_string(),
            value,
            reason: e.to_string(),
        }),
    }
}

/// What every service reads from the environment to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `BIND_ADDR`: the interface to listen on (default `127.0.0.1`;
    /// containers set `0.0.0.0`).
    pub bind: IpAddr,
    /// `PORT`: the port to listen on (default: the service's own).
    pub port: u16,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
}

impl ServerConfig {
    /// Reads `BIND_ADDR`, `PORT` and `LOG_FORMAT` through `lookup`.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
        default_port: u16,
    ) -> Result<ServerConfig, ConfigError> {
        Ok(ServerConfig {
            bind: var_or(lookup, "BIND_ADDR", IpAddr::V4(Ipv4Addr::LOCALHOST))?,
            port: var_or(lookup, "PORT", default_port)?,
            log_format: var_or(lookup, "LOG_FORMAT", LogFormat::Text)?,
        })
    }

    /// The socket address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }
}

/// Reads the process environment: the `lookup` to pass in production.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// A `lookup` over fixed pairs, for tests and tools:
/// `Config::from_lookup(&lookup_from(&[("PORT", "9000")]))`.
pub fn lookup_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

/// A service's settings: read through a lookup (so tests pass their own
/// variables) or from the process environment, and carrying the server
/// part, which [`crate::lifecycle::main`] binds and logs with. A service
/// writes `from_lookup` and `server`; `from_env` comes with the trait.
pub trait ServiceConfig: Sized {
    /// Reads the settings through `lookup` (a variable's value, or `None`
    /// when unset).
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    /// `BIND_ADDR`, `PORT` and `LOG_FORMAT`.
    fn server(&self) -> &ServerConfig;

    /// Reads the settings from the process environment.
    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        lookup_from(pairs)
    }

    #[test]
    fn defaults_work_on_one_machine() {
        let cfg = ServerConfig::from_lookup(&env(&[]), 8081).unwrap();
        assert_eq!(cfg.addr().to_string(), "127.0.0.1:8081");
        assert_eq!(cfg.log_format, LogFormat::Text);
    }

    #[test]
    fn values_are_read_and_bad_ones_named() {
        let cfg = ServerConfig::from_lookup(
            &env(&[
                ("BIND_ADDR", "0.0.0.0"),
                ("PORT", "9000"),
                ("LOG_FORMAT", "json"),
            ]),
            8081,
        )
        .unwrap();
        assert_eq!(cfg.addr().to_string(), "0.0.0.0:9000");
        assert_eq!(cfg.log_format, LogFormat::Json);

        let err = ServerConfig::from_lookup(&env(&[("PORT", "80000")]), 8081).unwrap_err();
        assert_eq!(err.key, "PORT");
        assert!(
            err.to_string().starts_with("invalid PORT=\"80000\": "),
            "{err}"
        );
        let err = ServerConfig::from_lookup(&env(&[("LOG_FORMAT", "xml")]), 8081).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid LOG_FORMAT=\"xml\": expected `text` or `json`"
        );
    }
}
