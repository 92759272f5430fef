//! Access lines go through the writer given to `init_non_blocking`, like
//! every other line, so whoever captures a service's logs captures them.
//! Its own test binary: the subscriber it installs is process-wide.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use shared_lib::telemetry::{LogFormat, init_non_blocking};
use warp::Filter;

/// A writer whose bytes the test reads afterwards.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("capture lock")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn access_lines_and_handler_lines_reach_the_same_writer() {
    let capture = Capture::default();
    let guard = init_non_blocking(LogFormat::Json, capture.clone()).expect("telemetry starts");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let routes = warp::path("hello")
        .map(|| {
            tracing::info!("handler ran");
            "hi"
        })
        .recover(shared_lib::error::handle_rejection);
    let server = runtime.spawn(shared_lib::server::serve(listener, routes, async {
        let _ = stopped.await;
    }));

    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\nx-request-id: capture-me\r\nconnection: close\r\n\r\n")
        .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    stop.send(()).expect("server still running");
    runtime.block_on(server).expect("join").expect("serve");
    drop(runtime);
    // Dropping the guard writes whatever is still queued.
    drop(guard);

    let logs = String::from_utf8(capture.0.lock().expect("capture lock").clone()).expect("utf-8");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| l["target"] == "shared_lib::access")
        .unwrap_or_else(|| panic!("no access line in the captured logs:\n{logs}"));
    assert_eq!(access["fields"]["path"], "/hello", "{access}");
    assert_eq!(access["fields"]["status"], 200, "{access}");
    assert_eq!(access["fields"]["request_id"], "capture-me", "{access}");
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "handler ran"
                && l["span"]["request_id"] == "capture-me"),
        "the handler's line, in its request's span, went to the same writer:\n{logs}"
    );
}
