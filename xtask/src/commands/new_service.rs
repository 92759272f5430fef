//! `cargo xtask new-service NAME [--port N] [--calls SERVICE]...`: a new
//! service with the same
//! shape as the others, from the template in `templates/service/` (src
//! layout, tests, README, Dockerfile, .dockerignore), pinned by semver to
//! the newest shared-lib in the registry, with a Cargo.lock. It is added to
//! `fleet.toml`, `docker-compose.yml`, the Kubernetes manifests of
//! `deploy/k8s/` and the swarm stack of `deploy/swarm/`; every command
//! picks it up from there. Each `--calls` service is declared as one it
//! calls: its base URL reaches the new service in `<SERVICE>_URL` (natively,
//! in compose, swarm and Kubernetes) and it starts first.
//!
//! The Cargo.lock starts from the lockfile of the service that pins the
//! newest shared-lib, trimmed by cargo to what the new service uses, so it
//! shares the fleet's tested dependency versions instead of whatever is
//! newest on crates.io.

use std::path::Path;

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::history::{self, SHARED_LIB};
use crate::index;
use crate::manifest::{self, Call, Fleet};
use crate::ops::cargo::{cargo, reading};
use crate::ops::registry::Kellnr;
use crate::ops::run::capture;
use crate::paths::Layout;

/// Runs `new-service`.
pub fn run(layout: &Layout, name: &str, port: Option<u16>, calls: &[String]) -> Result<()> {
    manifest::check_name(name)?;
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    let created = create(layout, &registry, name, port, calls)?;
    println!(
        "created {name} on port {} with {SHARED_LIB} {} (added to {}, docker-compose.yml, {}/ and {}/)",
        created.port,
        created.shared_lib,
        manifest::FILE,
        crate::k8s::DIR,
        crate::swarm::DIR
    );
    println!(
        "next: `cargo xtask up` starts it with the fleet; `cd {name} && cargo test --locked` tests it;"
    );
    println!(
        "      commit it: git add {name} {} docker-compose.yml {} {} && git commit -m \"{name}: new service\"",
        manifest::FILE,
        crate::k8s::DIR,
        crate::swarm::DIR
    );
    Ok(())
}

/// What [`create`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Its port.
    pub port: u16,
    /// The shared-lib version it pins.
    pub shared_lib: Version,
}

/// Creates the service `name` in `layout`'s checkout, pinned to the newest
/// shared-lib in `registry`, calling the fleet's services `calls`.
pub fn create(
    layout: &Layout,
    registry: &Kellnr,
    name: &str,
    port: Option<u16>,
    calls: &[String],
) -> Result<Created> {
    manifest::check_name(name)?;
    let fleet = layout.fleet()?;
    if fleet.service(name).is_ok() {
        bail!("{name} is already in {}", manifest::FILE);
    }
    let calls = calls
        .iter()
        .map(|callee| {
            let callee = fleet.service(callee).map_err(|_| {
                anyhow::anyhow!(
                    "--calls {callee}: no such service in {}; the fleet has {}",
                    manifest::FILE,
                    fleet.names().join(", ")
                )
            })?;
            Ok(Call {
                service: callee.name.clone(),
                env: url_variable(&callee.name),
            })
        })
        .collect::<Result<Vec<Call>>>()?;
    let dir = layout.project(name);
    if dir.exists() {
        bail!(
            "{} already exists; pick another name or remove it",
            dir.display()
        );
    }
    if [
        SHARED_LIB,
        "xtask",
        "registry",
        "bench",
        "templates",
        "target",
    ]
    .contains(&name)
    {
        bail!("{name} is a directory the repository already uses; pick another name");
    }
    let port = match port {
        Some(p) if fleet.services.iter().any(|s| s.port == p) => {
            bail!("port {p} is taken by another service in {}", manifest::FILE)
        }
        Some(0) => bail!("--port 0 is not a port a service can be reached on"),
        Some(p) => p,
        None => next_port(&fleet),
    };
    let newest = index::published(&registry.client(), SHARED_LIB)?
        .into_iter()
        .filter(|p| !p.yanked)
        .map(|p| p.version)
        .max()
        .context("no shared-lib version is published; run `cargo xtask up` first")?;

    let result = (|| -> Result<()> {
        render_template(&layout.root.join("templates/service"), &dir, &|text| {
            text.replace("{{name}}", name)
                .replace("{{crate}}", &name.replace('-', "_"))
                .replace("{{port}}", &port.to_string())
                .replace("{{shared_lib}}", &newest.to_string())
        })?;
        // Formatted for its own name (imports sort by crate name).
        capture(&mut cargo(layout, &dir, &["fmt"]))?;
        seed_lockfile(layout, registry, &fleet, &dir, &newest)?;
        let mut update = cargo(layout, &dir, &["update", "--workspace", "--quiet"]);
        reading(&mut update, registry)?;
        capture(&mut update)?;
        let locked = history::pin(&dir)?.version;
        if locked != newest {
            bail!("{name}/Cargo.lock locks {SHARED_LIB} {locked}, not {newest}");
        }
        Ok(())
    })();
    if let Err(err) = result {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(err.context(format!("creating {name} failed; nothing was kept")));
    }
    append(
        &layout.root.join(manifest::FILE),
        &manifest_entry(name, port, &calls),
    )?;
    add_to_compose(
        &layout.root.join("docker-compose.yml"),
        name,
        &compose_entry(name, port, &calls, &fleet),
    )?;
    crate::k8s::write(layout)?;
    crate::swarm::write(&layout.root, &layout.fleet()?)?;
    Ok(Created {
        port,
        shared_lib: newest,
    })
}

/// One past the highest port of the fleet.
fn next_port(fleet: &Fleet) -> u16 {
    fleet
        .services
        .iter()
        .map(|s| s.port)
        .max()
        .map_or(8081, |p| p + 1)
}

/// Copies `from` to `to`, every file passed through `fill`.
fn render_template(from: &Path, to: &Path, fill: &dyn Fn(&str) -> String) -> Result<()> {
    crate::ops::fs::copy_tree(from, to, &[], Some(fill))
        .with_context(|| format!("cannot render the template {}", from.display()))
}

/// Starts the lockfile from the one of the service pinning `newest` (else
/// the first service's), so versions match what the fleet already tests;
/// its registry entries name `registry`'s index (a throwaway registry's, in
/// tests), so cargo never asks the one the copied lockfile named.
fn seed_lockfile(
    layout: &Layout,
    registry: &Kellnr,
    fleet: &Fleet,
    dir: &Path,
    newest: &Version,
) -> Result<()> {
    let seed = fleet
        .services
        .iter()
        .find(|s| history::pin(&layout.project(&s.name)).is_ok_and(|p| &p.version == newest))
        .or(fleet.services.first());
    if let Some(seed) = seed {
        let lock = std::fs::read_to_string(layout.project(&seed.name).join("Cargo.lock"))?;
        let ours = format!("source = \"{}\"", registry.index_url());
        let lock = lock
            .lines()
            .map(|l| {
                if l.starts_with("source = \"sparse+") {
                    ours.as_str()
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(dir.join("Cargo.lock"), lock + "\n")?;
    }
    Ok(())
}

/// The variable a caller reads a callee's base URL from:
/// `billing-service` → `BILLING_SERVICE_URL`.
fn url_variable(callee: &str) -> String {
    format!("{}_URL", callee.to_uppercase().replace('-', "_"))
}

fn manifest_entry(name: &str, port: u16, calls: &[Call]) -> String {
    let mut entry =
        format!("\n[[service]]\nname = \"{name}\"\nport = {port}\nready = \"/ready\"\n");
    if !calls.is_empty() {
        let list: Vec<String> = calls
            .iter()
            .map(|c| format!("{{ service = \"{}\", env = \"{}\" }}", c.service, c.env))
            .collect();
        entry.push_str(&format!("calls = [{}]\n", list.join(", ")));
    }
    entry
}

fn compose_entry(name: &str, port: u16, calls: &[Call], fleet: &Fleet) -> String {
    let mut urls = String::new();
    let mut depends = String::new();
    for call in calls {
        let callee_port = fleet.service(&call.service).map_or(0, |s| s.port);
        urls.push_str(&format!(
            "      {}: http://{}:{callee_port}\n",
            call.env, call.service
        ));
        depends.push_str(&format!(
            "      {}:\n        condition: service_healthy\n",
            call.service
        ));
    }
    if !depends.is_empty() {
        depends.insert_str(0, "    depends_on:\n");
    }
    format!(
        r#"  {name}:
    build:
      context: ./{name}
      dockerfile: Dockerfile
    image: shared-fleet/{name}:local
    environment:
      BIND_ADDR: 0.0.0.0
      PORT: "{port}"
      LOG_FORMAT: json
      # Its SQLite file, on the named volume below: kept across `down --docker`.
      DATA_DIR: /var/lib/{name}
{urls}    volumes:
      - {name}-data:/var/lib/{name}
    ports:
      - "127.0.0.1:{port}:{port}"
{depends}    healthcheck:
      test: ["CMD", "/usr/local/bin/{name}", "healthcheck"]
      interval: 2s
      timeout: 3s
      start_period: 5s
      retries: 15
    restart: unless-stopped

"#
    )
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut current = std::fs::read_to_string(path)?;
    if !current.ends_with('\n') {
        current.push('\n');
    }
    current.push_str(text);
    std::fs::write(path, current).with_context(|| format!("cannot write {}", path.display()))
}

/// Inserts a service block at the end of the compose file's `services:`
/// (before the top-level `volumes:`) and its data volume at the end of
/// `volumes:` (the file's last section).
fn add_to_compose(path: &Path, name: &str, block: &str) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    let at = text.find("\nvolumes:").map(|i| i + 1).with_context(|| {
        format!(
            "{} has no top-level volumes: to insert before",
            path.display()
        )
    })?;
    let mut out = text[..at].to_string();
    out.push_str(block);
    out.push_str(&text[at..]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("  {name}-data:\n"));
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_port_follows_the_highest() {
        let fleet = Fleet::parse("[[service]]\nname = \"a\"\nport = 8081\nready = \"/r\"\n[[service]]\nname = \"b\"\nport = 8090\nready = \"/r\"\n").unwrap();
        assert_eq!(next_port(&fleet), 8091);
        let entry = manifest_entry("c", 8091, &[]);
        let text = format!("[[service]]\nname = \"a\"\nport = 8081\nready = \"/r\"\n{entry}");
        assert_eq!(Fleet::parse(&text).unwrap().names(), ["a", "c"]);
    }

    #[test]
    fn a_called_service_is_declared_and_wired_in_compose() {
        let fleet =
            Fleet::parse("[[service]]\nname = \"a-service\"\nport = 8081\nready = \"/r\"\n")
                .unwrap();
        let calls = [Call {
            service: "a-service".into(),
            env: url_variable("a-service"),
        }];
        let entry = manifest_entry("c", 8091, &calls);
        let text =
            format!("[[service]]\nname = \"a-service\"\nport = 8081\nready = \"/r\"\n{entry}");
        let parsed = Fleet::parse(&text).unwrap();
        assert_eq!(parsed.service("c").unwrap().calls, calls);
        assert_eq!(calls[0].env, "A_SERVICE_URL");
        let compose = compose_entry("c", 8091, &calls, &fleet);
        assert!(
            compose.contains("      A_SERVICE_URL: http://a-service:8081\n"),
            "{compose}"
        );
        assert!(
            compose.contains(
                "    depends_on:\n      a-service:\n        condition: service_healthy\n"
            ),
            "{compose}"
        );
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&format!("services:\n{compose}")).expect("valid YAML");
        assert_eq!(
            doc["services"]["c"]["environment"]["A_SERVICE_URL"].as_str(),
            Some("http://a-service:8081")
        );
    }
}
