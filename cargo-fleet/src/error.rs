//! What kind of failure an error is, carried inside the error and turned
//! into an exit code by `main` only:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the check found a problem: a consumer breaks, a service pins a yanked version, the guard refuses |
//! | 2 | usage or configuration: a bad flag, a bad or missing `fleet.toml` key |
//! | 3 | the tool could not do its work: the registry does not answer, git or cargo failed |
//!
//! Errors are `anyhow` errors; a [`Kind`] is attached with [`problem`] or
//! [`usage`] at the place that knows, and anything else is a failure to
//! do the work ([`Kind::Failure`]).

use std::fmt;

/// What kind of failure an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The check found a problem (exit 1).
    Problem,
    /// Usage or configuration (exit 2).
    Usage,
    /// The tool could not do its work (exit 3).
    Failure,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Problem => 1,
            Kind::Usage => 2,
            Kind::Failure => 3,
        }
    }

    /// The kind of `err`: the outermost [`Kind`] attached in its chain, else
    /// [`Kind::Failure`].
    pub fn of(err: &anyhow::Error) -> Kind {
        err.chain()
            .find_map(|e| e.downcast_ref::<Classified>())
            .map_or(Kind::Failure, |c| c.kind)
    }
}

/// A message with its [`Kind`].
#[derive(Debug)]
pub struct Classified {
    kind: Kind,
    message: String,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

/// An error meaning "the check found a problem" (exit 1).
pub fn problem(message: impl Into<String>) -> anyhow::Error {
    Classified {
        kind: Kind::Problem,
        message: message.into(),
    }
    .into()
}

/// An error meaning "bad usage or configuration" (exit 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Classified {
        kind: Kind::Usage,
        message: message.into(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_kind_survives_context_and_defaults_to_failure() {
        let err = Err::<(), _>(usage("bad key"))
            .context("reading fleet.toml")
            .unwrap_err();
        assert_eq!(Kind::of(&err), Kind::Usage);
        assert_eq!(format!("{err:#}"), "reading fleet.toml: bad key");
        assert_eq!(Kind::of(&anyhow::anyhow!("git failed")), Kind::Failure);
        assert_eq!(Kind::of(&problem("breaks")).code(), 1);
    }
}
