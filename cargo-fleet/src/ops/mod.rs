//! Every process and HTTP call of the tool, behind one small layer, with
//! the tree walks and copies. Elsewhere a `Command` comes from here
//! ([`cargo::cargo_in`], [`run::program`]), gets its arguments, and is run
//! by [`run`].
//!
//! - [`cargo`]: cargo into a chosen build cache; a cache seeded from another.
//! - [`fs`]: walking and copying directory trees.
//! - [`git`]: `git -C <root>`; the checkouts of projects in repositories
//!   of their own.
//! - [`http`]: the blocking HTTP client.
//! - [`registry`]: the registry's sparse index, read with cargo's token.
//! - [`run`]: running a command with errors that name it.

pub mod cargo;
pub mod fs;
pub mod git;
pub mod http;
pub mod registry;
pub mod run;
