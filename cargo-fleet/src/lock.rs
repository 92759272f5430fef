//! What a project's own files say about a shared crate: the requirement in
//! its `Cargo.toml`, the version in its `Cargo.lock` (cargo-lock), and the
//! version a crate's manifest declares. Read only: manifests and lockfiles
//! are changed through cargo itself (`cargo add`, `cargo update --precise`).

use std::path::Path;

use anyhow::{Context, Result};
use semver::{Version, VersionReq};

/// What one project's Cargo.lock says about a shared crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The locked version.
    pub version: Version,
    /// The locked checksum (hex), if the lockfile records one.
    pub checksum: Option<String>,
    /// The locked source, e.g. `sparse+http://127.0.0.1:8000/api/v1/crates/`
    /// (`path` for a path dependency).
    pub source: String,
}

/// The `krate` entry of the lockfile in `project_dir`.
pub fn pin(project_dir: &Path, krate: &str) -> Result<Pin> {
    let path = project_dir.join("Cargo.lock");
    let lock = cargo_lock::Lockfile::load(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let package = lock
        .packages
        .iter()
        .find(|p| p.name.as_str() == krate)
        .with_context(|| format!("{} has no {krate} entry", path.display()))?;
    Ok(Pin {
        version: Version::parse(&package.version.to_string())?,
        checksum: package.checksum.as_ref().map(ToString::to_string),
        source: package
            .source
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "path".to_string()),
    })
}

/// The requirement on `krate` in the manifest of `project_dir`, which
/// must name it from `registry` (see [`dependency`]).
pub fn requirement(project_dir: &Path, krate: &str, registry: &str) -> Result<VersionReq> {
    dependency(project_dir, krate, registry)?.with_context(|| {
        format!(
            "{} does not depend on {krate}",
            project_dir.join("Cargo.toml").display()
        )
    })
}

/// The requirement on `krate` in the manifest of `project_dir`, `None`
/// when it does not depend on it; an error when the manifest cannot be
/// read or the dependency has no valid version, and a problem (exit 1)
/// when the dependency or dev-dependency does not name `registry`: cargo
/// would then take a crate of that name from crates.io (dependency
/// confusion, cargo issues 9162 and 10656).
pub fn dependency(project_dir: &Path, krate: &str, registry: &str) -> Result<Option<VersionReq>> {
    let (path, manifest) = read_manifest(project_dir)?;
    for table in ["dev-dependencies", "dependencies"] {
        let Some(dep) = manifest.get(table).and_then(|d| d.get(krate)) else {
            continue;
        };
        let named = dep.get("registry").and_then(|r| r.as_str());
        if named != Some(registry) {
            let req = dep
                .as_str()
                .or_else(|| dep.get("version").and_then(|v| v.as_str()))
                .unwrap_or("X.Y");
            return Err(crate::error::problem(format!(
                "{}: [{table}] {krate} {}: cargo would take a crate of that name from {} (dependency confusion); write {krate} = {{ version = \"{req}\", registry = \"{registry}\" }}",
                path.display(),
                named.map_or_else(
                    || "names no registry".to_string(),
                    |n| format!("names registry {n:?}, not {registry:?}")
                ),
                named.map_or("crates.io", |_| "another registry"),
            )));
        }
    }
    let Some(dep) = manifest.get("dependencies").and_then(|d| d.get(krate)) else {
        return Ok(None);
    };
    let req = dep
        .get("version")
        .and_then(|v| v.as_str())
        .with_context(|| format!("{}: the {krate} dependency has no version", path.display()))?;
    VersionReq::parse(req)
        .map(Some)
        .with_context(|| format!("{}: bad requirement {req:?}", path.display()))
}

/// Whether the manifest of `project_dir` names `krate` under
/// `[dev-dependencies]` too (for its tests' features).
pub fn dev_dependency(project_dir: &Path, krate: &str) -> Result<bool> {
    let (_, manifest) = read_manifest(project_dir)?;
    Ok(manifest
        .get("dev-dependencies")
        .and_then(|d| d.get(krate))
        .is_some())
}

/// `package.name` in the manifest of `project_dir`.
pub fn package_name(project_dir: &Path) -> Result<String> {
    let (path, manifest) = read_manifest(project_dir)?;
    manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(String::from)
        .with_context(|| format!("{} has no package.name", path.display()))
}

/// The path and parsed text of the manifest of `project_dir`.
fn read_manifest(project_dir: &Path) -> Result<(std::path::PathBuf, toml::Table)> {
    let path = project_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let manifest =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    Ok((path, manifest))
}

/// `package.version` of a manifest's text.
pub fn manifest_version(manifest: &str) -> Result<Version> {
    let doc: toml::Table = toml::from_str(manifest).context("not valid TOML")?;
    let version = doc
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .context("no package.version")?;
    Version::parse(version).with_context(|| format!("bad version {version:?}"))
}

/// The version the crate in `dir` declares.
pub fn crate_version(dir: &Path) -> Result<Version> {
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    manifest_version(&text).with_context(|| manifest.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_dependency_is_none_and_a_broken_manifest_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join("Cargo.toml"), text).unwrap();
        write(
            "[package]\nname = \"s\"\n[dependencies]\nshared-lib = { version = \"0.4\", registry = \"local\" }\n",
        );
        assert_eq!(
            dependency(dir.path(), "shared-lib", "local")
                .unwrap()
                .unwrap()
                .to_string(),
            "^0.4"
        );
        assert!(dependency(dir.path(), "other", "local").unwrap().is_none());
        assert!(requirement(dir.path(), "other", "local").is_err());
        write("[package\n");
        assert!(dependency(dir.path(), "shared-lib", "local").is_err());
    }

    #[test]
    fn a_shared_crate_without_its_registry_is_a_problem_before_any_build() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join("Cargo.toml"), text).unwrap();
        for (deps, says) in [
            (
                "[dependencies]\nshared-lib = \"0.4\"\n",
                "[dependencies] shared-lib names no registry: cargo would take a crate of that name from crates.io (dependency confusion); write shared-lib = { version = \"0.4\", registry = \"local\" }",
            ),
            (
                "[dependencies]\nshared-lib = { version = \"0.4\", registry = \"local\" }\n[dev-dependencies]\nshared-lib = { version = \"0.4\", features = [\"testing\"] }\n",
                "[dev-dependencies] shared-lib names no registry",
            ),
            (
                "[dependencies]\nshared-lib = { version = \"0.4\", registry = \"other\" }\n",
                "names registry \"other\", not \"local\"",
            ),
        ] {
            write(&format!("[package]\nname = \"s\"\n{deps}"));
            let err = dependency(dir.path(), "shared-lib", "local").unwrap_err();
            assert_eq!(crate::error::Kind::of(&err), crate::error::Kind::Problem);
            let text = format!("{err:#}");
            assert!(text.contains(says), "{text}");
            assert!(!text.contains('\n'), "one line: {text}");
        }
    }

    #[test]
    fn manifest_versions_are_read_from_the_package_table() {
        let v = manifest_version("[package]\nname = \"x\"\nversion = \"0.2.1\"\n").unwrap();
        assert_eq!(v, Version::new(0, 2, 1));
        assert!(manifest_version("[package]\nname = \"x\"\n").is_err());
        assert!(manifest_version("not toml [").is_err());
    }
}
