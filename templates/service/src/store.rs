//! The item store: the `items` table of this service's own database
//! (shared-lib's data layer: SQLite by default, PostgreSQL when
//! `DATABASE_URL` says so). An example: replace it with the service's own
//! tables, one migration per change.

use serde::{Deserialize, Serialize};
use shared_lib::db::{Database, DbError, Migration, Row, query};

/// This service's schema, in application order. Add a migration at the
/// end; never edit one that has shipped.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "items",
    sqlite: include_str!("../migrations/sqlite/0001_items.sql"),
    postgres: include_str!("../migrations/postgres/0001_items.sql"),
}];

/// One item, as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    /// Its id, from 1.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
}

/// The items, in the service's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ItemStore {
    db: Database,
}

impl ItemStore {
    /// The store on `db` (opened with [`MIGRATIONS`]).
    pub fn new(db: Database) -> ItemStore {
        ItemStore { db }
    }

    /// Adds an item with the next id; `name` is already valid. Answered
    /// once committed.
    pub async fn add(&self, name: String) -> Result<Item, DbError> {
        let created_at = shared_lib::wire::timestamp_now();
        let row = self
            .db
            .write_returning(
                query("INSERT INTO items (name, created_at) VALUES ($1, $2) RETURNING id")
                    .bind(&name)
                    .bind(&created_at),
            )
            .await?;
        Ok(Item {
            id: row.get("id")?,
            name,
            created_at,
        })
    }

    /// The item with `id`, if there is one.
    pub async fn get(&self, id: u64) -> Result<Option<Item>, DbError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        self.db
            .read_optional(query("SELECT id, name, created_at FROM items WHERE id = $1").bind(id))
            .await?
            .map(|r| item(&r))
            .transpose()
    }
}

fn item(row: &Row) -> Result<Item, DbError> {
    Ok(Item {
        id: row.get("id")?,
        name: row.get("name")?,
        created_at: row.get("created_at")?,
    })
}
