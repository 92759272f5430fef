//! Settings, read from the environment.

use shared_lib::config::{ConfigError, ServerConfig, ServiceConfig, process_env};

/// The port {{name}} listens on unless `PORT` says otherwise.
pub const DEFAULT_PORT: u16 = {{port}};

/// Everything {{name}} reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, `PORT` (default {{port}}) and `LOG_FORMAT`.
    pub server: ServerConfig,
}

impl Config {
    /// Reads the settings through `lookup`.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Ok(Config {
            server: ServerConfig::from_lookup(lookup, DEFAULT_PORT)?,
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

    #[test]
    fn the_default_port_is_the_fleet_manifests() {
        let c = Config::from_lookup(&|_| None).unwrap();
        assert_eq!(c.server.port, {{port}});
        let bad = Config::from_lookup(&|k| (k == "PORT").then(|| "http".to_string()));
        assert_eq!(bad.unwrap_err().key, "PORT");
    }
}
