//! The in-memory user store: a bounded table plus an index of emails.
//! Safe under concurrent requests: every operation takes the lock once, so
//! the uniqueness check and the insert cannot interleave.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use shared_lib::store::{StoreFull, Table};
use shared_lib::sync::{read, write};
use shared_lib::wire::{Page, User};

/// Why a user could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddError {
    /// Another user already has this email.
    EmailTaken,
    /// The store holds its maximum number of users.
    Full(StoreFull),
}

/// Users in memory, cheap to clone (all clones share the data).
#[derive(Debug, Clone)]
pub struct UserStore {
    /// The users and the set of their lower-cased emails, under one lock.
    inner: Arc<RwLock<Inner>>,
}

#[derive(Debug)]
struct Inner {
    /// Users by id.
    users: Table<User>,
    /// Lower-cased emails of all users, for the uniqueness check.
    emails: HashSet<String>,
}

impl UserStore {
    /// An empty store keeping at most `capacity` users.
    pub fn new(capacity: usize) -> UserStore {
        UserStore {
            inner: Arc::new(RwLock::new(Inner {
                users: Table::new(capacity),
                emails: HashSet::new(),
            })),
        }
    }

    /// Adds a user with the next id; `name` and `email` are already valid.
    pub fn add(&self, name: String, email: String) -> Result<User, AddError> {
        let key = email.to_lowercase();
        let mut inner = write(&self.inner);
        if inner.emails.contains(&key) {
            return Err(AddError::EmailTaken);
        }
        let user = inner
            .users
            .insert_with(|id| User {
                id,
                name,
                email,
                created_at: shared_lib::wire::timestamp_now(),
            })
            .map_err(AddError::Full)?
            .clone();
        inner.emails.insert(key);
        Ok(user)
    }

    /// `f` of the user with `id`, under the read lock: an answer is
    /// serialized straight from the store, without copying the user.
    pub fn with<R>(&self, id: u64, f: impl FnOnce(&User) -> R) -> Option<R> {
        let inner = read(&self.inner);
        inner.users.get(id).map(f)
    }

    /// A page of users in id order.
    pub fn page(&self, offset: usize, limit: usize) -> Page<User> {
        let inner = read(&self.inner);
        inner.users.page(offset, limit, |_| true)
    }
}
