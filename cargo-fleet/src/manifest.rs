//! `fleet.toml`: the fleet declared once. The registry, the shared crates
//! and the services, each service by its directory or by a git repository
//! of its own, with the settings the project's harness uses to run it
//! (port, readiness path, the services it calls), which `cargo fleet`
//! only checks.
//!
//! ```toml
//! [registry]                  # optional: these are the defaults
//! name = "local"
//! index = "sparse+http://127.0.0.1:8000/api/v1/crates/"
//!
//! [[shared]]                  # optional: the default is this one
//! name = "shared-lib"
//! path = "shared-lib"         # or git = "<url>", branch = "main"
//!
//! [advisories]                # optional: these are the defaults
//! path = "advisories"         # the team's advisory database (RustSec format)
//! prefix = "FLEET"            # its ids: FLEET-2026-0001
//!
//! [[service]]
//! name = "user-service"
//! path = "user-service"       # the default: its name, beside fleet.toml
//! # git = "https://git.example.com/team/user-service.git"
//! # branch = "main"           # the default
//! port = 8081                 # the harness's: where it runs
//! ready = "/ready"
//! calls = [{ service = "other-service", env = "OTHER_SERVICE_URL" }]
//! ```
//!
//! Every mistake is one line naming the key and the fix, of
//! [`Kind::Usage`](crate::error::Kind::Usage) (exit 2).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::error::usage;

/// The manifest's file name.
pub const FILE: &str = "fleet.toml";

/// The registry every Cargo.lock of the fleet names, by default.
pub const DEFAULT_INDEX: &str = "sparse+http://127.0.0.1:8000/api/v1/crates/";

/// The registry's name in cargo's configuration, by default.
pub const DEFAULT_REGISTRY: &str = "local";

/// The shared crate of a manifest that declares none.
pub const DEFAULT_SHARED: &str = "shared-lib";

/// Where the advisory database is, by default (beside `fleet.toml`).
pub const DEFAULT_ADVISORIES: &str = "advisories";

/// The advisories' id prefix, by default.
pub const DEFAULT_PREFIX: &str = "FLEET";

/// Where a project's files are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A directory, relative to the directory holding `fleet.toml`.
    Path(PathBuf),
    /// A git repository of its own, at `url`, on `branch`.
    Git {
        /// Anything `git clone` takes (`https://`, `ssh://`, `file://`).
        url: String,
        /// The branch the fleet follows.
        branch: String,
    },
}

/// The private registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registry {
    /// Its name in cargo's configuration (`--registry <name>`, the
    /// `CARGO_REGISTRIES_<NAME>_*` variables).
    pub name: String,
    /// Its sparse index URL, as every Cargo.lock records it.
    pub index: String,
}

/// A shared crate: published to the registry, pinned by the services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shared {
    /// Its package name.
    pub name: String,
    /// Where its sources are.
    pub source: Source,
}

/// The team's own advisory database: a git repository in the RustSec
/// format (`crates/<crate>/<ID>.md`), which `cargo fleet advise` writes and
/// `status`, `release` and each service's cargo-deny read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advisories {
    /// Its directory, relative to the directory holding `fleet.toml`.
    pub path: PathBuf,
    /// The prefix of its ids (`FLEET` gives `FLEET-2026-0001`).
    pub prefix: String,
}

/// A call from one service to another (the harness wires it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The callee's name.
    pub service: String,
    /// The caller's environment variable holding the callee's base URL.
    pub env: String,
}

/// One service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// Its name (its package's name).
    pub name: String,
    /// Where its sources are.
    pub source: Source,
    /// The harness's: its default port.
    pub port: Option<u16>,
    /// The harness's: the path answering 200 once it can serve.
    pub ready: Option<String>,
    /// The harness's: the services it calls.
    pub calls: Vec<Call>,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The registry.
    pub registry: Registry,
    /// The shared crates (at least one).
    pub shared: Vec<Shared>,
    /// The services, callees before their callers.
    pub services: Vec<Service>,
    /// The advisory database.
    pub advisories: Advisories,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    registry: Option<RawRegistry>,
    #[serde(default)]
    shared: Vec<RawProject>,
    #[serde(rename = "service", default)]
    services: Vec<RawService>,
    advisories: Option<RawAdvisories>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvisories {
    path: Option<PathBuf>,
    prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    name: Option<String>,
    index: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: String,
    path: Option<PathBuf>,
    git: Option<String>,
    branch: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: String,
    path: Option<PathBuf>,
    git: Option<String>,
    branch: Option<String>,
    port: Option<u16>,
    ready: Option<String>,
    #[serde(default)]
    calls: Vec<Call>,
}

impl Manifest {
    /// Reads and checks `fleet.toml` in `root`.
    pub fn load(root: &Path) -> Result<Manifest> {
        let path = root.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|err| {
            usage(format!(
                "cannot read {}: {err}; create it (see `cargo fleet --help`)",
                path.display()
            ))
        })?;
        Manifest::parse(&text).map_err(|err| usage(format!("{}: {err:#}", path.display())))
    }

    /// Parses and checks a manifest; services come back in start order.
    pub fn parse(text: &str) -> Result<Manifest> {
        let raw: RawManifest = toml::from_str(text).map_err(|err| {
            // toml's message spans several lines (the line, a caret): one
            // line is its first plus the key it names.
            let message = err.message().trim().to_string();
            match err.span() {
                Some(span) => {
                    let line = text[..span.start].matches('\n').count() + 1;
                    usage(format!("line {line}: {message}"))
                }
                None => usage(message),
            }
        })?;
        let registry = raw.registry.map_or_else(
            || Registry {
                name: DEFAULT_REGISTRY.into(),
                index: DEFAULT_INDEX.into(),
            },
            |r| Registry {
                name: r.name.unwrap_or_else(|| DEFAULT_REGISTRY.into()),
                index: r.index.unwrap_or_else(|| DEFAULT_INDEX.into()),
            },
        );
        check_registry(&registry)?;
        let shared = if raw.shared.is_empty() {
            vec![Shared {
                name: DEFAULT_SHARED.into(),
                source: Source::Path(DEFAULT_SHARED.into()),
            }]
        } else {
            raw.shared
                .into_iter()
                .map(|p| {
                    let what = format!("[[shared]] {:?}", p.name);
                    check_package(&p.name, &what)?;
                    Ok(Shared {
                        source: source(&what, &p.name, p.path, p.git, p.branch)?,
                        name: p.name,
                    })
                })
                .collect::<Result<Vec<_>>>()?
        };
        let services = raw
            .services
            .into_iter()
            .map(|s| {
                let what = format!("[[service]] {:?}", s.name);
                check_name(&s.name)?;
                Ok(Service {
                    source: source(&what, &s.name, s.path, s.git, s.branch)?,
                    name: s.name,
                    port: s.port,
                    ready: s.ready,
                    calls: s.calls,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let advisories = raw.advisories.map_or_else(
            || Advisories {
                path: DEFAULT_ADVISORIES.into(),
                prefix: DEFAULT_PREFIX.into(),
            },
            |a| Advisories {
                path: a.path.unwrap_or_else(|| DEFAULT_ADVISORIES.into()),
                prefix: a.prefix.unwrap_or_else(|| DEFAULT_PREFIX.into()),
            },
        );
        if advisories.prefix.is_empty()
            || !advisories
                .prefix
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(usage(format!(
                "[advisories] prefix {:?}: use capital letters and digits, e.g. \"FLEET\"",
                advisories.prefix
            )));
        }
        let mut manifest = Manifest {
            registry,
            shared,
            services,
            advisories,
        };
        manifest.check()?;
        manifest.services = start_order(&manifest.services)?;
        Ok(manifest)
    }

    /// The service called `name`, or a usage error listing the services.
    pub fn service(&self, name: &str) -> Result<&Service> {
        self.services
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                usage(format!(
                    "unknown service {name:?}; the services in {FILE} are {}",
                    self.names().join(", ")
                ))
            })
    }

    /// Every service's name, in start order.
    pub fn names(&self) -> Vec<&str> {
        self.services.iter().map(|s| s.name.as_str()).collect()
    }

    /// The shared crate called `name`, or the only one when `name` is
    /// `None`; a usage error otherwise.
    pub fn shared(&self, name: Option<&str>) -> Result<&Shared> {
        let names = || {
            self.shared
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(name) => self.shared.iter().find(|s| s.name == name).ok_or_else(|| {
                usage(format!(
                    "--crate {name}: not a shared crate of {FILE}; it declares {}",
                    names()
                ))
            }),
            None if self.shared.len() == 1 => Ok(&self.shared[0]),
            None => Err(usage(format!(
                "{FILE} declares several shared crates ({}); name one with --crate",
                names()
            ))),
        }
    }

    fn check(&self) -> Result<()> {
        let mut shared = BTreeSet::new();
        for s in &self.shared {
            if !shared.insert(s.name.as_str()) {
                return Err(usage(format!(
                    "[[shared]] {:?} is declared twice; remove one",
                    s.name
                )));
            }
        }
        let mut names = BTreeSet::new();
        let mut ports = BTreeSet::new();
        for s in &self.services {
            if !names.insert(s.name.as_str()) || shared.contains(s.name.as_str()) {
                return Err(usage(format!(
                    "[[service]] {:?} is declared twice (or as a shared crate too); remove one",
                    s.name
                )));
            }
            if let Some(port) = s.port
                && (port == 0 || !ports.insert(port))
            {
                return Err(usage(format!(
                    "[[service]] {:?}: port = {port} is 0 or taken by another service; pick a free one",
                    s.name
                )));
            }
            if let Some(ready) = &s.ready
                && !ready.starts_with('/')
            {
                return Err(usage(format!(
                    "[[service]] {:?}: ready = {ready:?} must be a path starting with / (e.g. \"/ready\")",
                    s.name
                )));
            }
            for call in &s.calls {
                check_env_name(&call.env).map_err(|err| {
                    usage(format!(
                        "[[service]] {:?}: calls {:?}: {err}",
                        s.name, call.service
                    ))
                })?;
            }
        }
        for s in &self.services {
            for call in &s.calls {
                if !names.contains(call.service.as_str()) {
                    return Err(usage(format!(
                        "[[service]] {:?} calls {:?}, which is not declared; declare it or remove the call",
                        s.name, call.service
                    )));
                }
            }
        }
        Ok(())
    }
}

fn check_registry(registry: &Registry) -> Result<()> {
    let name_ok = !registry.name.is_empty()
        && registry
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        return Err(usage(format!(
            "[registry] name = {:?} is not a cargo registry name; use letters, digits, - and _",
            registry.name
        )));
    }
    let url_ok = registry
        .index
        .strip_prefix("sparse+")
        .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"))
        && registry.index.ends_with('/');
    if !url_ok {
        return Err(usage(format!(
            "[registry] index = {:?} is not a sparse index URL; write it as cargo does, e.g. {DEFAULT_INDEX:?}",
            registry.index
        )));
    }
    Ok(())
}

fn source(
    what: &str,
    name: &str,
    path: Option<PathBuf>,
    git: Option<String>,
    branch: Option<String>,
) -> Result<Source> {
    match (path, git) {
        (Some(_), Some(_)) => Err(usage(format!(
            "{what}: both path and git are set; keep the one where it lives"
        ))),
        (Some(_), None) | (None, None) if branch.is_some() => Err(usage(format!(
            "{what}: branch is set without git; add git = \"<url>\" or remove branch"
        ))),
        (Some(path), None) => {
            if path.is_absolute() || path.components().any(|c| c.as_os_str() == "..") {
                return Err(usage(format!(
                    "{what}: path = {:?} must be a directory under the one holding {FILE}; \
                     declare a project elsewhere by git = \"<url>\"",
                    path.display()
                )));
            }
            Ok(Source::Path(path))
        }
        (None, None) => Ok(Source::Path(PathBuf::from(name))),
        (None, Some(url)) if url.trim().is_empty() => Err(usage(format!(
            "{what}: git = \"\" names no repository; give its clone URL"
        ))),
        (None, Some(url)) => Ok(Source::Git {
            url,
            branch: branch.unwrap_or_else(|| "main".into()),
        }),
    }
}

fn check_package(name: &str, what: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(usage(format!(
            "{what}: not a package name; use letters, digits, - and _"
        )));
    }
    Ok(())
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
        return Err(usage(format!(
            "{name:?} is not a service name: use lower-case letters, digits and dashes, starting \
             with a letter (e.g. billing-service)"
        )));
    }
    Ok(())
}

fn check_env_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(usage(format!(
            "{name:?} is not an environment variable name like USER_SERVICE_URL"
        )));
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
            None => {
                return Err(usage(format!(
                    "the services {} call each other in a cycle, so none can start first; remove a call",
                    left.iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
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
    fn callees_start_first_and_defaults_fill_in() {
        let fleet = Manifest::parse(TWO).unwrap();
        assert_eq!(fleet.names(), ["a", "b"]);
        assert_eq!(fleet.services[1].calls[0].service, "a");
        assert_eq!(fleet.services[0].source, Source::Path("a".into()));
        assert_eq!(fleet.registry.index, DEFAULT_INDEX);
        assert_eq!(fleet.shared(None).unwrap().name, DEFAULT_SHARED);
        let err = fleet.service("c").unwrap_err();
        assert!(format!("{err:#}").contains("a, b"));
        assert_eq!(crate::error::Kind::of(&err), crate::error::Kind::Usage);
    }

    #[test]
    fn services_and_shared_crates_come_from_git_too() {
        let fleet = Manifest::parse(
            "[registry]\nname = \"corp\"\nindex = \"sparse+https://crates.example.com/index/\"\n\
             [[shared]]\nname = \"core-lib\"\ngit = \"file:///r/core.git\"\n\
             [[shared]]\nname = \"other\"\n\
             [[service]]\nname = \"svc\"\ngit = \"file:///r/svc.git\"\nbranch = \"trunk\"\n",
        )
        .unwrap();
        assert_eq!(fleet.registry.name, "corp");
        assert_eq!(
            fleet.services[0].source,
            Source::Git {
                url: "file:///r/svc.git".into(),
                branch: "trunk".into()
            }
        );
        assert_eq!(
            fleet.shared(Some("other")).unwrap().source,
            Source::Path("other".into())
        );
        assert!(format!("{:#}", fleet.shared(None).unwrap_err()).contains("--crate"));
    }

    #[test]
    fn mistakes_are_named_in_one_line() {
        let cases = [
            (TWO.replace("port = 2", "port = 1"), "port = 1"),
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
                "unknown field `prot`",
            ),
            (
                TWO.replace(
                    "port = 1\n",
                    "port = 1\ncalls = [{ service = \"b\", env = \"B\" }]\n",
                ),
                "cycle",
            ),
            (
                TWO.replace("port = 1\n", "port = 1\npath = \"a\"\ngit = \"u\"\n"),
                "both path and git",
            ),
            (
                TWO.replace("port = 1\n", "port = 1\nbranch = \"x\"\n"),
                "without git",
            ),
            (
                TWO.replace("port = 1\n", "port = 1\npath = \"../a\"\n"),
                "under the one",
            ),
            (
                format!("[registry]\nindex = \"http://x/\"\n{TWO}"),
                "sparse index URL",
            ),
            (
                "[[service]]\nport = 1\n".to_string(),
                "missing field `name`",
            ),
        ];
        for (text, expected) in cases {
            let err = Manifest::parse(&text).unwrap_err();
            let shown = format!("{err:#}");
            assert!(shown.contains(expected), "{expected:?} not in {shown:?}");
            assert!(!shown.contains('\n'), "{shown:?}");
            assert_eq!(crate::error::Kind::of(&err), crate::error::Kind::Usage);
        }
    }
}
