//! What Renovate proposes for a shared crate, read from the JSON report of a
//! `renovate --platform=local` run (`--report-type=file`):
//! `repositories.<repo>.packageFiles.cargo[]`, each with its `deps[]` and
//! their `updates[]`.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Renovate's view of shared-lib in one project (a service, or another
/// project that depends on it, such as the benchmark's anchor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    /// The project's directory, relative to the checkout.
    pub project: String,
    /// The requirement in its Cargo.toml, as Renovate read it.
    pub current: String,
    /// The version in its Cargo.lock.
    pub locked: Option<String>,
    /// Why Renovate skipped it (e.g. `unknown-registry`), if it did.
    pub skipped: Option<String>,
    /// What Renovate would propose, one branch each.
    pub updates: Vec<Update>,
}

/// One update Renovate would propose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    /// The version it moves to.
    pub version: String,
    /// `patch`, `minor` or `major` (for 0.x, `minor` is breaking).
    pub kind: String,
    /// The branch (and pull request) it would open.
    pub branch: String,
}

#[derive(Deserialize)]
struct Report {
    repositories: std::collections::BTreeMap<String, Repository>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Repository {
    #[serde(default)]
    package_files: std::collections::BTreeMap<String, Vec<PackageFile>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageFile {
    package_file: String,
    #[serde(default)]
    deps: Vec<Dep>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dep {
    dep_name: String,
    current_value: Option<String>,
    locked_version: Option<String>,
    skip_reason: Option<String>,
    #[serde(default)]
    updates: Vec<RawUpdate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawUpdate {
    new_version: Option<String>,
    update_type: Option<String>,
    branch_name: Option<String>,
}

/// Every project whose Cargo.toml depends on `krate`, once, with what
/// Renovate proposes for it, in the report's order; a project is named by its
/// directory in the repository Renovate ran on (`""` at its root).
pub fn proposals(report_json: &str, krate: &str) -> Result<Vec<Proposal>> {
    let report: Report =
        serde_json::from_str(report_json).context("Renovate's report is not the JSON it writes")?;
    let mut all = Vec::new();
    for repo in report.repositories.into_values() {
        for file in repo.package_files.get("cargo").into_iter().flatten() {
            // The first is its `[dependencies]` entry; a `[dev-dependencies]`
            // entry of the same crate (for its test helpers) moves with it.
            if let Some(dep) = file.deps.iter().find(|d| d.dep_name == krate) {
                let project = match file.package_file.as_str() {
                    "Cargo.toml" => String::new(),
                    other => other
                        .strip_suffix("/Cargo.toml")
                        .unwrap_or(other)
                        .to_string(),
                };
                all.push(Proposal {
                    project,
                    current: dep.current_value.clone().unwrap_or_default(),
                    locked: dep.locked_version.clone(),
                    skipped: dep.skip_reason.clone(),
                    updates: dep
                        .updates
                        .iter()
                        .map(|u| Update {
                            version: u.new_version.clone().unwrap_or_default(),
                            kind: u.update_type.clone().unwrap_or_default(),
                            branch: u.branch_name.clone().unwrap_or_default(),
                        })
                        .collect(),
                });
            }
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_lib_proposals_are_read_per_project_and_other_crates_ignored() {
        let report = r#"{"repositories": {"local": {"problems": [], "branches": [],
          "packageFiles": {
            "cargo": [
              {"packageFile": "orders-svc/Cargo.toml", "deps": [
                {"depName": "shared-lib", "currentValue": "0.3.1", "lockedVersion": "0.3.1",
                 "updates": [{"newVersion": "0.3.2", "updateType": "patch",
                              "branchName": "renovate/orders-svc-shared-lib-0.x-lockfile"}]},
                {"depName": "serde", "currentValue": "1", "skipReason": "disabled", "updates": []}
              ]},
              {"packageFile": "users-svc/Cargo.toml", "deps": [
                {"depName": "shared-lib", "currentValue": "0.3.2", "lockedVersion": "0.3.2", "updates": []},
                {"depName": "shared-lib", "depType": "dev-dependencies", "currentValue": "0.3.2",
                 "lockedVersion": "0.3.2", "updates": []}
              ]},
              {"packageFile": "xtask/Cargo.toml", "deps": []}
            ],
            "dockerfile": [{"packageFile": "orders-svc/Dockerfile", "deps": []}]
          }}}}"#;
        let all = proposals(report, "shared-lib").unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].project, "orders-svc");
        assert_eq!(all[0].updates[0].version, "0.3.2");
        assert_eq!(all[0].updates[0].kind, "patch");
        assert_eq!(all[1].project, "users-svc");
        assert!(all[1].updates.is_empty());
        assert!(proposals("<html>", "shared-lib").is_err());
    }
}
