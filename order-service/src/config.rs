//! Settings, read from the environment.

use std::time::Duration;

use shared_lib::config::{ConfigError, ServerConfig, ServiceConfig, var_or};
use shared_lib::db::DbConfig;

/// The port order-service listens on unless `PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 8082;

/// Everything order-service reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, `PORT` (default 8082) and `LOG_FORMAT`.
    pub server: ServerConfig,
    /// `USER_SERVICE_URL`: where user-service answers (default
    /// `http://127.0.0.1:8081`; in compose, `http://user-service:8081`).
    pub user_service_url: String,
    /// `USER_SERVICE_TIMEOUT_MS`: the longest a call to user-service may
    /// take before the order is answered 503 (default 2000).
    pub user_service_timeout: Duration,
    /// `DISCOUNT_SEED`: seeds the discount RNG for reproducible runs;
    /// unset, the OS seeds it.
    pub discount_seed: Option<u64>,
    /// `DATABASE_URL`, else a SQLite file under `DATA_DIR` (default
    /// `data/order-service.db`); pool size and acquire timeout.
    pub database: DbConfig,
    /// `USER_CACHE_TTL_MS`: how long a user user-service confirmed is
    /// trusted without asking again (default 10 000; 0 asks every time).
    pub user_cache_ttl: Duration,
    /// `USER_CACHE_MAX`: the most confirmed users remembered (default 10 000).
    pub user_cache_max: usize,
}

impl ServiceConfig for Config {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let url: String = var_or(
            lookup,
            "USER_SERVICE_URL",
            "http://127.0.0.1:8081".to_string(),
        )?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError {
                key: "USER_SERVICE_URL".into(),
                value: url,
                reason: "expected an http:// URL".into(),
            });
        }
        let timeout_ms: u64 = var_or(lookup, "USER_SERVICE_TIMEOUT_MS", 2_000)?;
        if timeout_ms == 0 {
            return Err(ConfigError {
                key: "USER_SERVICE_TIMEOUT_MS".into(),
                value: "0".into(),
                reason: "expected a positive number of milliseconds".into(),
            });
        }
        let seed = match lookup("DISCOUNT_SEED").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(_) => Some(var_or(lookup, "DISCOUNT_SEED", 0u64)?),
        };
        Ok(Config {
            server: ServerConfig::from_lookup(lookup, DEFAULT_PORT)?,
            user_service_url: url.trim_end_matches('/').to_string(),
            user_service_timeout: Duration::from_millis(timeout_ms),
            discount_seed: seed,
            database: DbConfig::from_lookup(lookup, crate::SERVICE)?,
            user_cache_ttl: Duration::from_millis(var_or(lookup, "USER_CACHE_TTL_MS", 10_000)?),
            user_cache_max: var_or(lookup, "USER_CACHE_MAX", 10_000)?,
        })
    }

    fn server(&self) -> &ServerConfig {
        &self.server
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use shared_lib::config::lookup_from as lookup;

    #[test]
    fn defaults_point_at_the_local_user_service() {
        let c = Config::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(c.server.port, 8082);
        assert_eq!(c.user_service_url, "http://127.0.0.1:8081");
        assert_eq!(c.user_service_timeout, Duration::from_secs(2));
        assert_eq!(c.discount_seed, None);
        assert_eq!(c.user_cache_ttl, Duration::from_secs(10));
        assert_eq!(c.user_cache_max, 10_000);
    }

    #[test]
    fn bad_values_are_named() {
        let e =
            Config::from_lookup(&lookup(&[("USER_SERVICE_URL", "user-service:8081")])).unwrap_err();
        assert_eq!(e.key, "USER_SERVICE_URL");
        let e = Config::from_lookup(&lookup(&[("DISCOUNT_SEED", "lucky")])).unwrap_err();
        assert_eq!(e.key, "DISCOUNT_SEED");
        let e = Config::from_lookup(&lookup(&[("USER_SERVICE_TIMEOUT_MS", "0")])).unwrap_err();
        assert_eq!(e.key, "USER_SERVICE_TIMEOUT_MS");
        let e = Config::from_lookup(&lookup(&[("USER_CACHE_TTL_MS", "-1")])).unwrap_err();
        assert_eq!(e.key, "USER_CACHE_TTL_MS");
        let off = Config::from_lookup(&lookup(&[("USER_CACHE_TTL_MS", "0")])).unwrap();
        assert_eq!(off.user_cache_ttl, Duration::ZERO);
        let c = Config::from_lookup(&lookup(&[
            ("DISCOUNT_SEED", "7"),
            ("USER_SERVICE_URL", "http://u:1/"),
        ]))
        .unwrap();
        assert_eq!(
            (c.discount_seed, c.user_service_url.as_str()),
            (Some(7), "http://u:1")
        );
    }
}
