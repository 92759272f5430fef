//! The user store: the `users` table of this service's own database
//! (shared-lib's data layer: SQLite by default, PostgreSQL when
//! `DATABASE_URL` says so). Email uniqueness is the database's: a unique
//! key on the lower-cased email, so two sign-ups racing with the same
//! address cannot both succeed.

use shared_lib::db::{Database, DbError, Migration, Row, query};
use shared_lib::wire::{Page, User};

/// This service's schema, in application order. Add a migration at the
/// end; never edit one that has shipped.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "users",
    sqlite: include_str!("../migrations/sqlite/0001_users.sql"),
    postgres: include_str!("../migrations/postgres/0001_users.sql"),
}];

/// Why a user could not be added.
#[derive(Debug)]
pub enum AddError {
    /// Another user already has this email (compared case-insensitively).
    EmailTaken,
    /// The database failed.
    Db(DbError),
}

/// The users, in the service's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UserStore {
    db: Database,
}

impl UserStore {
    /// The store on `db` (opened with [`MIGRATIONS`]).
    pub fn new(db: Database) -> UserStore {
        UserStore { db }
    }

    /// Adds a user with the next id; `name` and `email` are already valid.
    pub async fn add(&self, name: String, email: String) -> Result<User, AddError> {
        let key = email.to_lowercase();
        let created_at = shared_lib::wire::timestamp_now();
        let row = self
            .db
            .write_returning(
                query(
                    "INSERT INTO users (name, email, email_key, created_at) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(&name)
                .bind(&email)
                .bind(key)
                .bind(&created_at),
            )
            .await
            .map_err(|e| match e {
                e if e.is_unique_violation() => AddError::EmailTaken,
                e => AddError::Db(e),
            })?;
        Ok(User {
            id: row.get("id").map_err(AddError::Db)?,
            name,
            email,
            created_at,
        })
    }

    /// The user with `id`, if there is one.
    pub async fn get(&self, id: u64) -> Result<Option<User>, DbError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        self.db
            .read_optional(
                query("SELECT id, name, email, created_at FROM users WHERE id = $1").bind(id),
            )
            .await?
            .map(|r| user(&r))
            .transpose()
    }

    /// A page of users in id order.
    pub async fn page(&self, offset: usize, limit: usize) -> Result<Page<User>, DbError> {
        let total: u64 = self
            .db
            .read_one(query("SELECT COUNT(*) AS n FROM users"))
            .await?
            .get("n")?;
        let rows = self
            .db
            .read_all(
                query(
                    "SELECT id, name, email, created_at FROM users ORDER BY id LIMIT $1 OFFSET $2",
                )
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .bind(i64::try_from(offset).unwrap_or(i64::MAX)),
            )
            .await?;
        Ok(Page {
            items: rows.iter().map(user).collect::<Result<_, _>>()?,
            offset,
            limit,
            total: usize::try_from(total).unwrap_or(usize::MAX),
        })
    }
}

fn user(row: &Row) -> Result<User, DbError> {
    Ok(User {
        id: row.get("id")?,
        name: row.get("name")?,
        email: row.get("email")?,
        created_at: row.get("created_at")?,
    })
}
