//! The baseline `cargo xtask bench` compares the services with: warp and
//! tokio as the services use them, answering `GET /` with a JSON body of
//! the shape and size of a service's `GET /` (three short strings),
//! without routing, logging or request ids. Listens on `127.0.0.1:$PORT`
//! (default 8090).

use std::net::SocketAddr;
use std::process::ExitCode;

use warp::Filter;

/// The body: a service's `GET /` answer, in shape and size.
#[derive(serde::Serialize, Clone, Copy)]
struct Info {
    service: &'static str,
    version: &'static str,
    shared_lib_version: &'static str,
}

#[tokio::main]
async fn main() -> ExitCode {
    let port = match std::env::var("PORT").map(|p| p.parse::<u16>()) {
        Ok(Ok(port)) => port,
        Err(_) => 8090,
        Ok(Err(err)) => {
            eprintln!("bare-warp: invalid PORT: {err}");
            return ExitCode::from(2);
        }
    };
    let listener =
        match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("bare-warp: cannot listen on port {port}: {err}");
                return ExitCode::from(1);
            }
        };
    let info = Info {
        service: "bare-warp",
        version: env!("CARGO_PKG_VERSION"),
        shared_lib_version: "none",
    };
    warp::serve(warp::any().map(move || warp::reply::json(&info)))
        .incoming(listener)
        .run()
        .await;
    ExitCode::SUCCESS
}
