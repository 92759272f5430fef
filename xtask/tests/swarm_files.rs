//! The swarm stack of `deploy/swarm/` is what `fleet.toml` gives, and says
//! what the README promises: every service replicated, resolved by DNS
//! (no IPVS here), rolled one replica at a time with the new one healthy
//! first, and only the proxy published, on every service's port. The live
//! run is `swarm_live.rs`.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use serde_yaml::Value;
use xtask::paths::Layout;
use xtask::swarm::{DIR, REPLICAS, render};

#[test]
fn the_stack_matches_the_fleet_and_publishes_only_the_proxy() {
    let layout = Layout::detect();
    let fleet = layout.fleet().unwrap();
    for (name, text) in render(&fleet).unwrap() {
        let path = layout.root.join(DIR).join(&name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            on_disk,
            text,
            "{} differs from fleet.toml; run `cargo xtask up --swarm` (it writes it) and commit",
            path.display()
        );
    }
    let stack: Value = serde_yaml::from_str(
        &std::fs::read_to_string(layout.root.join(DIR).join("stack.yml")).unwrap(),
    )
    .unwrap();
    let services = stack["services"].as_mapping().unwrap();
    for (name, service) in services {
        let name = name.as_str().unwrap();
        assert_eq!(
            service["deploy"]["endpoint_mode"].as_str(),
            Some("dnsrr"),
            "{name}: dnsrr (no IPVS)"
        );
        if name != "proxy" {
            assert!(
                service["ports"].is_null(),
                "{name} publishes a port; only the proxy may"
            );
        }
    }
    let haproxy = std::fs::read_to_string(layout.root.join(DIR).join("haproxy.cfg")).unwrap();
    let published: Vec<u64> = stack["services"]["proxy"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(
                p["mode"].as_str(),
                Some("host"),
                "host-mode ports (no routing mesh)"
            );
            p["published"].as_u64().unwrap()
        })
        .collect();
    for service in &fleet.services {
        let s = &stack["services"][service.name.as_str()];
        assert_eq!(
            s["deploy"]["replicas"].as_u64(),
            Some(u64::from(REPLICAS)),
            "{}",
            service.name
        );
        assert_eq!(
            s["deploy"]["update_config"]["parallelism"].as_u64(),
            Some(1)
        );
        assert_eq!(
            s["deploy"]["update_config"]["order"].as_str(),
            Some("start-first")
        );
        assert!(
            s["healthcheck"]["test"].is_sequence(),
            "{}: a healthcheck gates its rollout",
            service.name
        );
        assert!(
            published.contains(&u64::from(service.port)),
            "{}: its port on the proxy",
            service.name
        );
        assert!(
            haproxy.contains(&format!(
                "server-template replica 8 {}:{}",
                service.name, service.port
            )) && haproxy.contains(&format!("option httpchk GET {}", service.ready)),
            "{}: the proxy resolves its replicas and checks their ready path",
            service.name
        );
    }
}
