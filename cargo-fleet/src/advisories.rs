//! The team's own advisory database, in the RustSec format: a git
//! repository holding `crates/<crate>/<ID>.md`, each a fenced TOML block
//! (`[advisory]` with `id`, `package`, `date`, `source`; `[versions]` with
//! `patched` and `unaffected`) followed by a Markdown title and
//! description. cargo-deny reads the same files; this module reads them
//! for `status` and the release gate, and writes them for `advise`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use semver::{Version, VersionReq};
use serde::Serialize;

/// One advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advisory {
    /// `FLEET-2026-0001`.
    pub id: String,
    /// The crate it names.
    pub package: String,
    /// The day it was written, `2026-12-05`.
    pub date: String,
    /// The registry the crate comes from (its index URL, as Cargo.lock
    /// records it); `None` means crates.io, as in RustSec's database.
    pub source: Option<String>,
    /// Versions with the fix.
    pub patched: Vec<VersionReq>,
    /// Versions never affected.
    pub unaffected: Vec<VersionReq>,
    /// One line: what is wrong.
    pub title: String,
    /// What is wrong, and what to do.
    pub description: String,
    /// Whether it was withdrawn (then it affects nothing).
    pub withdrawn: bool,
}

impl Advisory {
    /// Whether `version` of `package` from the registry `source` is
    /// affected: the advisory names that crate from that registry, is not
    /// withdrawn, and the version is neither patched nor unaffected.
    pub fn affects(&self, package: &str, source: &str, version: &Version) -> bool {
        self.package == package
            && self
                .source
                .as_deref()
                .is_none_or(|s| same_source(s, source))
            && !self.withdrawn
            && !self
                .patched
                .iter()
                .chain(&self.unaffected)
                .any(|r| r.matches(version))
    }

    /// Where a service should move: the patched ranges, or "no fixed
    /// version yet".
    pub fn moves_to(&self) -> String {
        if self.patched.is_empty() {
            "no fixed version yet".into()
        } else {
            self.patched
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        }
    }

    /// The file's text, in the RustSec format.
    pub fn render(&self) -> String {
        let list = |reqs: &[VersionReq]| {
            reqs.iter()
                .map(|r| format!("{:?}", r.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut toml = format!(
            "[advisory]\nid = {:?}\npackage = {:?}\ndate = {:?}\n",
            self.id, self.package, self.date
        );
        if let Some(source) = &self.source {
            toml.push_str(&format!("source = {source:?}\n"));
        }
        toml.push_str("categories = []\nkeywords = []\n\n[versions]\n");
        toml.push_str(&format!("patched = [{}]\n", list(&self.patched)));
        toml.push_str(&format!("unaffected = [{}]\n", list(&self.unaffected)));
        format!(
            "```toml\n{toml}```\n\n# {}\n\n{}\n",
            self.title,
            self.description.trim()
        )
    }

    /// Parses a file in the RustSec format.
    pub fn parse(text: &str) -> Result<Advisory> {
        let start = text.find("```toml").context("no ```toml block")?;
        let rest = &text[start + "```toml".len()..];
        let end = rest
            .find("```")
            .context("the ```toml block is not closed")?;
        let doc: toml::Table = toml::from_str(&rest[..end]).context("its TOML block")?;
        let body = &rest[end + 3..];
        let advisory = doc
            .get("advisory")
            .and_then(|a| a.as_table())
            .context("no [advisory] table")?;
        let text_of = |key: &str| {
            advisory
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .with_context(|| format!("[advisory] has no {key}"))
        };
        let reqs = |key: &str| -> Result<Vec<VersionReq>> {
            doc.get("versions")
                .and_then(|v| v.get(key))
                .and_then(|v| v.as_array())
                .map(|list| {
                    list.iter()
                        .map(|r| {
                            let r = r.as_str().context("a version range is not a string")?;
                            VersionReq::parse(r).with_context(|| format!("bad range {r:?}"))
                        })
                        .collect()
                })
                .unwrap_or_else(|| Ok(Vec::new()))
        };
        let mut title = String::new();
        let mut description = String::new();
        for line in body.lines() {
            if title.is_empty() {
                if let Some(t) = line.strip_prefix("# ") {
                    title = t.trim().to_string();
                }
            } else {
                description.push_str(line);
                description.push('\n');
            }
        }
        Ok(Advisory {
            id: text_of("id")?,
            package: text_of("package")?,
            date: text_of("date")?,
            source: advisory
                .get("source")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            patched: reqs("patched")?,
            unaffected: reqs("unaffected")?,
            title,
            description: description.trim().to_string(),
            withdrawn: advisory.get("withdrawn").is_some(),
        })
    }
}

/// Two registry URLs name the same registry: equal once the `sparse+`
/// prefix and a trailing `/` are set aside.
/// Whether two registry sources name the same index (with or without the
/// `sparse+` or `registry+` prefix and the trailing `/`).
pub fn same_source(a: &str, b: &str) -> bool {
    let plain = |s: &str| {
        s.trim_start_matches("sparse+")
            .trim_start_matches("registry+")
            .trim_end_matches('/')
            .to_string()
    };
    plain(a) == plain(b)
}

/// Where the advisory `id` on `package` is kept in the database at `dir`.
pub fn file_of(dir: &Path, package: &str, id: &str) -> PathBuf {
    dir.join("crates").join(package).join(format!("{id}.md"))
}

/// Every advisory in the database at `dir` (none when it does not exist
/// yet), ordered by id.
pub fn load(dir: &Path) -> Result<Vec<Advisory>> {
    let crates = dir.join("crates");
    if !crates.is_dir() {
        return Ok(Vec::new());
    }
    let mut advisories = Vec::new();
    for krate in std::fs::read_dir(&crates)? {
        let krate = krate?.path();
        if !krate.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&krate)? {
            let file = file?.path();
            if file.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            advisories.push(
                Advisory::parse(&text)
                    .with_context(|| format!("{} is not a RustSec advisory", file.display()))?,
            );
        }
    }
    advisories.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(advisories)
}

/// The next id of `prefix` in `year`: one past the highest already used.
pub fn next_id(existing: &[Advisory], prefix: &str, year: i32) -> Result<String> {
    let head = format!("{prefix}-{year}-");
    let mut highest = 0u32;
    for a in existing {
        if let Some(n) = a.id.strip_prefix(&head) {
            let n: u32 = n
                .parse()
                .with_context(|| format!("advisory id {:?} does not end in a number", a.id))?;
            highest = highest.max(n);
        }
    }
    if highest >= 9999 {
        bail!("{head}9999 is taken: the year's ids are used up");
    }
    Ok(format!("{head}{:04}", highest + 1))
}

/// The advisories that affect `version` of `package` from `source`.
pub fn affecting<'a>(
    advisories: &'a [Advisory],
    package: &str,
    source: &str,
    version: &Version,
) -> Vec<&'a Advisory> {
    advisories
        .iter()
        .filter(|a| a.affects(package, source, version))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "sparse+http://127.0.0.1:8000/api/v1/crates/";

    fn advisory() -> Advisory {
        Advisory {
            id: "FLEET-2026-0001".into(),
            package: "shared-lib".into(),
            date: "2026-12-05".into(),
            source: Some(INDEX.into()),
            patched: vec![VersionReq::parse(">=0.3.6").unwrap()],
            unaffected: vec![VersionReq::parse("<0.3.5").unwrap()],
            title: "shared-lib 0.3.5: discounts rounded the wrong way".into(),
            description: "Orders over 10 items were undercharged.".into(),
            withdrawn: false,
        }
    }

    #[test]
    fn an_advisory_round_trips_and_names_only_its_versions_and_registry() {
        let a = advisory();
        let text = a.render();
        assert!(text.starts_with("```toml\n[advisory]\nid = \"FLEET-2026-0001\"\n"));
        assert!(text.contains("source = \"sparse+http://127.0.0.1:8000/api/v1/crates/\"\n"));
        assert!(text.contains("patched = [\">=0.3.6\"]\n"));
        assert_eq!(Advisory::parse(&text).unwrap(), a);
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(a.affects("shared-lib", INDEX, &v("0.3.5")));
        assert!(a.affects(
            "shared-lib",
            "sparse+http://127.0.0.1:8000/api/v1/crates",
            &v("0.3.5")
        ));
        assert!(!a.affects("shared-lib", INDEX, &v("0.3.6")));
        assert!(!a.affects("shared-lib", INDEX, &v("0.3.4")));
        assert!(!a.affects("other-lib", INDEX, &v("0.3.5")));
        // The same name from crates.io is another crate.
        assert!(!a.affects(
            "shared-lib",
            "registry+https://github.com/rust-lang/crates.io-index",
            &v("0.3.5")
        ));
        assert_eq!(a.moves_to(), ">=0.3.6");
    }

    #[test]
    fn ids_count_up_per_year_and_the_database_loads_from_its_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_empty());
        let mut a = advisory();
        let file = file_of(dir.path(), &a.package, &a.id);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, a.render()).unwrap();
        a.id = "FLEET-2026-0007".into();
        std::fs::write(file_of(dir.path(), &a.package, &a.id), a.render()).unwrap();
        let all = load(dir.path()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(next_id(&all, "FLEET", 2026).unwrap(), "FLEET-2026-0008");
        assert_eq!(next_id(&all, "FLEET", 2027).unwrap(), "FLEET-2027-0001");
        std::fs::write(file_of(dir.path(), "shared-lib", "BAD"), "no block").unwrap();
        let err = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(err.contains("BAD.md is not a RustSec advisory"), "{err}");
    }
}
