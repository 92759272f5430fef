//! How far a release moves shared-lib's version.

use clap::ValueEnum;
use semver::Version;

/// How far a release moves the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// x.y.z -> x.y.(z+1): compatible for Cargo.
    Patch,
    /// x.y.z -> x.(y+1).0: compatible from 1.0 on, breaking for 0.x.
    Minor,
    /// x.y.z -> (x+1).0.0: breaking.
    Major,
}

impl Level {
    /// The name cargo-release and cargo-semver-checks use.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Patch => "patch",
            Level::Minor => "minor",
            Level::Major => "major",
        }
    }

    /// The version this level makes of `current`.
    pub fn next(self, current: &Version) -> Version {
        match self {
            Level::Patch => Version::new(current.major, current.minor, current.patch + 1),
            Level::Minor => Version::new(current.major, current.minor + 1, 0),
            Level::Major => Version::new(current.major + 1, 0, 0),
        }
    }
}
