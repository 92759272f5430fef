//! The container checks, for any checkout (the tests run them on this
//! one and on a clone with a service added by `new-service`).

#![allow(dead_code)]

use std::collections::BTreeMap;

use docker_compose_types::{
    BuildStep, Compose, DependsOnOptions, Environment, HealthcheckTest, Ports, Service,
};
use dockerfile_parser::{Dockerfile, Instruction};
use xtask::history;
use xtask::paths::Layout;

fn compose(layout: &Layout) -> Compose {
    let path = layout.root.join("docker-compose.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn service<'a>(compose: &'a Compose, name: &str) -> &'a Service {
    compose
        .services
        .0
        .get(name)
        .and_then(Option::as_ref)
        .unwrap_or_else(|| panic!("no service {name}"))
}

fn env(service: &Service) -> BTreeMap<String, String> {
    match &service.environment {
        Environment::KvPair(map) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
        Environment::List(list) => list
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn healthcheck(service: &Service) -> String {
    match service.healthcheck.as_ref().and_then(|h| h.test.as_ref()) {
        Some(HealthcheckTest::Multiple(words)) => words.join(" "),
        Some(HealthcheckTest::Single(line)) => line.clone(),
        None => String::new(),
    }
}

fn ports(service: &Service) -> Vec<String> {
    match &service.ports {
        Ports::Short(list) => list.clone(),
        Ports::Long(_) => panic!("use the short port syntax"),
    }
}

/// The sparse index URL every Cargo.lock and the root config use.
fn fleet_index(layout: &Layout) -> String {
    let config: toml::Table =
        toml::from_str(&std::fs::read_to_string(layout.root.join(".cargo/config.toml")).unwrap())
            .unwrap();
    config["registries"]["local"]["index"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The compose file runs the registry and every service of the manifest
/// as natively.
pub fn check_compose(layout: &Layout) {
    let compose = compose(layout);
    let fleet = layout.fleet().unwrap();

    let registry = service(&compose, "registry");
    let image = registry.image.as_deref().unwrap();
    let (name, tag) = image
        .rsplit_once(':')
        .expect("the registry image is pinned by tag");
    assert_eq!(name, "ghcr.io/kellnr/kellnr");
    assert!(
        tag.chars().next().unwrap().is_ascii_digit() && tag != "latest",
        "{image}"
    );
    assert_eq!(ports(registry), ["127.0.0.1:8000:8000"]);
    assert!(healthcheck(registry).contains("http://127.0.0.1:8000/api/v1/health"));
    assert!(
        compose.volumes.0.contains_key("kellnr-data"),
        "a named volume keeps the registry data"
    );
    let registry_env = env(registry);
    assert_eq!(registry_env["KELLNR_ORIGIN__HOSTNAME"], "127.0.0.1");
    assert_eq!(registry_env["KELLNR_ORIGIN__PORT"], "8000");
    for (key, value) in &registry_env {
        if key.contains("TOKEN") || key.contains("PWD") {
            assert!(
                value.starts_with("${"),
                "{key} must come from the environment, not the file: {value}"
            );
        }
    }
    assert!(registry.restart.is_some());
    assert_eq!(
        registry_env["KELLNR_REGISTRY__AUTH_REQUIRED"], "true",
        "private, as natively"
    );
    let text = std::fs::read_to_string(layout.root.join("docker-compose.yml")).unwrap();
    assert!(
        !text.lines().any(|l| l.starts_with("name:")),
        "Compose 1.29 rejects a top-level name:"
    );

    for svc in &layout.fleet().unwrap().services {
        let s = service(&compose, &svc.name);
        let Some(BuildStep::Advanced(build)) = &s.build_ else {
            panic!(
                "{}: build must name its context, Dockerfile and network",
                svc.name
            )
        };
        let context = layout.root.join(&build.context);
        assert_eq!(context, layout.project(&svc.name), "{}", svc.name);
        assert!(
            context
                .join(build.dockerfile.as_deref().unwrap_or("Dockerfile"))
                .is_file()
        );
        assert!(
            context.join(".dockerignore").is_file(),
            "{}: no .dockerignore",
            svc.name
        );
        assert_eq!(
            build.network, None,
            "{}: builds are offline from vendor/, no host network",
            svc.name
        );
        assert_eq!(
            ports(s),
            [format!("127.0.0.1:{0}:{0}", svc.port)],
            "{}",
            svc.name
        );
        let e = env(s);
        assert_eq!(e["PORT"], svc.port.to_string(), "{}", svc.name);
        assert_eq!(e["BIND_ADDR"], "0.0.0.0", "{}", svc.name);
        assert!(
            healthcheck(s).contains(&format!("/usr/local/bin/{} healthcheck", svc.name)),
            "{}: the binary answers its own healthcheck",
            svc.name
        );
        assert!(s.restart.is_some(), "{}", svc.name);
    }
    // Each call of the manifest: the callee's compose URL, and the caller
    // starts once the callee is healthy.
    for svc in &fleet.services {
        let s = service(&compose, &svc.name);
        for call in &svc.calls {
            let callee = fleet.service(&call.service).unwrap();
            assert_eq!(
                env(s)[&call.env],
                format!("http://{}:{}", callee.name, callee.port),
                "{}",
                svc.name
            );
            let DependsOnOptions::Conditional(deps) = &s.depends_on else {
                panic!("{}: depends_on needs conditions", svc.name)
            };
            assert_eq!(
                deps[&callee.name].condition, "service_healthy",
                "{}",
                svc.name
            );
        }
    }
}

fn dockerfile(layout: &Layout, service: &str) -> Dockerfile {
    let path = layout.project(service).join("Dockerfile");
    Dockerfile::parse(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn misc(instructions: &[&Instruction], name: &str) -> Vec<String> {
    instructions
        .iter()
        .filter_map(|i| i.as_misc())
        .filter(|m| m.instruction.content.eq_ignore_ascii_case(name))
        .map(|m| m.arguments.to_string().trim().to_string())
        .collect()
}

fn run_lines(instructions: &[&Instruction]) -> Vec<String> {
    instructions
        .iter()
        .filter_map(|i| i.as_run())
        .filter_map(|r| r.as_shell())
        .map(|s| {
            s.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn env_vars(instructions: &[&Instruction]) -> BTreeMap<String, String> {
    instructions
        .iter()
        .filter_map(|i| i.as_env())
        .flat_map(|e| e.vars.iter())
        .map(|v| {
            (
                v.key.content.clone(),
                v.value.to_string().trim().to_string(),
            )
        })
        .collect()
}

/// Each Dockerfile builds `--locked` against the lockfile's index, keeps
/// tokens out, runs as non-root with a healthcheck on its port.
pub fn check_dockerfiles(layout: &Layout) {
    check_dockerfiles_with(layout, true);
}

/// [`check_dockerfiles`]; without `lock_index`, the lockfiles' registry URL
/// is not compared (a clone whose new service was locked against a
/// throwaway registry on another port).
pub fn check_dockerfiles_with(layout: &Layout, lock_index: bool) {
    let index = fleet_index(layout);
    for svc in &layout.fleet().unwrap().services {
        let file = dockerfile(layout, &svc.name);
        let stages = file.stages();
        assert!(stages.stages.len() >= 2, "{}: multi-stage", svc.name);
        let all: Vec<&Instruction> = file.instructions.iter().collect();
        let runtime = stages.stages.last().unwrap();

        // The registry URL of the build is the one in Cargo.lock.
        let build_env = env_vars(&all);
        assert_eq!(
            build_env["CARGO_REGISTRIES_LOCAL_INDEX"], index,
            "{}",
            svc.name
        );
        if lock_index {
            assert_eq!(
                history::pin(&layout.project(&svc.name)).unwrap().source,
                index,
                "{}",
                svc.name
            );
        }

        // No token anywhere: not as ARG, ENV, or a copied file.
        let text = &file.content;
        assert!(
            !text.contains("CARGO_REGISTRIES_LOCAL_TOKEN"),
            "{}",
            svc.name
        );
        for instruction in &all {
            if let Some(arg) = instruction.as_arg() {
                assert!(
                    !arg.name.content.to_uppercase().contains("TOKEN"),
                    "{}",
                    svc.name
                );
            }
            if let Some(copy) = instruction.as_copy() {
                for source in &copy.sources {
                    assert!(
                        !source.content.contains("token") && !source.content.contains("registry"),
                        "{}",
                        svc.name
                    );
                }
            }
        }
        assert!(
            build_env.keys().all(|k| !k.contains("TOKEN")),
            "{}",
            svc.name
        );

        // The build is offline from vendor/: --locked, --offline, the vendored
        // sources' config; the binary built is the service, by cargo
        // auditable (its dependency list embedded). No `# syntax=` line (it
        // pulls the frontend image).
        assert!(!text.starts_with("# syntax"), "{}", svc.name);
        let runs = run_lines(&all);
        assert!(
            !runs.iter().any(|r| r.contains("cargo build")),
            "{}: every build is `cargo auditable build`",
            svc.name
        );
        let builds: Vec<&String> = runs
            .iter()
            .filter(|r| r.contains("cargo auditable build"))
            .collect();
        assert!(!builds.is_empty(), "{}", svc.name);
        for flag in ["--locked", "--offline", "--config vendor/config.toml"] {
            assert!(
                builds.iter().all(|r| r.contains(flag)),
                "{}: {flag} missing in {builds:?}",
                svc.name
            );
        }
        assert!(
            runs.iter()
                .any(|r| r.contains(&format!("--bin {}", svc.name))),
            "{}",
            svc.name
        );

        // The image carries the service's SBOM.
        assert!(
            runtime.instructions.iter().any(|i| i.as_copy().is_some_and(
                |c| c.destination.content == format!("/usr/share/sbom/{}.cdx.json", svc.name)
            )),
            "{}: the runtime stage copies no SBOM",
            svc.name
        );

        // Runtime: non-root, healthcheck on /ready, the service's port.
        let users = misc(&runtime.instructions, "USER");
        let user = users
            .last()
            .unwrap_or_else(|| panic!("{}: the runtime stage sets no USER", svc.name));
        assert!(
            user != "root" && user != "0" && !user.starts_with("0:"),
            "{}: runs as {user}",
            svc.name
        );
        let health = misc(&runtime.instructions, "HEALTHCHECK").join(" ");
        assert!(
            health.contains(&format!("\"/usr/local/bin/{}\", \"healthcheck\"", svc.name)),
            "{}: {health}",
            svc.name
        );
        // Neither curl nor apt in the runtime image.
        for line in run_lines(&runtime.instructions) {
            assert!(
                !line.contains("apt-get") && !line.contains("curl"),
                "{}: {line}",
                svc.name
            );
        }
        assert_eq!(
            misc(&runtime.instructions, "EXPOSE"),
            [svc.port.to_string()],
            "{}",
            svc.name
        );
        let runtime_env = env_vars(&runtime.instructions);
        assert!(
            runtime_env
                .values()
                .any(|v| v.contains(&format!("PORT={}", svc.port)) || v == &svc.port.to_string()),
            "{}: {runtime_env:?}",
            svc.name
        );

        let ignore =
            std::fs::read_to_string(layout.project(&svc.name).join(".dockerignore")).unwrap();
        for pattern in ["target/", "*.token", ".env"] {
            assert!(
                ignore.lines().any(|l| l.trim() == pattern),
                "{}: .dockerignore lacks {pattern}",
                svc.name
            );
        }
        assert!(
            !ignore
                .lines()
                .any(|l| l.trim().trim_end_matches('/') == "vendor"),
            "{}: the build needs vendor/",
            svc.name
        );
        // A `**/` pattern reaches into vendor/ too: crates have source
        // directories named like build outputs (cc's src/target/), and a
        // vendored crate missing a file fails its checksum in the build.
        assert!(
            !ignore.lines().any(|l| l.trim().starts_with("**/")),
            "{}: a `**/` pattern in .dockerignore strips files out of vendor/",
            svc.name
        );
    }
}
