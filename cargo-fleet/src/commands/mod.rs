//! The subcommands, one module each; each is the only code that prints
//! for its command. They return errors carrying their
//! [`Kind`](crate::error::Kind); `main` turns one into a line on stderr and
//! the exit code.

pub mod advise;
pub mod audit;
pub mod bump;
pub mod check_consumers;
pub mod publish;
pub mod release;
pub mod renovate;
pub mod status;
