//! The in-memory order store. Safe under concurrent requests: every
//! operation takes the lock once.

use std::sync::{Arc, RwLock};

use shared_lib::store::{StoreFull, Table};
use shared_lib::sync::{read, write};
use shared_lib::wire::{Order, Page};

/// Orders in memory, cheap to clone (all clones share the data).
#[derive(Debug, Clone)]
pub struct OrderStore {
    /// Orders by id.
    orders: Arc<RwLock<Table<Order>>>,
}

impl OrderStore {
    /// An empty store keeping at most `capacity` orders.
    pub fn new(capacity: usize) -> OrderStore {
        OrderStore {
            orders: Arc::new(RwLock::new(Table::new(capacity))),
        }
    }

    /// Stores `make(id)` under the next id and returns it.
    pub fn add(&self, make: impl FnOnce(u64) -> Order) -> Result<Order, StoreFull> {
        let mut orders = write(&self.orders);
        orders.insert_with(make).cloned()
    }

    /// The order with `id`.
    pub fn get(&self, id: u64) -> Option<Order> {
        let orders = read(&self.orders);
        orders.get(id).cloned()
    }

    /// A page of orders in id order, only `user_id`'s when given.
    pub fn page(&self, user_id: Option<u64>, offset: usize, limit: usize) -> Page<Order> {
        let orders = read(&self.orders);
        orders.page(offset, limit, |o| user_id.is_none_or(|u| o.user_id == u))
    }
}
