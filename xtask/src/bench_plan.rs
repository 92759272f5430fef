//! The benchmark's plan, `bench/bench.toml`: the requests `cargo xtask
//! bench` makes once before the load (`[[setup]]`), the wrk runs
//! (`[[run]]`, each with the query it costs its service's database, run
//! alone through `bench/db-anchor`), and extra environment per service
//! (`[env.<service>]`). It belongs to the harness, not to the fleet's
//! manifest: `fleet.toml` declares only the fleet.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::manifest::Fleet;

/// The plan's path, relative to the repository root.
pub const FILE: &str = "bench/bench.toml";

/// One request of the benchmark.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchRequest {
    /// How the table names it; `METHOD path` when absent.
    pub name: Option<String>,
    /// The service that answers it.
    pub service: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query.
    pub path: String,
    /// A JSON body; `{unique}` is replaced per request.
    pub body: Option<String>,
    /// The query this request costs the service's database, run on its own
    /// (`bench/db-anchor`) beside the HTTP run: the ratio says what the
    /// service adds to what its database can do.
    pub driver: Option<DriverQuery>,
}

/// One SQL statement and its binds (`$1, $2, ...`): integers bind as
/// integers, anything else as text with `{unique}` replaced per execution.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriverQuery {
    /// The statement, as the service sends it.
    pub sql: String,
    /// Its parameters.
    #[serde(default)]
    pub binds: Vec<String>,
}

impl BenchRequest {
    /// The row name in the benchmark table.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{} {}", self.method, self.path))
    }
}

/// The benchmark's requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bench {
    /// Made once, before any load.
    #[serde(default)]
    pub setup: Vec<BenchRequest>,
    /// One wrk run each, in order.
    #[serde(default)]
    pub run: Vec<BenchRequest>,
    /// Extra environment per service (`[env.<service>]`).
    #[serde(default)]
    pub env: BTreeMap<String, BTreeMap<String, String>>,
}

impl Bench {
    /// Reads [`FILE`] under `root`, checked against `fleet`: every request
    /// and environment names a service it declares.
    pub fn load(root: &Path, fleet: &Fleet) -> Result<Bench> {
        let path = root.join(FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the benchmark's plan {}", path.display()))?;
        Bench::parse(&text, fleet)
            .with_context(|| format!("{} is not a valid benchmark plan", path.display()))
    }

    /// Parses and checks a plan against `fleet`.
    pub fn parse(text: &str, fleet: &Fleet) -> Result<Bench> {
        let bench: Bench = toml::from_str(text)?;
        for r in bench.setup.iter().chain(&bench.run) {
            fleet
                .service(&r.service)
                .with_context(|| format!("bench request {:?}", r.label()))?;
        }
        for service in bench.env.keys() {
            fleet
                .service(service)
                .with_context(|| format!("[env.{service}]"))?;
        }
        Ok(bench)
    }

    /// The extra environment of `service` (none when not given).
    pub fn env_of(&self, service: &str) -> impl Iterator<Item = (&String, &String)> {
        self.env.get(service).into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_must_name_declared_services() {
        let fleet =
            Fleet::parse("[[service]]\nname = \"a-service\"\nport = 9001\nready = \"/ready\"\n")
                .unwrap();
        let ok = Bench::parse(
            "[[run]]\nservice = \"a-service\"\nmethod = \"GET\"\npath = \"/\"\n[env.a-service]\nX = \"1\"\n",
            &fleet,
        )
        .unwrap();
        assert_eq!(ok.env_of("a-service").count(), 1);
        let err = Bench::parse(
            "[[run]]\nservice = \"b-service\"\nmethod = \"GET\"\npath = \"/\"\n",
            &fleet,
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown service \"b-service\""),
            "{err:#}"
        );
    }
}
