//! A steady load through the swarm stack's front proxy: two clients, each
//! creating a user and reading it back in a loop; what they saw, and a
//! check that every acknowledged user is there.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xtask::ops::procs::wait_until;

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// What a steady load saw: users it created (answered 201) and every
/// request that did not get the answer it should have.
#[derive(Default)]
pub struct Seen {
    pub created: Vec<u64>,
    pub ok: u64,
    pub failed: Vec<String>,
}

/// Two clients, each creating a user and reading it back in a loop,
/// through the proxy, until stopped.
pub struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    pub fn start(users: &str, tag: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let threads = (0..2)
            .map(|t| {
                let (stop, seen, users, tag) = (
                    stop.clone(),
                    seen.clone(),
                    users.to_string(),
                    tag.to_string(),
                );
                std::thread::spawn(move || {
                    let http = http();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let email = format!("{tag}-{t}-{n}@example.com");
                        let created = http
                            .post(format!("{users}/api/users"))
                            .json(&serde_json::json!({"name": "Load", "email": email}))
                            .send();
                        let id = match created {
                            Ok(r) if r.status() == 201 => r
                                .json::<serde_json::Value>()
                                .ok()
                                .and_then(|v| v["id"].as_u64()),
                            Ok(r) => {
                                seen.lock()
                                    .unwrap()
                                    .failed
                                    .push(format!("POST {email}: {}", r.status()));
                                None
                            }
                            Err(e) => {
                                seen.lock()
                                    .unwrap()
                                    .failed
                                    .push(format!("POST {email}: {e}"));
                                None
                            }
                        };
                        let Some(id) = id else { continue };
                        let read = http.get(format!("{users}/api/users/{id}")).send();
                        let mut s = seen.lock().unwrap();
                        s.created.push(id);
                        match read {
                            Ok(r) if r.status() == 200 => s.ok += 2,
                            Ok(r) => s.failed.push(format!("GET {id}: {}", r.status())),
                            Err(e) => s.failed.push(format!("GET {id}: {e}")),
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            seen,
            threads,
        }
    }

    /// Waits until the load has done at least `requests` more successful
    /// requests than it had.
    pub fn wait_for(&self, requests: u64) {
        let from = self.seen.lock().unwrap().ok;
        assert!(
            wait_until(Duration::from_secs(60), || self.seen.lock().unwrap().ok
                >= from + requests),
            "the load made no progress"
        );
    }

    pub fn finish(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        Arc::try_unwrap(self.seen)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

/// Every user the load was told was created is there.
pub fn all_present(users: &str, created: &[u64]) {
    let http = http();
    let missing: Vec<u64> = created
        .iter()
        .copied()
        .filter(|id| {
            !http
                .get(format!("{users}/api/users/{id}"))
                .send()
                .is_ok_and(|r| r.status() == 200)
        })
        .collect();
    assert!(missing.is_empty(), "acknowledged users lost: {missing:?}");
}
