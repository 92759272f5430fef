//! The fleet manifest, `fleet.toml` at the root: every service declared
//! once (directory, port, readiness path, the services it calls and through
//! which variable). Nothing else in xtask knows a service by name. The
//! benchmark's requests are the harness's, in `bench/bench.toml`
//! ([`crate::bench_plan`]).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The manifest's file name, at the repository root.
pub const FILE: &str = "fleet.toml";

/// One service of the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Directory, package, binary and compose service name.
    pub name: String,
    /// Its default port (the service's own default).
    pub port: u16,
    /// The path that answers 200 once it can serve, e.g. `/ready`.
    pub ready: String,
    /// The services it calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Call>,
}

/// A call from one service to another.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The callee's name.
    pub service: String,
    /// The caller's environment variable holding the callee's base URL.
    pub env: String,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Every service, in dependency order once loaded.
    #[serde(rename = "service", default)]
    pub services: Vec<Service>,
}

impl Fleet {
    /// Reads and checks `fleet.toml` under `root`.
    pub fn load(root: &Path) -> Result<Fleet> {
        let path = root.join(FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the fleet manifest {}", path.display()))?;
        Fleet::parse(&text)
            .with_context(|| format!("{} is not a valid fleet manifest", path.display()))
    }

    /// Parses and checks a manifest; services come back in start order.
    pub fn parse(text: &str) -> Result<Fleet> {
        let mut fleet: Fleet = toml::from_str(text)?;
        fleet.check()?;
        fleet.services = start_order(&fleet.services)?;
        Ok(fleet)
    }

    /// The service called `name`, or an error listing the services.
    pub fn service(&self, name: &str) -> Result<&Service> {
        self.services
            .iter()
            .find(|s| s.name == name)
            .with_context(|| {
                format!(
                    "unknown service {name:?}; the services in {FILE} are {}",
                    self.names().join(", ")
                )
            })
    }

    /// Every service's name, in start order.
    pub fn names(&self) -> Vec<&str> {
        self.services.iter().map(|s| s.name.as_str()).collect()
    }

    fn check(&self) -> Result<()> {
        let mut names = BTreeSet::new();
        let mut ports = BTreeSet::new();
        for s in &self.services {
            check_name(&s.name)?;
            if !names.insert(s.name.as_str()) {
                bail!("service {:?} is declared twice", s.name);
            }
            if s.port == 0 || !ports.insert(s.port) {
                bail!(
                    "service {:?}: port {} is 0 or taken by another service",
                    s.name,
                    s.port
                );
            }
            if !s.ready.starts_with('/') {
                bail!(
                    "service {:?}: ready = {:?} must be a path starting with /",
                    s.name,
                    s.ready
                );
            }
            for call in &s.calls {
                check_env_name(&call.env)
                    .with_context(|| format!("service {:?} calls {:?}", s.name, call.service))?;
            }
        }
        for s in &self.services {
            for call in &s.calls {
                if !names.contains(call.service.as_str()) {
                    bail!(
                        "service {:?} calls {:?}, which is not declared",
                        s.name,
                        call.service
                    );
                }
            }
        }
        Ok(())
    }
}

/// A service name: lower-case ASCII letters, digits and dashes, starting
/// with a letter (a valid package, directory and compose name at once).
pub fn check_name(name: &str) -> Result<()> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!(
            "{name:?} is not a service name: use lower-case letters, digits and dashes, starting \
             with a letter (e.g. billing-service)"
        );
    }
    Ok(())
}

fn check_env_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!("{name:?} is not an environment variable name like USER_SERVICE_URL");
    }
    Ok(())
}

/// The services ordered so every callee starts before its callers (stable:
/// declaration order otherwise); a cycle is an error.
fn start_order(services: &[Service]) -> Result<Vec<Service>> {
    let mut done: Vec<Service> = Vec::new();
    let mut left: Vec<&Service> = services.iter().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|s| {
            s.calls
                .iter()
                .all(|c| done.iter().any(|d| d.name == c.service))
        });
        match ready {
            Some(i) => done.push(left.remove(i).clone()),
            None => bail!(
                "the services {} call each other in a cycle, so none can start first",
                left.iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
[[service]]
name = "b"
port = 2
ready = "/ready"
calls = [{ service = "a", env = "A_URL" }]

[[service]]
name = "a"
port = 1
ready = "/ready"
"#;

    #[test]
    fn callees_start_first() {
        let fleet = Fleet::parse(TWO).unwrap();
        assert_eq!(fleet.names(), ["a", "b"]);
        assert_eq!(fleet.services[1].calls[0].service, "a");
        assert!(format!("{:#}", fleet.service("c").unwrap_err()).contains("a, b"));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (TWO.replace("port = 2", "port = 1"), "port 1"),
            (
                TWO.replace("service = \"a\"", "service = \"x\""),
                "not declared",
            ),
            (TWO.replace("A_URL", "a-url"), "environment variable"),
            (
                TWO.replace("name = \"b\"", "name = \"B\""),
                "not a service name",
            ),
            (
                TWO.replace("ready = \"/ready\"\ncalls", "ready = \"ready\"\ncalls"),
                "starting with /",
            ),
            (
                TWO.replace("port = 1", "port = 1\nprot = 3"),
                "unknown field",
            ),
            (
                TWO.replace(
                    "port = 1\n",
                    "port = 1\ncalls = [{ service = \"b\", env = \"B\" }]\n",
                ),
                "cycle",
            ),
        ];
        for (text, expected) in cases {
            let err = format!("{:#}", Fleet::parse(&text).unwrap_err());
            assert!(err.contains(expected), "{expected:?} not in {err:?}");
        }
    }

    #[test]
    fn the_repository_manifest_is_valid() {
        let root = crate::paths::Layout::detect().root;
        let fleet = Fleet::load(&root).unwrap();
        assert!(!fleet.services.is_empty());
        for s in &fleet.services {
            assert!(
                root.join(&s.name).join("Cargo.toml").is_file(),
                "{}",
                s.name
            );
        }
    }
}
