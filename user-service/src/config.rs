//! Settings, read from the environment.

use shared_lib::config::{ConfigError, ServerConfig, ServiceConfig, process_env, var_or};

/// The port user-service listens on unless `PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 8081;

/// Everything user-service reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, `PORT` (default 8081) and `LOG_FORMAT`.
    pub server: ServerConfig,
    /// `MAX_USERS`: the most users the in-memory store keeps (default
    /// 100 000), so a flood of sign-ups cannot exhaust memory.
    pub max_users: usize,
}

impl Config {
    /// Reads the settings through `lookup`.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Ok(Config {
            server: ServerConfig::from_lookup(lookup, DEFAULT_PORT)?,
            max_users: var_or(lookup, "MAX_USERS", 100_000)?,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(&process_env)
    }
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use shared_lib::config::lookup_from as lookup;

    #[test]
    fn defaults_are_port_8081_and_a_hundred_thousand_users() {
        let c = Config::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(c.server.port, DEFAULT_PORT);
        assert_eq!(c.max_users, 100_000);
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::from_lookup(&lookup(&[("MAX_USERS", "lots")])).unwrap_err();
        assert_eq!(e.key, "MAX_USERS");
        let e = Config::from_lookup(&lookup(&[("PORT", "99999")])).unwrap_err();
        assert_eq!(e.key, "PORT");
        let c = Config::from_lookup(&lookup(&[("MAX_USERS", "3"), ("PORT", "9000")])).unwrap();
        assert_eq!((c.max_users, c.server.port), (3, 9000));
    }
}
