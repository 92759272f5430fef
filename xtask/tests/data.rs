//! The services' data, with the real binaries, on SQLite and on
//! PostgreSQL: nothing acknowledged is lost to SIGKILL and no order is
//! stored without its lines; `down` then `up` keeps everything and
//! `down --wipe` deletes it; two copies start together on one PostgreSQL;
//! a database stopped under load means 503s in the shared error body, then
//! recovery by itself. (A migration added after data exists is shared-lib's
//! `db` tests, on both backends.)

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    Backend, client, create_user, fresh_database, order_body, psql, restartable_port, start,
};
use nix::sys::signal::Signal;
use serde_json::{Value, json};
use xtask::fleet::{self, DataBackend, ServiceStart};
use xtask::ops::postgres::{self, Postgres};
use xtask::ops::procs::{free_port, wait_until};
use xtask::paths::Layout;

/// Writers POST to `url` until the server goes away; every 201 body is
/// kept. Anything but 201 or a refused connection fails the test.
fn writers(
    n: usize,
    url: String,
    body: impl Fn(usize, u64) -> Value + Send + Sync + 'static,
    acked: Arc<Mutex<Vec<Value>>>,
) -> Vec<std::thread::JoinHandle<()>> {
    let body = Arc::new(body);
    (0..n)
        .map(|w| {
            let (url, body, acked) = (url.clone(), body.clone(), acked.clone());
            std::thread::spawn(move || {
                let http = client();
                for i in 0.. {
                    match http.post(&url).json(&body(w, i)).send() {
                        Ok(resp) => {
                            assert_eq!(resp.status(), 201, "{url}");
                            acked.lock().unwrap().push(resp.json().unwrap());
                        }
                        // Killed: the connection is refused or cut.
                        Err(_) => return,
                    }
                }
            })
        })
        .collect()
}

fn acknowledged_writes_survive_sigkill(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let user_port = restartable_port();
    let user_env = fresh_database(backend, "user-service", tmp.path());
    let mut order_env = fresh_database(backend, "order-service", tmp.path());
    order_env.push(("USER_SERVICE_URL", format!("http://127.0.0.1:{user_port}")));
    let users = start("user-service", user_port, &user_env, tmp.path());
    // Taken once user-service holds its port, so the two differ.
    let order_port = restartable_port();
    let orders = start("order-service", order_port, &order_env, tmp.path());
    let http = client();
    let buyer = create_user(&http, &users.url, "buyer@example.com");

    let (acked_users, acked_orders) = (Arc::default(), Arc::default());
    let pid = std::process::id();
    let mut threads = writers(
        4,
        format!("{}/api/users", users.url),
        move |w, i| json!({"name": "K", "email": format!("k{pid}-{w}-{i}@example.com")}),
        Arc::clone(&acked_users),
    );
    threads.extend(writers(
        4,
        format!("{}/api/orders", orders.url),
        move |_, _| order_body(buyer),
        Arc::clone(&acked_orders),
    ));
    let count = |v: &Arc<Mutex<Vec<Value>>>| v.lock().unwrap().len();
    assert!(
        wait_until(Duration::from_secs(60), || count(&acked_users) >= 100
            && count(&acked_orders) >= 100),
        "writes flow"
    );
    // Both killed mid-flight, without a chance to flush anything.
    users.signal(Signal::SIGKILL);
    orders.signal(Signal::SIGKILL);
    drop((users, orders));
    for t in threads {
        t.join().expect("writers saw only 201s until the kill");
    }

    let users = start("user-service", user_port, &user_env, tmp.path());
    let orders = start("order-service", order_port, &order_env, tmp.path());
    let acked_users = acked_users.lock().unwrap();
    for user in acked_users.iter() {
        let back: Value = http
            .get(format!("{}/api/users/{}", users.url, user["id"]))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(&back, user, "an acknowledged user is there");
    }
    let acked_orders = acked_orders.lock().unwrap();
    for order in acked_orders.iter() {
        let back: Value = http
            .get(format!("{}/api/orders/{}", orders.url, order["id"]))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(
            &back, order,
            "an acknowledged order is there, with its lines"
        );
    }
    // Every stored order, acknowledged or cut off, has all its lines.
    let mut offset = 0;
    loop {
        let page: Value = http
            .get(format!(
                "{}/api/orders?offset={offset}&limit=100",
                orders.url
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let items = page["items"].as_array().unwrap();
        for order in items {
            assert_eq!(order["items"].as_array().unwrap().len(), 2, "{order}");
        }
        offset += items.len();
        if items.is_empty() {
            assert!(offset >= acked_orders.len());
            break;
        }
    }
    println!(
        "{backend:?}: {} users and {} orders acknowledged before SIGKILL, all there",
        acked_users.len(),
        acked_orders.len()
    );
}

#[test]
fn acknowledged_writes_survive_sigkill_on_sqlite() {
    acknowledged_writes_survive_sigkill(Backend::Sqlite);
}

#[test]
fn acknowledged_writes_survive_sigkill_on_postgres() {
    acknowledged_writes_survive_sigkill(Backend::Postgres);
}

/// A copy of the checkout's fleet in `root`: the same `fleet.toml` with
/// free ports, the real binaries (`FLEET_BIN_DIR`), state in `root/.fleet`.
fn fleet_copy(root: &Path) -> (Layout, xtask::manifest::Fleet) {
    let real = Layout::detect();
    let mut text = std::fs::read_to_string(real.root.join("fleet.toml")).unwrap();
    for service in &real.fleet().unwrap().services {
        text = text.replace(
            &format!("port = {}\n", service.port),
            &format!("port = {}\n", free_port().unwrap()),
        );
    }
    std::fs::write(root.join("fleet.toml"), text).unwrap();
    let bins = std::path::PathBuf::from(
        std::env::var_os("FLEET_BIN_DIR")
            .expect("FLEET_BIN_DIR is not set: run these tests through `cargo xtask test`"),
    );
    let layout = Layout::at(root.to_path_buf(), bins.parent().unwrap().to_path_buf());
    let fleet = layout.fleet().unwrap();
    (layout, fleet)
}

/// `up`'s way of starting every service, on `backend` (`pg` for PostgreSQL).
fn up(
    layout: &Layout,
    fleet: &xtask::manifest::Fleet,
    backend: DataBackend,
    pg: Option<&Postgres>,
) {
    for service in &fleet.services {
        let data = fleet::data_env(layout, service, backend, pg).unwrap();
        let started = fleet::start_service(layout, fleet, service, backend, data).unwrap();
        assert_eq!(started, ServiceStart::Started, "{}", service.name);
    }
}

fn down_then_up_keeps_the_data(backend: DataBackend) {
    let tmp = tempfile::tempdir().unwrap();
    let (layout, fleet) = fleet_copy(tmp.path());
    let pg = (backend == DataBackend::Postgres).then(ThrowawayServer::start);
    let pg_server = pg.as_ref().map(|p| &p.0);
    up(&layout, &fleet, backend, pg_server);
    let url = |name: &str| fleet::url(fleet.service(name).unwrap().port);
    let http = client();
    let user_id = create_user(&http, &url("user-service"), "kept@example.com");
    let placed: Value = http
        .post(format!("{}/api/orders", url("order-service")))
        .json(&order_body(user_id))
        .send()
        .unwrap()
        .json()
        .unwrap();

    let stopped = fleet::down(&layout).unwrap();
    assert_eq!(stopped.len(), fleet.services.len(), "{stopped:?}");
    up(&layout, &fleet, backend, pg_server);
    let user = http
        .get(format!("{}/api/users/{user_id}", url("user-service")))
        .send()
        .unwrap();
    assert_eq!(user.status(), 200, "the user survived down and up");
    let order: Value = http
        .get(format!(
            "{}/api/orders/{}",
            url("order-service"),
            placed["id"]
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(order, placed, "the order survived down and up");

    // `down --wipe`: the data is gone on the next `up`.
    fleet::down(&layout).unwrap();
    match pg_server {
        None => assert!(!fleet::wipe_data(&layout).unwrap().is_empty()),
        Some(pg) => {
            for service in &fleet.services {
                pg.drop_database(&service.name).unwrap();
            }
        }
    }
    up(&layout, &fleet, backend, pg_server);
    let user = http
        .get(format!("{}/api/users/{user_id}", url("user-service")))
        .send()
        .unwrap();
    assert_eq!(user.status(), 404, "wiped");
    fleet::down(&layout).unwrap();
}

#[test]
fn down_then_up_keeps_the_data_on_sqlite() {
    down_then_up_keeps_the_data(DataBackend::Sqlite);
}

#[test]
fn down_then_up_keeps_the_data_on_postgres() {
    down_then_up_keeps_the_data(DataBackend::Postgres);
}

/// A PostgreSQL server of the test's own (so it can be stopped), removed
/// when dropped.
struct ThrowawayServer(Postgres);

impl ThrowawayServer {
    fn start() -> ThrowawayServer {
        let name = format!("e2e-{}-{}", std::process::id(), rand::random::<u32>());
        let server = ThrowawayServer(
            Postgres::new(postgres::base_dir().join(name), free_port().unwrap()).scratch(),
        );
        server.0.ensure_running().unwrap();
        server
    }
}

impl Drop for ThrowawayServer {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

#[test]
fn two_copies_starting_at_once_on_one_postgres_both_come_up() {
    let tmp = tempfile::tempdir().unwrap();
    let env = fresh_database(Backend::Postgres, "user-service", tmp.path());
    let url = env[0].1.clone();
    let copies: Vec<_> = (0..2)
        .map(|_| {
            let (env, dir) = (env.clone(), tmp.path().to_path_buf());
            std::thread::spawn(move || start("user-service", free_port().unwrap(), &env, &dir))
        })
        .collect();
    let copies: Vec<_> = copies
        .into_iter()
        .map(|c| c.join().expect("both copies are ready"))
        .collect();
    assert_eq!(
        psql(
            &url,
            "SELECT version, success FROM _sqlx_migrations ORDER BY version"
        ),
        "1|t",
        "the migration applied once"
    );
    let http = client();
    let id = create_user(&http, &copies[0].url, "twice@example.com");
    let seen: Value = http
        .get(format!("{}/api/users/{id}", copies[1].url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        seen["email"], "twice@example.com",
        "one database behind both"
    );
}

#[test]
fn a_database_stopped_under_load_means_503s_then_recovery() {
    let tmp = tempfile::tempdir().unwrap();
    let server = ThrowawayServer::start();
    let url = server.0.ensure_database("user-service").unwrap();
    let users = start(
        "user-service",
        free_port().unwrap(),
        &[
            ("DATABASE_URL", url),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", "1000".into()),
        ],
        tmp.path(),
    );
    let (ok, unavailable, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (ok, unavailable, stop) = (ok.clone(), unavailable.clone(), stop.clone());
            let url = format!("{}/api/users", users.url);
            std::thread::spawn(move || {
                let http = client();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let resp = http
                        .post(&url)
                        .json(&json!({"name": "L", "email": format!("l{w}-{i}@example.com")}))
                        .send()
                        .expect("an answer, never a reset connection");
                    match resp.status().as_u16() {
                        201 => ok.fetch_add(1, Ordering::Relaxed),
                        503 => {
                            let body: Value = resp.json().expect("the shared error body");
                            assert_eq!(body["code"], "database_unavailable", "{body}");
                            unavailable.fetch_add(1, Ordering::Relaxed)
                        }
                        other => panic!("unexpected status {other}"),
                    };
                }
            })
        })
        .collect();
    assert!(wait_until(Duration::from_secs(30), || ok
        .load(Ordering::Relaxed)
        >= 20));
    server.0.stop().unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || unavailable
            .load(Ordering::Relaxed)
            >= 10),
        "503s while the database is down"
    );
    let http = client();
    let ready = http.get(format!("{}/ready", users.url)).send().unwrap();
    assert_eq!(ready.status(), 503, "not ready while the database is down");
    server.0.ensure_running().unwrap();
    let before = ok.load(Ordering::Relaxed);
    assert!(
        wait_until(Duration::from_secs(30), || ok.load(Ordering::Relaxed)
            >= before + 20),
        "writes succeed again by themselves"
    );
    assert_eq!(
        http.get(format!("{}/ready", users.url))
            .send()
            .unwrap()
            .status(),
        200
    );
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("only 201s and 503s with the shared body");
    }
}

#[test]
fn a_sqlite_database_locked_by_another_writer_means_503s_then_recovery() {
    let tmp = tempfile::tempdir().unwrap();
    let users = start("user-service", free_port().unwrap(), &[], tmp.path());
    let http = client();
    create_user(&http, &users.url, "first@example.com");
    // Another program holds SQLite's write lock (an exclusive transaction)
    // until its stdin closes; it says "locked" once it holds it.
    let file = tmp.path().join("user-service-data/user-service.db");
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             sys.stdin.read()\n\
             c.execute('ROLLBACK')",
        ])
        .arg(&file)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    // Writes wait out the busy timeout, then answer 503 with the shared body.
    let resp = http
        .post(format!("{}/api/users", users.url))
        .json(&json!({"name": "B", "email": "busy@example.com"}))
        .send()
        .expect("an answer, never a reset connection");
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().unwrap();
    assert_eq!(body["code"], "database_unavailable", "{body}");
    // The lock released, the same write goes through by itself.
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    let resp = http
        .post(format!("{}/api/users", users.url))
        .json(&json!({"name": "B", "email": "busy@example.com"}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
}
