//! One classification of database failures for every service.

use crate::error::{ApiError, codes};

/// A database failure, classified once for every service. It carries the
/// driver's message, never the driver's types: a driver upgrade is not a
/// change of shared-lib's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// A unique constraint refused the write: the service answers with its
    /// own 409.
    UniqueViolation(String),
    /// The database cannot answer now (down, unreachable, busy, out of
    /// connections, not migrated yet): 503, and worth retrying.
    Unavailable(String),
    /// Anything else: a bug or a schema mismatch (500, cause logged).
    Other(String),
}

impl DbError {
    /// Whether this is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::UniqueViolation(_))
    }

    /// Whether the database could not answer (a 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DbError::Unavailable(_))
    }

    /// A value read from a row that the service cannot use (out of its
    /// range, a wrong type): a bug or a schema mismatch.
    pub fn decode(column: &str, why: impl std::fmt::Display) -> DbError {
        DbError::Other(format!("column {column}: {why}"))
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::UniqueViolation(e) => write!(f, "unique violation: {e}"),
            DbError::Unavailable(why) => write!(f, "the database is unavailable: {why}"),
            DbError::Other(e) => write!(f, "database error: {e}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> DbError {
        if transient(&err) {
            return DbError::Unavailable(err.to_string());
        }
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                DbError::UniqueViolation(err.to_string())
            }
            _ => DbError::Other(err.to_string()),
        }
    }
}

impl From<DbError> for ApiError {
    /// Unavailable: 503 `database_unavailable`. A unique violation the
    /// service did not map itself: 409 `conflict`. Anything else: 500,
    /// with the cause in the log only.
    fn from(err: DbError) -> ApiError {
        match err {
            DbError::Unavailable(why) => {
                tracing::warn!(%why, "database unavailable");
                ApiError::unavailable(
                    codes::DATABASE_UNAVAILABLE,
                    "the database is unavailable; retry shortly",
                )
            }
            DbError::UniqueViolation(_) => {
                ApiError::conflict(codes::CONFLICT, "this clashes with existing data")
            }
            DbError::Other(e) => ApiError::internal(e),
        }
    }
}

impl From<DbError> for warp::Rejection {
    fn from(err: DbError) -> warp::Rejection {
        warp::reject::custom(ApiError::from(err))
    }
}

/// Whether `err` means "the database cannot answer now" rather than "this
/// statement is wrong": connection and pool failures, PostgreSQL's
/// connection exceptions (class 08), shutdowns (57P01-57P03), too many
/// connections (53300) and other resource shortages (class 53),
/// SQLite's busy, locked, I/O, full and cannot-open codes.
pub(super) fn transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.parse::<u32>() {
                // SQLite's extended result code; the primary code is its low byte.
                Ok(extended) if code.len() <= 5 && !code.starts_with('0') => {
                    matches!(extended & 0xff, 5 | 6 | 10 | 13 | 14)
                }
                _ => {
                    code.starts_with("08")
                        || code.starts_with("53")
                        || matches!(&*code, "57P01" | "57P02" | "57P03")
                }
            }
        }
        _ => false,
    }
}
