//! Fixed-rate (open-loop) HTTP/1.1 GET load generator for the latency-vs-load chart.
//!
//!     loadgen --url http://127.0.0.1:8000/ --rate 20000 --duration 5 --warmup 1 --connections 64
//!
//! wrk is closed-loop: a slow response delays the next request, so it under-reports latency
//! once a server saturates ("coordinated omission"), and it cannot hold a rate. wrk2 is not
//! packaged in Debian, so this is the cheap replacement: request `i` is *due* at `start + i/rate`;
//! whichever of the `connections` keep-alive connections is free takes the next due request, and
//! latency is measured from the due time, not from when it was actually sent. A server that falls
//! behind therefore shows the queueing delay its clients would see. Prints one JSON object.
//!
//! Pacing: Tokio's timer has 1 ms resolution, too coarse for sub-millisecond latencies, so a
//! connection sleeps until ~1 ms before its due time and then yields in a loop until it is due.
//! The generator is meant to own its CPU (taskset), so the spinning costs nothing that matters.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::HOST;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

struct Opts {
    addr: SocketAddr,
    host: String,
    path: String,
    rate: f64,
    duration: f64,
    warmup: f64,
    connections: usize,
    timeout: Duration,
}

/// State shared by the connection tasks (one thread, so Cell/RefCell suffice).
struct Shared {
    opts: Opts,
    start: Instant,
    total_slots: u64,
    warm_slots: u64,
    /// Stop handing out due requests after this, even if the server fell behind.
    give_up: Instant,
    next: Cell<u64>,
    latencies_us: RefCell<Vec<u64>>,
    completed: Cell<u64>,
    errors: Cell<u64>,
    non2xx: Cell<u64>,
    first_measured: Cell<Option<Instant>>,
    last_done: Cell<Option<Instant>>,
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "loadgen: {msg}\nusage: loadgen --url http://HOST:PORT/PATH --rate RPS [--duration S] [--warmup S] [--connections N] [--timeout S]"
    );
    std::process::exit(2);
}

fn parse_args() -> Opts {
    let (mut url, mut rate, mut duration, mut warmup, mut connections, mut timeout) =
        (None::<String>, None::<f64>, 5.0, 1.0, 64usize, 10.0);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| usage(&format!("{a} needs a value")));
        let num = |v: &str| v.parse::<f64>().unwrap_or_else(|_| usage(&format!("bad number {v:?} for {a}")));
        match a.as_str() {
            "--url" => url = Some(v),
            "--rate" => rate = Some(num(&v)),
            "--duration" => duration = num(&v),
            "--warmup" => warmup = num(&v),
            "--connections" => connections = num(&v) as usize,
            "--timeout" => timeout = num(&v),
            _ => usage(&format!("unknown argument {a:?}")),
        }
    }
    let url: Uri = url.unwrap_or_else(|| usage("--url is required")).parse().unwrap_or_else(|_| usage("bad --url"));
    let rate = rate.unwrap_or_else(|| usage("--rate is required"));
    if rate <= 0.0 || duration <= 0.0 || connections == 0 {
        usage("--rate, --duration and --connections must be positive");
    }
    let host = url.authority().map(ToString::to_string).unwrap_or_else(|| usage("--url needs host:port"));
    let addr = host.parse().unwrap_or_else(|_| usage("--url host must be an IP:port (no DNS)"));
    let path = url.path_and_query().map_or_else(|| "/".to_owned(), ToString::to_string);
    Opts { addr, host, path, rate, duration, warmup, connections, timeout: Duration::from_secs_f64(timeout) }
}

async fn connect(addr: SocketAddr) -> Option<SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::task::spawn_local(async move {
        let _ = conn.await;
    });
    Some(sender)
}

async fn pace_until(due: Instant) {
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        let left = due - now;
        if left > Duration::from_millis(2) {
            tokio::time::sleep(left - Duration::from_millis(1)).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

/// One GET; Ok(status) once the whole body has arrived.
async fn exchange(sender: &mut SendRequest<Empty<Bytes>>, sh: &Shared) -> Result<u16, ()> {
    sender.ready().await.map_err(|_| ())?;
    let req = Request::get(sh.opts.path.as_str())
        .header(HOST, sh.opts.host.as_str())
        .body(Empty::new())
        .map_err(|_| ())?;
    let res = sender.send_request(req).await.map_err(|_| ())?;
    let status = res.status().as_u16();
    res.into_body().collect().await.map_err(|_| ())?;
    Ok(status)
}

async fn connection(sh: Rc<Shared>) {
    let mut sender: Option<SendRequest<Empty<Bytes>>> = None;
    loop {
        let slot = sh.next.get();
        if slot >= sh.total_slots || Instant::now() > sh.give_up {
            return;
        }
        sh.next.set(slot + 1);
        #[allow(clippy::cast_precision_loss)]
        let due = sh.start + Duration::from_secs_f64(slot as f64 / sh.opts.rate);
        pace_until(due).await;
        if sender.is_none() {
            sender = connect(sh.opts.addr).await;
        }
        let result = match sender.as_mut() {
            Some(s) => tokio::time::timeout(sh.opts.timeout, exchange(s, &sh)).await.unwrap_or(Err(())),
            None => Err(()),
        };
        let done = Instant::now();
        if result.is_err() {
            sender = None; // reconnect for the next request
        }
        if slot < sh.warm_slots {
            continue;
        }
        if sh.first_measured.get().is_none() {
            sh.first_measured.set(Some(due));
        }
        sh.last_done.set(Some(done));
        match result {
            Ok(status) => {
                sh.completed.set(sh.completed.get() + 1);
                if !(200..300).contains(&status) {
                    sh.non2xx.set(sh.non2xx.get() + 1);
                }
                sh.latencies_us.borrow_mut().push(u64::try_from((done - due).as_micros()).unwrap_or(u64::MAX));
            }
            Err(()) => sh.errors.set(sh.errors.get() + 1),
        }
    }
}

fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    #[allow(clippy::cast_precision_loss)]
    let ms = sorted[idx] as f64 / 1000.0;
    ms
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let opts = parse_args();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (total_slots, warm_slots) =
        ((opts.rate * (opts.warmup + opts.duration)) as u64, (opts.rate * opts.warmup) as u64);
    let start = Instant::now() + Duration::from_millis(50);
    let give_up = start + Duration::from_secs_f64(2.0 * (opts.warmup + opts.duration) + 5.0);
    let conns = opts.connections;
    let sh = Rc::new(Shared {
        opts,
        start,
        total_slots,
        warm_slots,
        give_up,
        next: Cell::new(0),
        latencies_us: RefCell::new(Vec::with_capacity(usize::try_from(total_slots).unwrap_or(0))),
        completed: Cell::new(0),
        errors: Cell::new(0),
        non2xx: Cell::new(0),
        first_measured: Cell::new(None),
        last_done: Cell::new(None),
    });
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let tasks: Vec<_> = (0..conns).map(|_| tokio::task::spawn_local(connection(sh.clone()))).collect();
            for t in tasks {
                let _ = t.await;
            }
        })
        .await;

    let mut lat = sh.latencies_us.take();
    lat.sort_unstable();
    let sent = sh.next.get();
    let measured_secs = match (sh.first_measured.get(), sh.last_done.get()) {
        (Some(a), Some(b)) if b > a => (b - a).as_secs_f64(),
        _ => f64::NAN,
    };
    #[allow(clippy::cast_precision_loss)]
    let out = serde_json::json!({
        "offered_rps": sh.opts.rate,
        "achieved_rps": sh.completed.get() as f64 / measured_secs,
        "completed": sh.completed.get(),
        "errors": sh.errors.get(),
        "non2xx": sh.non2xx.get(),
        "dropped": total_slots - sent,
        "connections": conns,
        "p50_ms": percentile_ms(&lat, 50.0),
        "p90_ms": percentile_ms(&lat, 90.0),
        "p99_ms": percentile_ms(&lat, 99.0),
        "p999_ms": percentile_ms(&lat, 99.9),
        "max_ms": lat.last().map_or(f64::NAN, |&m| m as f64 / 1000.0),
    });
    println!("{out}");
}
