//! The private registry as a client sees it: its sparse index over HTTP,
//! with the token cargo itself would use. The tool never starts, installs
//! or configures a registry: when it does not answer, it says so.
//!
//! The token is cargo's: `CARGO_REGISTRIES_<NAME>_TOKEN`, else the
//! `[registries.<name>] token` that `cargo login --registry <name>` wrote
//! to `$CARGO_HOME/credentials.toml`. Every cargo the tool runs gets the
//! manifest's index URL in `CARGO_REGISTRIES_<NAME>_INDEX`, so the registry
//! `fleet.toml` names is the one cargo resolves from.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::error::usage;
use crate::manifest;

/// The registry of a fleet, with its token.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Its name in cargo's configuration.
    pub name: String,
    /// Its sparse index URL (`sparse+http://.../`).
    pub index: String,
    token: Option<String>,
}

impl Registry {
    /// The registry `fleet.toml` declares, with cargo's token for it; at
    /// the index in `CARGO_REGISTRIES_<NAME>_INDEX` when that is set, as
    /// cargo would resolve from it (a service's tests run by a tool that
    /// points cargo at another instance read the same one).
    pub fn from_manifest(declared: &manifest::Registry) -> Registry {
        let token = std::env::var(token_variable(&declared.name))
            .ok()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| credentials_token(&declared.name));
        let mut registry = Registry::with_token(declared, token);
        if let Ok(index) = std::env::var(index_variable(&declared.name))
            && !index.trim().is_empty()
        {
            registry.index = index.trim().to_string();
        }
        registry
    }

    /// The registry `declared` with `token` (the harness passes the one it
    /// generated).
    pub fn with_token(declared: &manifest::Registry, token: Option<String>) -> Registry {
        Registry {
            name: declared.name.clone(),
            index: declared.index.clone(),
            token: token.map(|t| t.trim().to_string()),
        }
    }

    /// The token the tool reads (and cargo gets) with, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The index over plain HTTP(S), ending in `/`.
    pub fn http_index(&self) -> &str {
        self.index.strip_prefix("sparse+").unwrap_or(&self.index)
    }

    /// Scheme, host and port, e.g. `http://127.0.0.1:8000`.
    pub fn origin(&self) -> String {
        let url = self.http_index();
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let end = url[after_scheme..]
            .find('/')
            .map_or(url.len(), |i| after_scheme + i);
        url[..end].to_string()
    }

    /// Points `cmd` (a cargo command) at this registry: its index and, when
    /// the tool has one, its token.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env(index_variable(&self.name), &self.index);
        if let Some(token) = &self.token {
            cmd.env(token_variable(&self.name), token);
        }
    }

    /// The sparse index file at `path` (`sh/ar/shared-lib`), or `None` when
    /// the registry has no such crate.
    pub fn index_file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let url = format!("{}{path}", self.http_index());
        let resp = self.get(&url)?;
        match resp.status().as_u16() {
            404 => Ok(None),
            401 | 403 => Err(usage(format!(
                "the registry {} at {} refused {} ({}); set {} to a token of that registry or run \
                 `cargo login --registry {}`",
                self.name,
                self.index,
                if self.token.is_some() {
                    "the token"
                } else {
                    "a read without a token"
                },
                resp.status(),
                token_variable(&self.name),
                self.name
            ))),
            _ if !resp.status().is_success() => {
                anyhow::bail!("{url} answered {}", resp.status())
            }
            _ => Ok(Some(
                resp.bytes()
                    .with_context(|| format!("reading {url}"))?
                    .to_vec(),
            )),
        }
    }
}

impl Registry {
    /// A GET of `url` with the token; an error saying how to start the
    /// registry when it does not answer.
    fn get(&self, url: &str) -> Result<reqwest::blocking::Response> {
        let mut request = crate::ops::http::client().get(url);
        if let Some(token) = &self.token {
            request = request.header("authorization", token);
        }
        request.send().map_err(|err| {
            anyhow::anyhow!(
                "the registry {} at {} does not answer ({}); start it (in the fleet's repository: \
                 `cargo xtask up`) or correct [registry] index in {}",
                self.name,
                self.index,
                root_cause(&err),
                manifest::FILE
            )
        })
    }

    /// The `.crate` file of `name` `version`, from the address the index's
    /// `config.json` gives (`dl`, with cargo's `{crate}`/`{version}`
    /// markers or without, as cargo reads it).
    pub fn download(&self, name: &str, version: &semver::Version) -> Result<Vec<u8>> {
        let config_url = format!("{}config.json", self.http_index());
        let config: serde_json::Value = self
            .get(&config_url)?
            .error_for_status()
            .with_context(|| format!("reading {config_url}"))?
            .json()
            .with_context(|| format!("{config_url} is not JSON"))?;
        let dl = config["dl"]
            .as_str()
            .with_context(|| format!("{config_url} has no dl address"))?;
        let url = if dl.contains('{') {
            dl.replace("{crate}", name)
                .replace("{version}", &version.to_string())
        } else {
            format!("{}/{name}/{version}/download", dl.trim_end_matches('/'))
        };
        let resp = self.get(&url)?;
        if !resp.status().is_success() {
            anyhow::bail!("{url} answered {}", resp.status());
        }
        Ok(resp.bytes()?.to_vec())
    }
}

fn root_cause(err: &dyn std::error::Error) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn env_name(registry: &str) -> String {
    registry.to_ascii_uppercase().replace('-', "_")
}

/// `CARGO_REGISTRIES_<NAME>_TOKEN`.
pub fn token_variable(registry: &str) -> String {
    format!("CARGO_REGISTRIES_{}_TOKEN", env_name(registry))
}

/// `CARGO_REGISTRIES_<NAME>_INDEX`.
pub fn index_variable(registry: &str) -> String {
    format!("CARGO_REGISTRIES_{}_INDEX", env_name(registry))
}

/// The token `cargo login --registry <name>` stored, if any.
fn credentials_token(registry: &str) -> Option<String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let text = std::fs::read_to_string(home.join("credentials.toml")).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    doc.get("registries")?
        .get(registry)?
        .get("token")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_variables_follow_cargo() {
        let registry = Registry::with_token(
            &manifest::Registry {
                name: "my-reg".into(),
                index: "sparse+http://127.0.0.1:8000/api/v1/crates/".into(),
            },
            None,
        );
        assert_eq!(registry.origin(), "http://127.0.0.1:8000");
        assert_eq!(
            registry.http_index(),
            "http://127.0.0.1:8000/api/v1/crates/"
        );
        assert_eq!(token_variable("my-reg"), "CARGO_REGISTRIES_MY_REG_TOKEN");
    }

    #[test]
    fn a_registry_that_does_not_answer_is_one_line_with_the_fix() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let registry = Registry::with_token(
            &manifest::Registry {
                name: "local".into(),
                index: format!("sparse+http://127.0.0.1:{port}/api/v1/crates/"),
            },
            None,
        );
        let err = registry.index_file("sh/ar/shared-lib").unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("does not answer") && text.contains("cargo xtask up"),
            "{text}"
        );
        assert_eq!(crate::error::Kind::of(&err), crate::error::Kind::Failure);
    }

    #[test]
    fn a_registry_that_refuses_the_token_is_named_with_the_fix() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).unwrap();
            conn.write_all(
                b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .unwrap();
        });
        let registry = Registry::with_token(
            &manifest::Registry {
                name: "local".into(),
                index: format!("sparse+http://127.0.0.1:{port}/api/v1/crates/"),
            },
            Some("wrong".into()),
        );
        let err = registry.index_file("sh/ar/shared-lib").unwrap_err();
        server.join().unwrap();
        let text = format!("{err:#}");
        assert!(text.contains("refused the token (401"), "{text}");
        assert!(text.contains("CARGO_REGISTRIES_LOCAL_TOKEN"), "{text}");
        assert_eq!(crate::error::Kind::of(&err), crate::error::Kind::Usage);
    }
}
