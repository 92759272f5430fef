//! What a registry holds: its sparse index files (fetched by
//! [`Registry::index_file`]) parsed with the crates-index crate.

use anyhow::{Context, Result};
use semver::Version;

use crate::ops::registry::Registry;

/// One published version of a crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The version.
    pub version: Version,
    /// Whether it was yanked.
    pub yanked: bool,
    /// SHA-256 of the `.crate` file, hex, as Cargo.lock records it.
    pub checksum: String,
}

/// The path of a crate's file in a sparse index (`sh/ar/shared-lib`).
pub fn index_path(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

/// Every version of `name` in `registry` (empty when it never was
/// published there), oldest first.
pub fn published(registry: &Registry, name: &str) -> Result<Vec<Published>> {
    let path = index_path(name);
    let Some(body) = registry.index_file(&path)? else {
        return Ok(Vec::new());
    };
    let url = format!("{}{path}", registry.http_index());
    let krate = crates_index::Crate::from_slice(&body)
        .with_context(|| format!("{url} is not a sparse index file"))?;
    let mut versions = krate
        .versions()
        .iter()
        .map(|v| {
            Ok(Published {
                version: Version::parse(v.version())
                    .with_context(|| format!("{url} lists a bad version {:?}", v.version()))?,
                yanked: v.is_yanked(),
                checksum: hex(v.checksum()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    versions.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(versions)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_paths_follow_cargos_layout() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Shared-Lib"), "sh/ar/shared-lib");
    }
}
