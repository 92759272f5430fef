//! Settings, read from the environment.

use shared_lib::config::{ConfigError, ServerConfig, ServiceConfig, var_or};
use shared_lib::db::DbConfig;

/// The port user-service listens on unless `PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 8081;

/// Everything user-service reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, `PORT` (default 8081) and `LOG_FORMAT`.
    pub server: ServerConfig,
    /// `DATABASE_URL`, else a SQLite file under `DATA_DIR` (default
    /// `data/user-service.db`); pool size and acquire timeout.
    pub database: DbConfig,
    /// `FAULT_SIGNUP_500_EVERY` (tests only, unset by default): every n-th
    /// sign-up answers 500 without storing anything, the bad build the
    /// rollout's health gate must catch.
    pub fault_signup_every: Option<u64>,
}

impl ServiceConfig for Config {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Ok(Config {
            server: ServerConfig::from_lookup(lookup, DEFAULT_PORT)?,
            database: DbConfig::from_lookup(lookup, crate::SERVICE)?,
            fault_signup_every: Some(var_or(lookup, "FAULT_SIGNUP_500_EVERY", 0u64)?)
                .filter(|&n| n > 0),
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
    use shared_lib::db::Backend;

    #[test]
    fn defaults_are_port_8081_and_a_sqlite_file_under_data() {
        let c = Config::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(c.server.port, DEFAULT_PORT);
        assert_eq!(c.database.backend, Backend::Sqlite);
        assert_eq!(c.fault_signup_every, None, "never on by default");
        assert_eq!(
            c.database.sqlite_file().unwrap(),
            std::path::Path::new("data/user-service.db")
        );
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::from_lookup(&lookup(&[("DATABASE_URL", "users.db")])).unwrap_err();
        assert_eq!(e.key, "DATABASE_URL");
        let e = Config::from_lookup(&lookup(&[("PORT", "99999")])).unwrap_err();
        assert_eq!(e.key, "PORT");
        let c = Config::from_lookup(&lookup(&[
            ("DATABASE_URL", "postgres://u:p@db/users"),
            ("PORT", "9000"),
        ]))
        .unwrap();
        assert_eq!(
            (c.database.backend, c.server.port),
            (Backend::Postgres, 9000)
        );
    }
}
