//! Settings, read from the environment.

use shared_lib::config::{ConfigError, ServerConfig, process_env, var_or};

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
