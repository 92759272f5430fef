//! Locks that keep serving after a panic.
//!
//! A handler that panics while holding a std lock poisons it; every later
//! request would then panic too. The services' stores only ever hold
//! complete values between operations, so the data behind a poisoned lock
//! is still consistent: these helpers take it anyway.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Read access to `lock`, poisoned or not.
pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

/// Write access to `lock`, poisoned or not.
pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

/// The guard of `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_panic_while_locked_does_not_stop_later_readers_and_writers() {
        let table = Arc::new(RwLock::new(vec![1]));
        let mutex = Arc::new(Mutex::new(0));
        let (t, m) = (table.clone(), mutex.clone());
        let _ = std::thread::spawn(move || {
            let _w = t.write();
            let _g = m.lock();
            panic!("poison both");
        })
        .join();
        assert!(table.is_poisoned() && mutex.is_poisoned());
        write(&table).push(2);
        assert_eq!(*read(&table), [1, 2]);
        *lock(&mutex) += 1;
        assert_eq!(*lock(&mutex), 1);
    }
}
