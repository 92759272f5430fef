//! A bounded in-memory table with sequential ids, the storage both services
//! keep behind their own small store interface.
//!
//! Ids start at 1 and never repeat. The table holds at most `capacity` rows:
//! once full, inserts fail with [`StoreFull`] instead of growing without
//! bound on a small machine. It is not synchronised: wrap it in a lock.
//!
//! ```
//! use shared_lib::store::Table;
//! let mut t = Table::new(2);
//! assert_eq!(t.insert_with(|id| format!("row {id}")).unwrap(), "row 1");
//! assert_eq!(t.get(1).map(String::as_str), Some("row 1"));
//! t.insert_with(|id| format!("row {id}")).unwrap();
//! assert!(t.insert_with(|id| format!("row {id}")).is_err());
//! ```

use crate::error::ApiError;
use crate::wire::Page;

/// Rows addressed by id (1, 2, 3, ...).
#[derive(Debug, Clone)]
pub struct Table<T> {
    /// Row `id` lives at index `id - 1`.
    rows: Vec<T>,
    /// The most rows the table accepts.
    capacity: usize,
}

/// The table already holds its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreFull {
    /// The capacity that was reached.
    pub capacity: usize,
}

impl std::fmt::Display for StoreFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the store is full ({} rows)", self.capacity)
    }
}

impl std::error::Error for StoreFull {}

impl From<StoreFull> for ApiError {
    /// A full store is a 503 with code `store_full`: the service still
    /// answers reads, it cannot take more writes until restarted.
    fn from(full: StoreFull) -> ApiError {
        ApiError::unavailable(crate::error::codes::STORE_FULL, full.to_string())
    }
}

impl<T: Clone> Table<T> {
    /// An empty table accepting at most `capacity` rows.
    pub fn new(capacity: usize) -> Table<T> {
        Table {
            rows: Vec::new(),
            capacity,
        }
    }

    /// Adds the row `make(id)` under the next id and returns it.
    pub fn insert_with(&mut self, make: impl FnOnce(u64) -> T) -> Result<&T, StoreFull> {
        if self.rows.len() >= self.capacity {
            return Err(StoreFull {
                capacity: self.capacity,
            });
        }
        let id = self.rows.len() as u64 + 1;
        self.rows.push(make(id));
        Ok(&self.rows[self.rows.len() - 1])
    }

    /// The row with `id`.
    pub fn get(&self, id: u64) -> Option<&T> {
        let index = usize::try_from(id.checked_sub(1)?).ok()?;
        self.rows.get(index)
    }

    /// All rows in id order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.rows.iter()
    }

    /// How many rows the table holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table holds no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The page `offset..offset+limit` of the rows that `keep` accepts, in id order.
    pub fn page(&self, offset: usize, limit: usize, keep: impl Fn(&T) -> bool) -> Page<T> {
        let mut total = 0;
        let mut items = Vec::new();
        for row in self.rows.iter().filter(|r| keep(r)) {
            if total >= offset && items.len() < limit {
                items.push(row.clone());
            }
            total += 1;
        }
        Page {
            items,
            offset,
            limit,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sequential_from_one_and_unknown_ids_are_none() {
        let mut t = Table::new(10);
        for _ in 0..3 {
            t.insert_with(|id| id).unwrap();
        }
        assert_eq!(t.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(t.get(0), None);
        assert_eq!(t.get(4), None);
        assert_eq!(t.get(u64::MAX), None);
    }

    #[test]
    fn a_full_table_refuses_inserts_and_maps_to_503() {
        let mut t = Table::new(1);
        t.insert_with(|id| id).unwrap();
        let full = t.insert_with(|id| id).unwrap_err();
        assert_eq!(full, StoreFull { capacity: 1 });
        assert_eq!(t.len(), 1);
        let api = ApiError::from(full);
        assert_eq!((api.status().as_u16(), api.code()), (503, "store_full"));
    }

    #[test]
    fn pages_filter_then_slice_and_count_everything_kept() {
        let mut t = Table::new(100);
        for _ in 0..10 {
            t.insert_with(|id| id).unwrap();
        }
        let even = t.page(1, 2, |n| n % 2 == 0);
        assert_eq!(even.items, [4, 6]);
        assert_eq!(even.total, 5);
        let past_end = t.page(50, 10, |_| true);
        assert!(past_end.items.is_empty());
        assert_eq!(past_end.total, 10);
    }
}
