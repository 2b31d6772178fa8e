//! Per-connection limits: the request head's size, header count and read timeout (given to
//! hyper, which answers 431 or closes by itself), the keep-alive idle timeout, and the cap on
//! open connections.
//!
//! The cap is a semaphore shared by all workers: a worker takes a permit before it accepts, so
//! at the cap new connections wait in the kernel's listen backlog (backpressure) instead of
//! being accepted and refused. The permit goes with the connection and returns when it closes.

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// hyper's own default count of headers, parsed on the stack; any other count costs a heap
/// allocation per request, so it is passed to hyper only when it differs.
pub(crate) const HYPER_MAX_HEADERS: usize = 100;

pub(crate) struct ConnLimits {
    /// Bytes of request line plus headers; beyond it hyper answers 431.
    pub(crate) max_header_size: usize,
    /// Headers per request; beyond it hyper answers 431.
    pub(crate) max_headers: usize,
    /// How long a client may take to send a request head, counted from when the connection
    /// starts waiting for one: it closes slowloris connections and idle keep-alive ones.
    pub(crate) header_timeout: Duration,
    /// How long a connection may idle between requests (nothing in flight, nothing received)
    /// before it is closed; see `keepalive`. The header timeout also runs meanwhile.
    pub(crate) keep_alive_timeout: Duration,
    /// Open connections across all workers, if capped.
    pub(crate) connections: Option<Arc<Semaphore>>,
}

impl ConnLimits {
    /// The HTTP/1 connection builder these limits configure.
    pub(crate) fn http(&self) -> http1::Builder {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .max_header_size(self.max_header_size)
            .keep_alive(true);
        if self.max_headers != HYPER_MAX_HEADERS {
            http.max_headers(self.max_headers);
        }
        http
    }

    /// A permit to open one more connection: at once if uncapped, else when one is free.
    pub(crate) async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        match &self.connections {
            None => None,
            // The semaphore is never closed, so acquiring fails only if it were.
            Some(sem) => Arc::clone(sem).acquire_owned().await.ok(),
        }
    }
}
