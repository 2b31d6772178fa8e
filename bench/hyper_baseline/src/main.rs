//! Raw hyper 1.x server on one current_thread runtime: the no-Python ceiling for fastcore's
//! benchmarks. It serves every route of the benchmark scenarios (bench/apps/common.py defines
//! the same bodies for the Python servers) and doubles as the upstream for the fan-out scenario
//! (`/delay`: answers after 5 ms).
//!
//!     hyper-baseline --port 8080 [--upstream http://127.0.0.1:9000/delay]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, SERVER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

const JSON_BODY: &[u8] = br#"{"message":"Hello, World!"}"#;
const TEXT_BODY: &[u8] = b"Hello, World!";
/// Rows in the ~10 KB JSON payload (bench/apps/common.py: PAYLOAD_ROWS).
const PAYLOAD_ROWS: u32 = 124;

type Body = Full<Bytes>;
type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// The pydantic `Item` of the POST scenario; field order matches the Python model.
#[derive(Deserialize, Serialize)]
struct Item {
    name: String,
    price: f64,
    #[serde(default)]
    tags: Vec<String>,
}

/// Field order is the JSON key order, as in the Python handlers' dicts.
#[derive(Serialize)]
struct User<'a> {
    user_id: i64,
    q: Option<&'a str>,
}

#[derive(Serialize)]
struct Row {
    id: u32,
    name: String,
    price: f64,
    in_stock: bool,
    tags: [&'static str; 2],
}

#[derive(Serialize)]
struct Payload {
    items: Vec<Row>,
}

fn payload() -> Payload {
    Payload {
        items: (0..PAYLOAD_ROWS)
            .map(|i| Row {
                id: i,
                name: format!("item-{i:04}"),
                price: f64::from(i) + 0.5,
                in_stock: i % 2 == 0,
                tags: ["alpha", "beta"],
            })
            .collect(),
    }
}

struct State {
    payload: Payload,
    client: HttpClient,
    upstream: Option<hyper::Uri>,
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut res = Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(SERVER, HeaderValue::from_static("hyper-baseline"));
    res
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    respond(status, "application/json", body)
}

fn not_found() -> Response<Body> {
    respond(StatusCode::NOT_FOUND, "text/plain", &b"Not Found"[..])
}

/// `/users/{id}?q=...` -> `{"user_id":id,"q":q|null}`, like the Python handlers.
fn user(path: &str, query: Option<&str>) -> Response<Body> {
    let Ok(user_id) = path.parse::<i64>() else {
        return json(StatusCode::UNPROCESSABLE_ENTITY, &br#"{"detail":"user_id is not an int"}"#[..]);
    };
    // The benchmark's q is plain ASCII; a real server would percent-decode it.
    let q = query.and_then(|qs| qs.split('&').find_map(|kv| kv.strip_prefix("q=")));
    json(StatusCode::OK, serde_json::to_vec(&User { user_id, q }).unwrap_or_default())
}

async fn fetch(client: &HttpClient, uri: hyper::Uri) -> Result<Bytes, String> {
    let res = client.get(uri).await.map_err(|e| e.to_string())?;
    let body = res.into_body().collect().await.map_err(|e| e.to_string())?;
    Ok(body.to_bytes())
}

async fn handle(state: &State, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let close = req.headers().get(CONNECTION).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    let mut res = match (req.method(), path.as_str()) {
        (&Method::GET, "/" | "/async") => json(StatusCode::OK, JSON_BODY),
        (&Method::GET, "/plaintext") => respond(StatusCode::OK, "text/plain; charset=utf-8", TEXT_BODY),
        (&Method::GET, "/json10k") => json(StatusCode::OK, serde_json::to_vec(&state.payload).unwrap_or_default()),
        (&Method::GET, "/sleep") => {
            tokio::time::sleep(Duration::from_millis(10)).await;
            json(StatusCode::OK, JSON_BODY)
        }
        (&Method::GET, "/delay") => {
            tokio::time::sleep(Duration::from_millis(5)).await;
            json(StatusCode::OK, JSON_BODY)
        }
        (&Method::GET, "/fanout") => match &state.upstream {
            None => respond(StatusCode::SERVICE_UNAVAILABLE, "text/plain", &b"no --upstream"[..]),
            Some(uri) => {
                let (a, b) =
                    tokio::join!(fetch(&state.client, uri.clone()), fetch(&state.client, uri.clone()));
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        let mut body = Vec::with_capacity(a.len() + b.len() + 16);
                        body.extend_from_slice(br#"{"upstream":["#);
                        body.extend_from_slice(&a);
                        body.push(b',');
                        body.extend_from_slice(&b);
                        body.extend_from_slice(b"]}");
                        json(StatusCode::OK, body)
                    }
                    (Err(e), _) | (_, Err(e)) => respond(StatusCode::BAD_GATEWAY, "text/plain", e),
                }
            }
        },
        (&Method::POST, "/items") => match req.into_body().collect().await {
            Ok(body) => match serde_json::from_slice::<Item>(&body.to_bytes()) {
                Ok(item) => json(StatusCode::CREATED, serde_json::to_vec(&item).unwrap_or_default()),
                Err(e) => json(StatusCode::UNPROCESSABLE_ENTITY, format!(r#"{{"detail":"{e}"}}"#)),
            },
            Err(_) => respond(StatusCode::BAD_REQUEST, "text/plain", &b"bad body"[..]),
        },
        (&Method::POST, "/upload") => {
            // Count the bytes as they arrive, as the Python handlers do with the whole body.
            let mut body = req.into_body();
            let mut size = 0usize;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => size += f.data_ref().map_or(0, Bytes::len),
                    Err(_) => return respond(StatusCode::BAD_REQUEST, "text/plain", &b"bad body"[..]),
                }
            }
            json(StatusCode::OK, format!(r#"{{"size":{size}}}"#))
        }
        (_, p) => match p.strip_prefix("/users/") {
            Some(id) if req.method() == Method::GET => user(id, query.as_deref()),
            _ => not_found(),
        },
    };
    if close {
        res.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

struct Args {
    port: u16,
    upstream: Option<hyper::Uri>,
}

fn usage(msg: &str) -> ! {
    eprintln!("hyper-baseline: {msg}\nusage: hyper-baseline --port N [--upstream http://HOST:PORT/PATH]");
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let mut out = Args { port: 8080, upstream: None };
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--port" => out.port = v.parse().unwrap_or_else(|_| usage(&format!("bad --port value {v:?}"))),
            "--upstream" => out.upstream = Some(v.parse().unwrap_or_else(|_| usage(&format!("bad --upstream {v:?}")))),
            _ => usage(&format!("unknown argument {a:?}")),
        }
    }
    out
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args = parse_args();
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let listener = TcpListener::bind(addr).await?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(usize::MAX).build(connector);
    // Leaked on purpose: lives as long as the process and every connection task borrows it.
    let state: &'static State = Box::leak(Box::new(State { payload: payload(), client, upstream: args.upstream }));
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
            let service = service_fn(move |req| async move { Ok::<_, Infallible>(handle(state, req).await) });
            // keep_alive is hyper's default; set it explicitly since the benchmark relies on it.
            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
