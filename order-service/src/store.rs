//! The order store: the `orders` and `order_lines` tables of this
//! service's own database (shared-lib's data layer: SQLite by default,
//! PostgreSQL when `DATABASE_URL` says so). An order and its lines are
//! written in one transaction: none is ever stored without its lines.

use shared_lib::db::{Database, DbError, Migration, Row, query};
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
        let mut tx = self.db.begin().await?;
        let id: u64 = tx
            .write_returning(
                query(
                    "INSERT INTO orders (user_id, subtotal_cents, discount_percent, \
                     volume_bonus_percent, discount_cents, total_cents, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(id_param(order.user_id)?)
                .bind(order.subtotal_cents)
                .bind(order.discount_percent)
                .bind(order.volume_bonus_percent)
                .bind(order.discount_cents)
                .bind(order.total_cents)
                .bind(&order.created_at),
            )
            .await?
            .get("id")?;
        for (line_no, line) in order.items.iter().enumerate() {
            tx.write(
                query(
                    "INSERT INTO order_lines (order_id, line_no, sku, quantity, \
                     unit_price_cents, line_total_cents) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id_param(id)?)
                .bind(id_param(line_no as u64)?)
                .bind(&line.sku)
                .bind(line.quantity)
                .bind(line.unit_price_cents)
                .bind(line.line_total_cents),
            )
            .await?;
        }
        tx.commit().await?;
        order.id = id;
        Ok(order)
    }

    /// The order with `id`, with its lines.
    pub async fn get(&self, id: u64) -> Result<Option<Order>, DbError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let Some(row) = self
            .db
            .read_optional(
                query(
                    "SELECT id, user_id, subtotal_cents, discount_percent, volume_bonus_percent, \
                     discount_cents, total_cents, created_at FROM orders WHERE id = $1",
                )
                .bind(id),
            )
            .await?
        else {
            return Ok(None);
        };
        let mut order = order(&row)?;
        let lines = self
            .db
            .read_all(
                query(
                    "SELECT order_id, sku, quantity, unit_price_cents, line_total_cents \
                     FROM order_lines WHERE order_id = $1 ORDER BY line_no",
                )
                .bind(id),
            )
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
        // No user has an id beyond i64: their page is empty.
        let user = user_id.map(|u| i64::try_from(u).unwrap_or(-1));
        let offset_i = i64::try_from(offset).unwrap_or(i64::MAX);
        let limit_i = i64::try_from(limit).unwrap_or(i64::MAX);
        let (count, orders) = match user {
            None => (
                query("SELECT COUNT(*) AS n FROM orders"),
                query(
                    "SELECT id, user_id, subtotal_cents, discount_percent, volume_bonus_percent, \
                     discount_cents, total_cents, created_at FROM orders \
                     ORDER BY id LIMIT $1 OFFSET $2",
                )
                .bind(limit_i)
                .bind(offset_i),
            ),
            Some(user) => (
                query("SELECT COUNT(*) AS n FROM orders WHERE user_id = $1").bind(user),
                query(
                    "SELECT id, user_id, subtotal_cents, discount_percent, volume_bonus_percent, \
                     discount_cents, total_cents, created_at FROM orders WHERE user_id = $1 \
                     ORDER BY id LIMIT $2 OFFSET $3",
                )
                .bind(user)
                .bind(limit_i)
                .bind(offset_i),
            ),
        };
        let total: u64 = self.db.read_one(count).await?.get("n")?;
        let rows = self.db.read_all(orders).await?;
        let mut items = rows.iter().map(order).collect::<Result<Vec<_>, _>>()?;
        if let (Some(first), Some(last)) = (items.first(), items.last()) {
            // The page's lines only: for one user's page, not the lines of
            // other users' orders that fall between its first and last id.
            let (first, last) = (id_param(first.id)?, id_param(last.id)?);
            let lines = match user {
                None => query(
                    "SELECT order_id, sku, quantity, unit_price_cents, line_total_cents \
                     FROM order_lines WHERE order_id BETWEEN $1 AND $2 \
                     ORDER BY order_id, line_no",
                )
                .bind(first)
                .bind(last),
                Some(user) => query(
                    "SELECT l.order_id, l.sku, l.quantity, l.unit_price_cents, l.line_total_cents \
                     FROM order_lines l JOIN orders o ON o.id = l.order_id \
                     WHERE l.order_id BETWEEN $1 AND $2 AND o.user_id = $3 \
                     ORDER BY l.order_id, l.line_no",
                )
                .bind(first)
                .bind(last)
                .bind(user),
            };
            let lines = self.db.read_all(lines).await?;
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
            total: usize::try_from(total).unwrap_or(usize::MAX),
        })
    }
}

/// An id as a statement's parameter (the database's integers are signed).
fn id_param(id: u64) -> Result<i64, DbError> {
    i64::try_from(id).map_err(|_| DbError::Other(format!("id {id} is beyond the database's range")))
}

/// An order row, without its lines.
fn order(row: &Row) -> Result<Order, DbError> {
    Ok(Order {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        items: Vec::new(),
        subtotal_cents: row.get("subtotal_cents")?,
        discount_percent: row.get("discount_percent")?,
        volume_bonus_percent: row.get("volume_bonus_percent")?,
        discount_cents: row.get("discount_cents")?,
        total_cents: row.get("total_cents")?,
        created_at: row.get("created_at")?,
    })
}

/// A line row and the id of its order.
fn line(row: &Row) -> Result<(u64, OrderLine), DbError> {
    Ok((
        row.get("order_id")?,
        OrderLine {
            sku: row.get("sku")?,
            quantity: row.get("quantity")?,
            unit_price_cents: row.get("unit_price_cents")?,
            line_total_cents: row.get("line_total_cents")?,
        },
    ))
}
