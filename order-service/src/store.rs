//! The order store: the `orders` and `order_lines` tables of this
//! service's own database (shared-lib's data layer: SQLite by default,
//! PostgreSQL when `DATABASE_URL` says so). An order and its lines are
//! written in one transaction: none is ever stored without its lines.

use shared_lib::db::sqlx::{self, Row, any::AnyRow};
use shared_lib::db::{Database, DbError, Migration};
use shared_lib::money::Cents;
use shared_lib::wire::{Order, OrderLine, Page};

/// This service's schema, in application order. Add a migration at the
/// end; never edit one that has shipped.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "orders",
    sqlite: include_str!("../migrations/sqlite/0001_orders.sql"),
    postgres: include_str!("../migrations/postgres/0001_orders.sql"),
}];

/// The orders, in the service's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OrderStore {
    db: Database,
}

impl OrderStore {
    /// The store on `db` (opened with [`MIGRATIONS`]).
    pub fn new(db: Database) -> OrderStore {
        OrderStore { db }
    }

    /// Stores `order` and its lines in one transaction under the next id
    /// (its own `id` is ignored) and returns it with that id.
    pub async fn add(&self, mut order: Order) -> Result<Order, DbError> {
        let mut tx = self.db.writer()?.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO orders (user_id, subtotal_cents, discount_percent, volume_bonus_percent, \
             discount_cents, total_cents, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(order.user_id as i64)
        .bind(order.subtotal_cents.get() as i64)
        .bind(i64::from(order.discount_percent))
        .bind(i64::from(order.volume_bonus_percent))
        .bind(order.discount_cents.get() as i64)
        .bind(order.total_cents.get() as i64)
        .bind(&order.created_at)
        .fetch_one(&mut *tx)
        .await?;
        for (line_no, line) in order.items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents, \
                 line_total_cents) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(line_no as i64)
            .bind(&line.sku)
            .bind(i64::from(line.quantity))
            .bind(line.unit_price_cents.get() as i64)
            .bind(line.line_total_cents.get() as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        order.id = id as u64;
        Ok(order)
    }

    /// The order with `id`, with its lines.
    pub async fn get(&self, id: u64) -> Result<Option<Order>, DbError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let pool = self.db.pool()?;
        let Some(row) = sqlx::query(
            "SELECT id, user_id, subtotal_cents, discount_percent, volume_bonus_percent, \
             discount_cents, total_cents, created_at FROM orders WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
        else {
            return Ok(None);
        };
        let mut order = order(&row)?;
        let lines = sqlx::query(
            "SELECT order_id, sku, quantity, unit_price_cents, line_total_cents \
             FROM order_lines WHERE order_id = $1 ORDER BY line_no",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        for row in &lines {
            order.items.push(line(row)?.1);
        }
        Ok(Some(order))
    }

    /// A page of orders in id order, only `user_id`'s when given, each
    /// with its lines.
    pub async fn page(
        &self,
        user_id: Option<u64>,
        offset: usize,
        limit: usize,
    ) -> Result<Page<Order>, DbError> {
        let pool = self.db.pool()?;
        // No user has an id beyond i64: their page is empty.
        let user = user_id.map(|u| i64::try_from(u).unwrap_or(-1));
        let offset_i = i64::try_from(offset).unwrap_or(i64::MAX);
        let (total, rows): (i64, Vec<AnyRow>) = match user {
            None => (
                sqlx::query_scalar("SELECT COUNT(*) FROM orders")
                    .fetch_one(pool)
                    .await?,
                sqlx::query(
                    "SELECT id, user_id, subtotal_cents, discount_percent, volume_bonus_percent, \
                     discount_cents, total_cents, created_at FROM orders \
                     ORDER BY id LIMIT $1 OFFSET $2",
                )
                .bind(limit as i64)
                .bind(offset_i)
                .fetch_all(pool)
                .await?,
            ),
            Some(user) => (
                sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE user_id = $1")
                    .bind(user)
                    .fetch_one(pool)
                    .await?,
                sqlx::query(
                    "SELECT id, user_id, subtotal_cents, discount_percent, volume_bonus_percent, \
                     discount_cents, total_cents, created_at FROM orders WHERE user_id = $1 \
                     ORDER BY id LIMIT $2 OFFSET $3",
                )
                .bind(user)
                .bind(limit as i64)
                .bind(offset_i)
                .fetch_all(pool)
                .await?,
            ),
        };
        let mut items = rows.iter().map(order).collect::<Result<Vec<_>, _>>()?;
        if let (Some(first), Some(last)) = (items.first(), items.last()) {
            // The page's lines only: for one user's page, not the lines of
            // other users' orders that fall between its first and last id.
            let sql = match user {
                None => {
                    "SELECT order_id, sku, quantity, unit_price_cents, line_total_cents \
                     FROM order_lines WHERE order_id BETWEEN $1 AND $2 \
                     ORDER BY order_id, line_no"
                }
                Some(_) => {
                    "SELECT l.order_id, l.sku, l.quantity, l.unit_price_cents, l.line_total_cents \
                     FROM order_lines l JOIN orders o ON o.id = l.order_id \
                     WHERE l.order_id BETWEEN $1 AND $2 AND o.user_id = $3 \
                     ORDER BY l.order_id, l.line_no"
                }
            };
            let mut query = sqlx::query(sql).bind(first.id as i64).bind(last.id as i64);
            if let Some(user) = user {
                query = query.bind(user);
            }
            let lines = query.fetch_all(pool).await?;
            let mut at = 0;
            for row in &lines {
                let (order_id, line) = line(row)?;
                while at < items.len() && items[at].id < order_id {
                    at += 1;
                }
                if let Some(order) = items.get_mut(at).filter(|o| o.id == order_id) {
                    order.items.push(line);
                }
            }
        }
        Ok(Page {
            items,
            offset,
            limit,
            total: total as usize,
        })
    }
}

fn cents(row: &AnyRow, column: &str) -> Result<Cents, DbError> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value)
        .ok()
        .and_then(|v| Cents::new(v).ok())
        .ok_or_else(|| {
            DbError::Other(sqlx::Error::Decode(
                format!("{column} = {value} is not an amount of cents").into(),
            ))
        })
}

fn small<T: TryFrom<i64>>(row: &AnyRow, column: &str) -> Result<T, DbError> {
    let value: i64 = row.try_get(column)?;
    T::try_from(value).map_err(|_| {
        DbError::Other(sqlx::Error::Decode(
            format!("{column} = {value} is out of range").into(),
        ))
    })
}

/// An order row, without its lines.
fn order(row: &AnyRow) -> Result<Order, DbError> {
    Ok(Order {
        id: small(row, "id")?,
        user_id: small(row, "user_id")?,
        items: Vec::new(),
        subtotal_cents: cents(row, "subtotal_cents")?,
        discount_percent: small(row, "discount_percent")?,
        volume_bonus_percent: small(row, "volume_bonus_percent")?,
        discount_cents: cents(row, "discount_cents")?,
        total_cents: cents(row, "total_cents")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A line row and the id of its order.
fn line(row: &AnyRow) -> Result<(u64, OrderLine), DbError> {
    Ok((
        small(row, "order_id")?,
        OrderLine {
            sku: row.try_get("sku")?,
            quantity: small(row, "quantity")?,
            unit_price_cents: cents(row, "unit_price_cents")?,
            line_total_cents: cents(row, "line_total_cents")?,
        },
    ))
}
