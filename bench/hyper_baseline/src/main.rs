//! Minimal hyper 1.x hello server on one current_thread runtime: the raw-Rust ceiling for fastcore's benchmarks.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE, SERVER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const JSON_BODY: &[u8] = br#"{"message":"Hello, World!"}"#;
const TEXT_BODY: &[u8] = b"Hello, World!";

fn respond(status: StatusCode, content_type: &'static str, body: &'static [u8]) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(body)));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(SERVER, HeaderValue::from_static("hyper-baseline"));
    res
}

async fn handle(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => respond(StatusCode::OK, "application/json", JSON_BODY),
        (&Method::GET, "/plaintext") => respond(StatusCode::OK, "text/plain", TEXT_BODY),
        _ => respond(StatusCode::NOT_FOUND, "text/plain", b"Not Found"),
    })
}

fn parse_port() -> u16 {
    let mut args = std::env::args().skip(1);
    let mut port = 8080;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                let v = args.next().unwrap_or_default();
                port = v.parse().unwrap_or_else(|_| {
                    eprintln!("hyper-baseline: bad --port value {v:?}");
                    std::process::exit(2);
                });
            }
            _ => {
                eprintln!("usage: hyper-baseline --port N");
                std::process::exit(2);
            }
        }
    }
    port
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], parse_port()));
    let listener = TcpListener::bind(addr).await?;
    eprintln!("hyper-baseline listening on http://{addr}");
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            // Transient accept errors (e.g. EMFILE) must not kill the benchmark server.
            Err(e) => {
                eprintln!("accept error: {e}");
                continue;
            }
        };
        // Small responses: don't let Nagle hold them back.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            // keep_alive is hyper's default; set it explicitly since the benchmark relies on it.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .await;
        });
    }
}
