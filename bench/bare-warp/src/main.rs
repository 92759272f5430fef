//! The baseline `cargo xtask bench` compares the services with: warp and
//! tokio as the services use them, answering `GET /` with a fixed string,
//! without routing, JSON, logging or request ids. Listens on
//! `127.0.0.1:$PORT` (default 8090).

use std::net::SocketAddr;
use std::process::ExitCode;

use warp::Filter;

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
    warp::serve(warp::any().map(|| "ok"))
        .incoming(listener)
        .run()
        .await;
    ExitCode::SUCCESS
}
