//! Settings, read from the environment.

use shared_lib::config::{ConfigError, ServerConfig, ServiceConfig};
use shared_lib::db::DbConfig;

/// The port {{name}} listens on unless `PORT` says otherwise.
pub const DEFAULT_PORT: u16 = {{port}};

/// Everything {{name}} reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, `PORT` (default {{port}}) and `LOG_FORMAT`.
    pub server: ServerConfig,
    /// `DATABASE_URL`, else a SQLite file under `DATA_DIR` (default
    /// `data/{{name}}.db`); pool size and acquire timeout.
    pub database: DbConfig,
}

impl ServiceConfig for Config {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Ok(Config {
            server: ServerConfig::from_lookup(lookup, DEFAULT_PORT)?,
            database: DbConfig::from_lookup(lookup, crate::SERVICE)?,
        })
    }

    fn server(&self) -> &ServerConfig {
        &self.server
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_fleet_manifests_port_and_a_sqlite_file_under_data() {
        let c = Config::from_lookup(&|_| None).unwrap();
        assert_eq!(c.server.port, {{port}});
        assert_eq!(
            c.database.sqlite_file().unwrap(),
            std::path::Path::new("data/{{name}}.db")
        );
        let bad = Config::from_lookup(&|k| (k == "PORT").then(|| "http".to_string()));
        assert_eq!(bad.unwrap_err().key, "PORT");
        let bad = Config::from_lookup(&|k| (k == "DATABASE_URL").then(|| "items.db".to_string()));
        assert_eq!(bad.unwrap_err().key, "DATABASE_URL");
    }
}
