//! The fleet as the harness runs it: the services of `fleet.toml` that
//! live in this repository, each with the port, readiness path and calls
//! the harness needs. `fleet.toml` is read and checked by `cargo fleet`'s
//! parser ([`cargo_fleet::manifest`], the one reader of the file); this is
//! its harness view. Nothing else in xtask knows a service by name. The
//! benchmark's requests are the harness's, in `bench/bench.toml`
//! ([`crate::bench_plan`]).

use std::path::Path;

use anyhow::{Context, Result, bail};
pub use cargo_fleet::manifest::{Call, FILE, Manifest, Source, check_name};

/// One service the harness runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Directory, package, binary and compose service name.
    pub name: String,
    /// Its default port (the service's own default).
    pub port: u16,
    /// The path that answers 200 once it can serve, e.g. `/ready`.
    pub ready: String,
    /// The services it calls.
    pub calls: Vec<Call>,
}

/// The services the harness runs, in start order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// Every service of this repository, callees first.
    pub services: Vec<Service>,
    /// The services of `fleet.toml` in repositories of their own: `cargo
    /// fleet` serves them; the harness does not run them.
    pub elsewhere: Vec<String>,
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
        Fleet::of(&Manifest::parse(text)?)
    }

    /// The harness's view of `manifest`.
    pub fn of(manifest: &Manifest) -> Result<Fleet> {
        let mut fleet = Fleet {
            services: Vec::new(),
            elsewhere: Vec::new(),
        };
        for s in &manifest.services {
            match &s.source {
                Source::Git { .. } => {
                    fleet.elsewhere.push(s.name.clone());
                    continue;
                }
                Source::Path(path) if path != Path::new(&s.name) => bail!(
                    "[[service]] {:?}: path = {:?}: the harness runs a service from the directory \
                     of its name; move it there or declare it by git",
                    s.name,
                    path.display()
                ),
                Source::Path(_) => {}
            }
            let (Some(port), Some(ready)) = (s.port, s.ready.clone()) else {
                bail!(
                    "[[service]] {:?}: port and ready are needed to run it (e.g. port = 8083, \
                     ready = \"/ready\")",
                    s.name
                );
            };
            fleet.services.push(Service {
                name: s.name.clone(),
                port,
                ready,
                calls: s.calls.clone(),
            });
        }
        for s in &fleet.services {
            for call in &s.calls {
                if fleet.elsewhere.contains(&call.service) {
                    bail!(
                        "[[service]] {:?} calls {:?}, which lives in its own repository; the harness \
                         cannot start it",
                        s.name,
                        call.service
                    );
                }
            }
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_harness_needs_a_port_and_leaves_git_services_to_cargo_fleet() {
        let fleet = Fleet::parse(
            "[[service]]\nname = \"a\"\nport = 1\nready = \"/r\"\n\
             [[service]]\nname = \"b\"\ngit = \"file:///b.git\"\n",
        )
        .unwrap();
        assert_eq!(fleet.names(), ["a"]);
        assert_eq!(fleet.elsewhere, ["b"]);
        let err = Fleet::parse("[[service]]\nname = \"a\"\nready = \"/r\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("port and ready"), "{err:#}");
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
