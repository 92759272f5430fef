//! The Kubernetes manifests in `deploy/k8s/`: what `fleet.toml` gives,
//! rendered by the real `kubectl kustomize`, valid for the Kubernetes 1.32
//! API (`kubernetes-validate --strict`, offline), and carrying for every
//! service of `fleet.toml` what the README promises. No cluster runs here.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml::Value;
use xtask::commands::k8s::validate;
use xtask::paths::Layout;

/// The rendered resources of one overlay, by (kind, name).
fn resources(yaml: &str) -> BTreeMap<(String, String), Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| {
            let value = Value::deserialize(doc).expect("rendered YAML parses");
            let kind = value["kind"].as_str().unwrap_or_default().to_string();
            let name = value["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            ((kind, name), value)
        })
        .collect()
}

#[test]
fn the_manifests_match_the_fleet_render_and_validate_for_kubernetes_1_32() {
    let layout = Layout::detect();
    let stale = xtask::k8s::stale(&layout).expect("compare deploy/k8s");
    assert!(
        stale.is_empty(),
        "deploy/k8s/ differs from fleet.toml ({stale:?}); run `cargo xtask k8s` and commit"
    );
    let fleet = layout.fleet().expect("fleet.toml");
    let rendered = validate(&layout).expect("every overlay renders and validates");
    assert_eq!(rendered.len(), xtask::k8s::overlays().len());
    for overlay in &rendered {
        let all = resources(&overlay.yaml);
        let namespace = all
            .keys()
            .find(|(kind, _)| kind == "Namespace")
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| panic!("{}: no Namespace", overlay.overlay));
        for service in &fleet.services {
            let name = &service.name;
            let key = |kind: &str| (kind.to_string(), name.clone());
            let deployment = all
                .get(&key("Deployment"))
                .unwrap_or_else(|| panic!("{}: no Deployment {name}", overlay.overlay));
            assert!(
                all.contains_key(&key("Service")),
                "{}: no Service {name}",
                overlay.overlay
            );
            let pdb = all
                .get(&key("PodDisruptionBudget"))
                .unwrap_or_else(|| panic!("{}: no PodDisruptionBudget {name}", overlay.overlay));
            assert_eq!(
                deployment["metadata"]["namespace"].as_str(),
                Some(namespace.as_str())
            );
            let replicas = deployment["spec"]["replicas"].as_u64().unwrap_or_default();
            let min_available = pdb["spec"]["minAvailable"].as_u64().unwrap_or_default();
            assert!(
                replicas >= 2 && min_available >= 1 && min_available < replicas,
                "{}: {name} runs {replicas} replicas with minAvailable {min_available}: a drain must be able to evict one, and one must stay",
                overlay.overlay
            );
            let pod = &deployment["spec"]["template"]["spec"];
            assert_eq!(pod["securityContext"]["runAsNonRoot"], Value::Bool(true));
            let container = &pod["containers"][0];
            assert_eq!(
                container["readinessProbe"]["httpGet"]["path"].as_str(),
                Some(service.ready.as_str()),
                "{name}: readiness on its ready path"
            );
            assert_eq!(
                container["livenessProbe"]["httpGet"]["path"].as_str(),
                Some("/health")
            );
            assert_eq!(
                container["securityContext"]["readOnlyRootFilesystem"],
                Value::Bool(true)
            );
            assert!(
                container["resources"]["requests"]["cpu"].is_string()
                    && container["resources"]["limits"]["memory"].is_string(),
                "{name}: requests and a memory limit"
            );
            let env = container["env"].as_sequence().expect("env");
            let database = env
                .iter()
                .find(|e| e["name"] == "DATABASE_URL")
                .unwrap_or_else(|| panic!("{name}: no DATABASE_URL"));
            assert_eq!(
                database["valueFrom"]["secretKeyRef"]["name"].as_str(),
                Some(format!("{name}-database").as_str()),
                "{name}: the database URL from its Secret"
            );
            for call in &service.calls {
                assert!(
                    env.iter()
                        .any(|e| e["name"].as_str() == Some(call.env.as_str())
                            && e["value"].as_str()
                                == Some(format!("http://{}", call.service).as_str())),
                    "{name}: {} points at the Service {}",
                    call.env,
                    call.service
                );
            }
        }
        assert!(
            !all.keys().any(|(kind, _)| kind == "Secret"),
            "{}: no Secret is generated into git",
            overlay.overlay
        );
    }
}

#[test]
fn the_validator_refuses_what_the_api_would() {
    // The check above means something only if kubernetes-validate rejects
    // a manifest the API server would: a string where the schema wants an
    // integer, and (with --strict) a field the API does not know.
    let validator = xtask::ops::tools::KUBERNETES_VALIDATE
        .ensure()
        .expect("kubernetes-validate installs");
    let dir = tempfile::tempdir().unwrap();
    for (what, manifest) in [
        (
            "a string replica count",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: \"two\"\n  selector:\n    matchLabels:\n      app: x\n  template:\n    metadata:\n      labels:\n        app: x\n    spec:\n      containers:\n        - name: x\n          image: x\n",
        ),
        (
            "an unknown field",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  selectr:\n    app: x\n  ports:\n    - port: 80\n",
        ),
    ] {
        let file = dir.path().join("bad.yaml");
        std::fs::write(&file, manifest).unwrap();
        let out = std::process::Command::new(&validator)
            .args(["--kubernetes-version", "1.32.0", "--strict"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "kubernetes-validate accepted {what}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
