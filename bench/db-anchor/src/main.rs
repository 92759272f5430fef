//! `db-anchor SERVICE CONCURRENCY SECONDS SQL [BIND...]`: runs `SQL` with
//! its binds against SERVICE's database (found as the service finds it:
//! `DATABASE_URL`, else `DATA_DIR`) from CONCURRENCY tasks for SECONDS,
//! through shared-lib's data layer (the driver, pool size and connection
//! settings the services use), and prints `{"ops": N, "seconds": S,
//! "ops_per_sec": R}`. A bind that parses as an integer is bound as one
//! (`i64`), anything else as text, `{unique}` replaced by a value no other
//! execution uses. A `SELECT` goes through the read pool, anything else
//! through the writer (on SQLite, committed in groups), as in the services. `cargo xtask bench` runs it
//! beside each HTTP run that names a `driver` query, for the ratio "HTTP
//! service / its database".

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shared_lib::config::process_env;
use shared_lib::db::{Database, DbConfig, query};

fn usage() -> ExitCode {
    eprintln!("usage: db-anchor SERVICE CONCURRENCY SECONDS SQL [BIND...]");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [service, concurrency, seconds, sql, binds @ ..] = args.as_slice() else {
        return usage();
    };
    let (Ok(concurrency), Ok(seconds)) = (concurrency.parse::<u64>(), seconds.parse::<u64>())
    else {
        return usage();
    };
    let config = match DbConfig::from_lookup(&process_env, service) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("db-anchor: {err}");
            return ExitCode::from(2);
        }
    };
    // No migrations: the service made the schema.
    let db = match Database::open(&config, &[]) {
        Ok(db) => db,
        Err(err) => {
            eprintln!("db-anchor: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = db.migrated().await {
        eprintln!("db-anchor: {err}");
        return ExitCode::FAILURE;
    }
    let is_read = sql.trim_start().to_ascii_uppercase().starts_with("SELECT");
    // shared-lib takes SQL as `&'static str` (values go in as parameters,
    // never into the text): this one query lives as long as the program.
    let sql: &'static str = Box::leak(sql.clone().into_boxed_str());
    let binds: Arc<[String]> = binds.into();
    let (ops, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let (db, binds, ops, stop) = (db.clone(), binds.clone(), ops.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let mut q = query(sql);
                    for bind in binds.iter() {
                        q = match bind.parse::<i64>() {
                            Ok(i) => q.bind(i),
                            Err(_) => q.bind(bind.replace("{unique}", &format!("a{task}-{n}"))),
                        };
                    }
                    // Reads through the read pool, anything else through the
                    // writer, as the services do.
                    if is_read {
                        db.read_all(q).await.map_err(|e| e.to_string())?;
                    } else {
                        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
                        tx.read_all(q).await.map_err(|e| e.to_string())?;
                        tx.commit().await.map_err(|e| e.to_string())?;
                    }
                    ops.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let done = ops.load(Ordering::Relaxed);
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                eprintln!("db-anchor: {err}");
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("db-anchor: a task failed: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    db.close().await;
    println!(
        "{}",
        serde_json::json!({"ops": done, "seconds": elapsed, "ops_per_sec": done as f64 / elapsed})
    );
    ExitCode::SUCCESS
}
