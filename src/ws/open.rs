//! The server's open WebSockets, counted across its workers: at shutdown each is closed with
//! 1012 (service restart, as uvicorn closes them), and the workers' drain waits until the
//! last handler and pump have finished, bounded by the drain timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{watch, Notify};

pub(crate) struct OpenSockets {
    count: AtomicUsize,
    all_closed: Notify,
    closing: watch::Sender<bool>,
}

impl OpenSockets {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self { count: AtomicUsize::new(0), all_closed: Notify::new(), closing: watch::Sender::new(false) })
    }

    /// Counts one task serving a socket (its handler, or its pump) until the guard drops.
    pub(crate) fn opened(self: &Arc<Self>) -> OpenSocket {
        self.count.fetch_add(1, Ordering::AcqRel);
        OpenSocket(Arc::clone(self))
    }

    /// Tells every pump, now and later, to close its socket.
    pub(crate) fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Becomes true when the server shuts down.
    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Returns once no socket is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            let notified = self.all_closed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One counted task; dropping it may wake the drain.
pub(crate) struct OpenSocket(Arc<OpenSockets>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.all_closed.notify_waiters();
        }
    }
}
