//! A generated bad-input sweep over every endpoint of both real services:
//! truncated JSON, wrong types, huge numbers, unicode, very long strings,
//! deep nesting, oversized bodies, wrong content types, bad ids, bad
//! queries, wrong methods. Every malformed request must get a 4xx with the
//! shared error body `{code, message}` (every 405 an `Allow` header);
//! nothing may get a 5xx.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use std::io::{Read, Write};

use common::{client, create_user, start_pair};
use serde_json::{Value, json};
use xtask::ops::procs::free_port;

/// What a case may be answered with.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Malformed: a 4xx with the shared error body.
    Rejected,
    /// Maybe fine (e.g. unicode names): anything but a 5xx; errors in the shared body.
    NotServerError,
}

struct Case {
    method: &'static str,
    url: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    expect: Expect,
    what: String,
}

fn json_case(url: &str, body: impl Into<Vec<u8>>, expect: Expect, what: impl Into<String>) -> Case {
    Case {
        method: "POST",
        url: url.to_string(),
        content_type: Some("application/json"),
        body: body.into(),
        expect,
        what: what.into(),
    }
}

/// Cases generated from a valid body: every truncation, every field with
/// every other JSON type, huge and negative numbers.
/// How many cases the generators make (the README quotes it).
const SWEEP_CASES: usize = 267;

fn body_cases(url: &str, valid: &Value, fields: &[(&str, &str)]) -> Vec<Case> {
    let text = valid.to_string();
    let mut cases: Vec<Case> = (0..text.len())
        .map(|n| {
            json_case(
                url,
                &text.as_bytes()[..n],
                Expect::Rejected,
                format!("truncated to {n} bytes"),
            )
        })
        .collect();
    let others = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5),
        json!("s"),
        json!([]),
        json!({}),
    ];
    let huge = [
        "1e400",
        "99999999999999999999999",
        "18446744073709551616",
        "-9223372036854775809",
        "-0.0",
    ];
    for (pointer, kind) in fields {
        for other in &others {
            let same_kind = match *kind {
                "string" => other.is_string(),
                "uint" => false,
                _ => unreachable!(),
            };
            if same_kind {
                continue;
            }
            let mut body = valid.clone();
            *body.pointer_mut(pointer).unwrap() = other.clone();
            cases.push(json_case(
                url,
                body.to_string(),
                Expect::Rejected,
                format!("{pointer} = {other}"),
            ));
        }
        if *kind == "uint" {
            for n in huge {
                let mut body = valid.clone();
                *body.pointer_mut(pointer).unwrap() = json!("__N__");
                let body = body.to_string().replace("\"__N__\"", n);
                cases.push(json_case(
                    url,
                    body,
                    Expect::Rejected,
                    format!("{pointer} = {n}"),
                ));
            }
        }
    }
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    cases.push(json_case(
        url,
        deep,
        Expect::Rejected,
        "20 000 levels of nesting",
    ));
    cases.push(json_case(
        url,
        "x".repeat(1 << 20),
        Expect::Rejected,
        "1 MiB body",
    ));
    cases.push(json_case(
        url,
        vec![0xff, 0xfe, b'{', b'}'],
        Expect::Rejected,
        "invalid UTF-8",
    ));
    cases.push(json_case(url, "", Expect::Rejected, "empty body"));
    for content_type in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ] {
        cases.push(Case {
            content_type: Some(content_type),
            ..json_case(
                url,
                text.clone(),
                Expect::Rejected,
                format!("content-type {content_type}"),
            )
        });
    }
    cases
}

/// Cases for the paths of a resource: bad ids, bad queries, wrong methods.
fn path_cases(base: &str, collection: &str) -> Vec<Case> {
    let get = |url: String, expect, what: &str| Case {
        method: "GET",
        url,
        content_type: None,
        body: Vec::new(),
        expect,
        what: what.to_string(),
    };
    let mut cases = Vec::new();
    for id in [
        "abc",
        "0",
        "-1",
        "1.0",
        "1e3",
        "99999999999999999999999",
        "%00",
        "%F0%9F%A6%80",
        "%20",
        "999999",
    ] {
        cases.push(get(
            format!("{base}{collection}/{id}"),
            Expect::Rejected,
            &format!("id {id}"),
        ));
    }
    for query in [
        "limit=abc",
        "offset=-1",
        "limit=0",
        "limit=101",
        "limit=99999999999999999999",
        "colour=red",
        "limit=%00",
        "user_id=x",
    ] {
        cases.push(get(
            format!("{base}{collection}?{query}"),
            Expect::Rejected,
            &format!("query {query}"),
        ));
    }
    for path in [
        format!("{collection}/1/x"),
        "/api".into(),
        "/api/".into(),
        "/nope".into(),
        format!("{collection}/%2e%2e"),
    ] {
        cases.push(get(
            format!("{base}{path}"),
            Expect::Rejected,
            &format!("path {path}"),
        ));
    }
    for method in ["PUT", "DELETE", "PATCH"] {
        for path in [
            collection.to_string(),
            format!("{collection}/1"),
            "/".into(),
            "/health".into(),
        ] {
            cases.push(Case {
                method,
                ..get(
                    format!("{base}{path}"),
                    Expect::Rejected,
                    &format!("{method} {path}"),
                )
            });
        }
    }
    cases
}

fn check(http: &reqwest::blocking::Client, case: &Case) -> Result<(), String> {
    let mut req = http.request(case.method.parse().unwrap(), &case.url);
    if let Some(ct) = case.content_type {
        req = req.header("content-type", ct);
    }
    if case.method != "GET" || !case.body.is_empty() {
        req = req.body(case.body.clone());
    }
    let resp = req
        .send()
        .map_err(|e| format!("{}: no answer: {e}", case.what))?;
    let status = resp.status().as_u16();
    // RFC 9110: a 405 names the methods the path accepts.
    let allow = resp
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = resp.bytes().unwrap_or_default();
    if status == 405 && !allow.contains("GET") {
        return Err(format!(
            "{}: 405 without an Allow header naming GET: {allow:?}",
            case.what
        ));
    }
    let shared_body = serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(|v| v["code"].as_str().is_some_and(|c| !c.is_empty()) && v["message"].is_string());
    match (case.expect, status) {
        (_, 500..) => Err(format!("{} -> {status}", case.what)),
        (Expect::Rejected, 400..=499) | (Expect::NotServerError, 400..=499)
            if shared_body.is_some() =>
        {
            Ok(())
        }
        (Expect::NotServerError, 200..=299) => Ok(()),
        _ => Err(format!(
            "{} {} -> {status} {}",
            case.method,
            case.what,
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )),
    }
}

/// A POST without content-length (chunked): 411 with the shared body.
fn chunked_post(url: &str, path: &str) -> String {
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn every_endpoint_answers_bad_input_with_a_4xx_and_the_shared_body() {
    let tmp = tempfile::tempdir().unwrap();
    let (users, orders) = start_pair(tmp.path(), free_port().unwrap(), &[]);
    // A pooled keep-alive client on purpose: bodies refused unread (411,
    // 413) end their connection, and the services must say so with
    // `connection: close` or the next case would be sent on a closing
    // connection (seen before shared-lib 0.1.2 / 0.2.1).
    let http = client();
    let user_id = create_user(&http, &users.url, "sweep@example.com");

    let post_users = format!("{}/api/users", users.url);
    let post_orders = format!("{}/api/orders", orders.url);
    let mut cases = body_cases(
        &post_users,
        &json!({"name": "Ada", "email": "ada@example.com"}),
        &[("/name", "string"), ("/email", "string")],
    );
    cases.extend(body_cases(
        &post_orders,
        &json!({"user_id": user_id, "items": [{"sku": "A", "quantity": 1, "unit_price_cents": 100}]}),
        &[("/user_id", "uint"), ("/items", "array"), ("/items/0/sku", "string"), ("/items/0/quantity", "uint"), ("/items/0/unit_price_cents", "uint")]
            .iter()
            .filter(|(_, k)| *k != "array")
            .copied()
            .collect::<Vec<_>>(),
    ));
    for bad_items in [
        json!(null),
        json!({}),
        json!("x"),
        json!([1]),
        json!([[]]),
        json!([{}]),
    ] {
        cases.push(json_case(
            &post_orders,
            json!({"user_id": user_id, "items": bad_items}).to_string(),
            Expect::Rejected,
            format!("items = {bad_items}"),
        ));
    }
    // Strings: unicode may be valid, control characters and lengths are not.
    for (n, name) in ["名前 🦀", "Zoë", "\u{202e}reversed"].iter().enumerate() {
        let body = json!({"name": name, "email": format!("u{n}@example.com")}).to_string();
        cases.push(json_case(
            &post_users,
            body,
            Expect::NotServerError,
            format!("name {name:?}"),
        ));
    }
    for (name, email, what) in [
        (
            "\u{0}".to_string(),
            "c@example.com".to_string(),
            "NUL in name",
        ),
        (
            "x".repeat(60_000),
            "l@example.com".to_string(),
            "60 000-char name",
        ),
        (
            "A".into(),
            format!("{}@example.com", "e".repeat(300)),
            "300-char email",
        ),
        ("A".into(), "🦀@🦀".into(), "emoji email"),
    ] {
        cases.push(json_case(
            &post_users,
            json!({"name": name, "email": email}).to_string(),
            Expect::Rejected,
            what,
        ));
    }
    for (sku, what) in [
        ("🦀".repeat(65), "65-char sku"),
        ("\u{7}".into(), "control sku"),
        (" ".into(), "blank sku"),
    ] {
        let body = json!({"user_id": user_id, "items": [{"sku": sku, "quantity": 1, "unit_price_cents": 1}]});
        cases.push(json_case(
            &post_orders,
            body.to_string(),
            Expect::Rejected,
            what,
        ));
    }
    cases.extend(path_cases(&users.url, "/api/users"));
    cases.extend(path_cases(&orders.url, "/api/orders"));

    // The generators are deterministic: a change in the count means a
    // generator lost (or gained) cases; update this and the README together.
    assert_eq!(cases.len(), SWEEP_CASES, "the sweep's case count changed");
    let failures: Vec<String> = cases.iter().filter_map(|c| check(&http, c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    for (url, path) in [(&users.url, "/api/users"), (&orders.url, "/api/orders")] {
        let answer = chunked_post(url, path);
        assert!(answer.starts_with("HTTP/1.1 411"), "{answer}");
        assert!(answer.contains(r#""code":"length_required""#), "{answer}");
    }
    println!(
        "bad-input sweep: {} generated cases + 2 chunked, all 4xx with the shared body (or 2xx for valid unicode)",
        cases.len()
    );
    // Nothing above may have crashed either service.
    for url in [&users.url, &orders.url] {
        assert_eq!(
            http.get(format!("{url}/health")).send().unwrap().status(),
            200
        );
    }
}
