//! `cargo xtask k8s [--check]`: the fleet's Kubernetes manifests
//! ([`crate::k8s`]) written to `deploy/k8s/`, then each overlay rendered
//! with `kubectl kustomize` and validated offline against the Kubernetes
//! 1.32 schemas with `kubernetes-validate --strict` (PyPI, pinned,
//! installed into the tool cache when missing). `--check` writes nothing
//! and fails when the files differ from what `fleet.toml` gives.
//!
//! No cluster is involved: what is checked is that the manifests are what
//! the API server's schemas accept, not that a cluster runs them.

use anyhow::{Context, Result, bail};

use crate::k8s::{self, DIR, stale, write};
use crate::ops::run::{capture, program, transcript};
use crate::ops::tools::{KUBERNETES_VALIDATE, on_path};
use crate::paths::Layout;

/// The Kubernetes version the manifests are validated against.
pub const KUBERNETES_VERSION: &str = "1.32.0";

/// One overlay, rendered and validated.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The overlay's name.
    pub overlay: String,
    /// What `kubectl kustomize` printed: every resource, as applied.
    pub yaml: String,
    /// How many resources kubernetes-validate checked.
    pub resources: usize,
}

/// Renders each overlay of `deploy/k8s/` with `kubectl kustomize` and
/// validates it with `kubernetes-validate --strict` against
/// [`KUBERNETES_VERSION`]; an error naming the first overlay that does not
/// pass, with the validator's words.
pub fn validate(layout: &Layout) -> Result<Vec<Rendered>> {
    let kubectl = on_path("kubectl").context(
        "kubectl is not installed: it renders the Kustomize overlays (`kubectl kustomize`, no \
         cluster needed); install kubectl 1.32 (https://kubernetes.io/docs/tasks/tools/) and run \
         the command again",
    )?;
    KUBERNETES_VALIDATE.ensure()?;
    let out = tempfile::tempdir()?;
    let mut rendered = Vec::new();
    for overlay in k8s::overlays() {
        let dir = layout.root.join(DIR).join("overlays").join(overlay);
        let yaml = capture(program(&kubectl).arg("kustomize").arg(&dir))
            .with_context(|| format!("rendering the {overlay} overlay"))?;
        let file = out.path().join(format!("{overlay}.yaml"));
        std::fs::write(&file, &yaml)?;
        let (ok, said) = transcript(
            KUBERNETES_VALIDATE
                .command()?
                .args(["--kubernetes-version", KUBERNETES_VERSION, "--strict"])
                .arg(&file),
        )?;
        if !ok {
            bail!(
                "the {overlay} overlay does not validate against Kubernetes {KUBERNETES_VERSION}:\n{}",
                said.trim()
            );
        }
        rendered.push(Rendered {
            overlay: overlay.to_string(),
            resources: yaml.matches("\nkind: ").count() + usize::from(yaml.starts_with("kind: ")),
            yaml,
        });
    }
    Ok(rendered)
}

/// Runs `k8s`.
pub fn run(layout: &Layout, check: bool) -> Result<()> {
    if check {
        let stale = stale(layout)?;
        if !stale.is_empty() {
            bail!(
                "{DIR}/ is out of date with fleet.toml ({}); run `cargo xtask k8s` and commit the result",
                stale.join(", ")
            );
        }
        println!("{DIR}/ matches fleet.toml");
    } else {
        let changed = write(layout)?;
        println!("{DIR}/: {changed} file(s) written from fleet.toml");
    }
    for r in validate(layout)? {
        println!(
            "{DIR}/overlays/{}: {} resources, valid for Kubernetes {KUBERNETES_VERSION} (kubectl kustomize, kubernetes-validate --strict)",
            r.overlay, r.resources
        );
    }
    Ok(())
}
