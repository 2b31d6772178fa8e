//! WebSocket echo load generator for `bench/ws.sh`: opens `--connections` sockets to `--url`,
//! and on each sends one text message of `--size` bytes and waits for its echo, in a loop (one
//! message in flight per socket, as a chat client's round trips). Every echo is checked against
//! what was sent. After `--warmup` seconds it counts echoes for `--duration` seconds and prints
//! one JSON line: `{"messages": N, "seconds": S, "rate": N/S, "errors": E, "connections": C}`.
//!
//! One current-thread Tokio runtime: run it pinned to a core of its own (`taskset`), apart from
//! the server's, so that it is not the bottleneck.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

struct Args {
    url: String,
    connections: usize,
    duration: f64,
    warmup: f64,
    size: usize,
}

fn parse() -> Args {
    let mut args = Args { url: String::new(), connections: 64, duration: 5.0, warmup: 1.0, size: 32 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--connections" => args.connections = value.parse().expect("--connections"),
            "--duration" => args.duration = value.parse().expect("--duration"),
            "--warmup" => args.warmup = value.parse().expect("--warmup"),
            "--size" => args.size = value.parse().expect("--size"),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(!args.url.is_empty(), "--url is required");
    args
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = parse();
    let echoed = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let payload: String = "x".repeat(args.size);
    let mut sockets = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let (ws, _) = tokio_tungstenite::connect_async(args.url.as_str()).await.expect("connect");
        sockets.push(ws);
    }
    for ws in sockets {
        let (echoed, errors, payload) = (Arc::clone(&echoed), Arc::clone(&errors), payload.clone());
        tokio::spawn(async move {
            let mut ws = ws;
            loop {
                if ws.send(Message::text(payload.as_str())).await.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str() == payload => {
                        echoed.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let start_count = echoed.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    let messages = echoed.load(Ordering::Relaxed) - start_count;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"messages\": {messages}, \"seconds\": {seconds:.3}, \"rate\": {:.1}, \"errors\": {}, \"connections\": {}}}",
        messages as f64 / seconds,
        errors.load(Ordering::Relaxed),
        args.connections
    );
}
