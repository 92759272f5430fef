//! The API contract of every service of `fleet.toml`, checked from outside
//! with schemathesis (PyPI, pinned, installed by `cargo xtask test`)
//! against the real binaries, each from the OpenAPI document it serves on
//! `GET /openapi.json`:
//!
//! - healthy (its database and the services it calls up): no 5xx, every
//!   answer (status, content type, headers, body) as the document says,
//!   schema-violating input refused with a 4xx, and every method the
//!   document does not list answered 405 with a matching `Allow` header;
//! - degraded (its database and every service it calls unreachable): the
//!   same, except that the documented 503s are now the point;
//! - every status the document lists for an operation was answered at
//!   least once, by those runs or by the body probes below (411, 413 and
//!   415 are hard for a fuzzer to provoke).
//!
//! One check is left out on purpose: `positive_data_acceptance`. The
//! document's JSON Schema carries types, lengths and ranges; the finer
//! rules (names trimmed and free of control characters, the shape of an
//! email address) answer 422, which the document lists for those
//! operations.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use common::{Running, client, start, start_waiting};
use serde_json::Value;
use xtask::ops::procs::free_port;
use xtask::ops::tools::SCHEMATHESIS;
use xtask::paths::Layout;

/// A documented operation: method (upper case) and path template.
type Operation = (String, String);

#[test]
fn every_service_keeps_the_contract_its_document_states() {
    let st = SCHEMATHESIS.path();
    assert!(
        st.is_file(),
        "{} is missing: run the tests through `cargo xtask test`, which installs schemathesis {}",
        st.display(),
        SCHEMATHESIS.version
    );
    let fleet = Layout::detect().fleet().expect("fleet.toml");
    let tmp = tempfile::tempdir().unwrap();
    let http = client();

    // The healthy fleet, in dependency order.
    let mut healthy: BTreeMap<String, Running> = BTreeMap::new();
    for service in &fleet.services {
        let env: Vec<(&str, String)> = service
            .calls
            .iter()
            .map(|c| (c.env.as_str(), healthy[&c.service].url.clone()))
            .collect();
        let running = start(&service.name, free_port().unwrap(), &env, tmp.path());
        healthy.insert(service.name.clone(), running);
    }

    // Nothing listens here: the degraded copies' database and callees.
    let nowhere = free_port().unwrap();
    let mut problems = Vec::new();
    for service in &fleet.services {
        let name = &service.name;
        let url = &healthy[name].url;
        let doc: Value = http
            .get(format!("{url}/openapi.json"))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{name}: GET /openapi.json: {e}"));
        assert_eq!(
            doc["info"]["title"],
            name.as_str(),
            "{name}: the document's title"
        );
        let documented = documented_statuses(&doc);
        let templates: Vec<String> = documented.keys().map(|(_, path)| path.clone()).collect();
        let mut seen: BTreeMap<Operation, BTreeSet<u16>> = BTreeMap::new();
        seen.entry(("GET".into(), "/openapi.json".into()))
            .or_default()
            .insert(200);

        let dir = tmp.path().join(format!("{name}-healthy"));
        match schemathesis(&st, url, &dir, &["positive_data_acceptance"]) {
            Ok(har) => merge(&mut seen, statuses_in(&har, url, &templates)),
            Err(why) => problems.push(format!("{name} (healthy): {why}")),
        }

        let mut env: Vec<(&str, String)> = vec![(
            "DATABASE_URL",
            format!("postgres://nobody@127.0.0.1:{nowhere}/nothing"),
        )];
        env.extend(
            service
                .calls
                .iter()
                .map(|c| (c.env.as_str(), format!("http://127.0.0.1:{nowhere}"))),
        );
        let degraded = start_waiting(name, free_port().unwrap(), &env, tmp.path(), "/health");
        let dir = tmp.path().join(format!("{name}-degraded"));
        // Its 503s are what this run is for.
        match schemathesis(
            &st,
            &degraded.url,
            &dir,
            &["positive_data_acceptance", "not_a_server_error"],
        ) {
            Ok(har) => merge(&mut seen, statuses_in(&har, &degraded.url, &templates)),
            Err(why) => problems.push(format!("{name} (degraded): {why}")),
        }
        drop(degraded);

        for ((method, path), statuses) in &documented {
            if method == "POST" {
                match body_probes(url, path) {
                    Ok(found) => merge(&mut seen, [((method.clone(), path.clone()), found)]),
                    Err(why) => problems.push(format!("{name}: POST {path}: {why}")),
                }
            }
            let answered = seen
                .get(&(method.clone(), path.clone()))
                .cloned()
                .unwrap_or_default();
            let missing: Vec<u16> = statuses.difference(&answered).copied().collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "{name}: {method} {path} documents {missing:?} but no request got them (answered: {answered:?})"
                ));
            }
        }
        println!("{name}: every documented status answered: {documented:?}");
    }
    assert!(
        problems.is_empty(),
        "contract broken:\n{}",
        problems.join("\n")
    );
}

/// Every operation of the document with the statuses it lists.
fn documented_statuses(doc: &Value) -> BTreeMap<Operation, BTreeSet<u16>> {
    let mut all = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let statuses = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|s| s.parse().expect("a numeric status"))
                .collect();
            all.insert((method.to_uppercase(), path.clone()), statuses);
        }
    }
    all
}

/// Runs schemathesis against `url`'s own document with every check but
/// `excluded`; the HAR file of its requests when it found nothing.
fn schemathesis(st: &Path, url: &str, dir: &Path, excluded: &[&str]) -> Result<Value, String> {
    std::fs::create_dir_all(dir).unwrap();
    let har = dir.join("requests.har");
    let out = Command::new(st)
        .arg("run")
        .arg(format!("{url}/openapi.json"))
        .args(["--checks", "all", "--exclude-checks", &excluded.join(",")])
        .args([
            "--max-examples",
            "40",
            "--report",
            "har",
            "--report-har-path",
        ])
        .arg(&har)
        .args(["--request-timeout", "10"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("schemathesis runs");
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "schemathesis failed ({}):\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let summary = text
        .lines()
        .filter(|l| l.contains("generated"))
        .collect::<Vec<_>>();
    println!("schemathesis {url}: {}", summary.join(" "));
    serde_json::from_slice(&std::fs::read(&har).unwrap()).map_err(|e| format!("HAR: {e}"))
}

/// The statuses each documented operation got in a HAR file.
fn statuses_in(
    har: &Value,
    base: &str,
    templates: &[String],
) -> BTreeMap<Operation, BTreeSet<u16>> {
    let mut seen: BTreeMap<Operation, BTreeSet<u16>> = BTreeMap::new();
    for entry in har["log"]["entries"].as_array().expect("HAR entries") {
        let method = entry["request"]["method"].as_str().unwrap_or_default();
        let url = entry["request"]["url"].as_str().unwrap_or_default();
        let path = url.strip_prefix(base).unwrap_or(url);
        let path = path.split('?').next().unwrap_or_default();
        let status = entry["response"]["status"].as_u64().unwrap_or_default() as u16;
        if let Some(template) = templates.iter().find(|t| matches(t, path)) {
            seen.entry((method.to_string(), template.clone()))
                .or_default()
                .insert(status);
        }
    }
    seen
}

/// Whether `path` is an instance of the document's `template`.
fn matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

fn merge(
    into: &mut BTreeMap<Operation, BTreeSet<u16>>,
    from: impl IntoIterator<Item = (Operation, BTreeSet<u16>)>,
) {
    for (op, statuses) in from {
        into.entry(op).or_default().extend(statuses);
    }
}

/// What a JSON-body endpoint answers a body of another type (415), one
/// over 64 KiB (413) and a chunked one without content-length (411); each
/// must come with the shared error body.
fn body_probes(base: &str, path: &str) -> Result<BTreeSet<u16>, String> {
    let addr = base.strip_prefix("http://").unwrap();
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(65 * 1024));
    let requests = [
        format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
        ),
        format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{big}",
            big.len()
        ),
        format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
        ),
    ];
    let mut statuses = BTreeSet::new();
    for request in requests {
        let mut stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        // The server may answer 413 before it has read the whole body.
        let _ = stream.write_all(request.as_bytes());
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        let status: u16 = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no HTTP answer: {answer:?}"))?;
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let error: Value = serde_json::from_str(body)
            .map_err(|e| format!("{status} without the shared error body ({e}): {body:?}"))?;
        if !error["code"].is_string() || !error["message"].is_string() {
            return Err(format!("{status} without the shared error body: {body}"));
        }
        statuses.insert(status);
    }
    Ok(statuses)
}
