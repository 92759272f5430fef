//! Generated secrets (tokens, passwords), kept in files readable by their
//! owner only, never in git or an image.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use rand::Rng;
use rand::distr::Alphanumeric;

/// `len` random letters and digits.
pub fn random_secret(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Writes a secret readable by its owner only; refuses to overwrite one.
pub fn write_secret(path: &Path, secret: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{secret}")?;
    Ok(())
}

/// A secret file's content, trimmed.
pub fn read_secret(path: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text.trim().to_string())
}

/// The secret in `path`, generated (`len` characters) when the file is missing.
pub fn ensure_secret(path: &Path, len: usize) -> Result<String> {
    if !path.exists() {
        write_secret(path, &random_secret(len))?;
    }
    read_secret(path)
}
