//! The coroutine drivers alive on this worker thread, and the signal that cancels them at
//! shutdown.
//!
//! A worker's runtime must not be dropped with coroutines still suspended in it: a dropped
//! driver can only `close()` its coroutine, which raises `GeneratorExit` (not
//! `CancelledError`), cannot await, and used to run its `finally` later, in another request's
//! context. So at shutdown the worker calls [`cancel_all`]: each driver throws
//! `CancelledError` into its coroutine once, at its current suspension, and the worker keeps
//! running until [`idle`] or until its grace period ends. Only then is the runtime dropped,
//! and drivers still left close their coroutines ([`closing`]).

use std::cell::Cell;
use std::rc::Rc;

use tokio::sync::{watch, Notify};

struct Live {
    count: Cell<usize>,
    idle: Notify,
    shutdown: watch::Sender<bool>,
    closing: Cell<bool>,
}

thread_local! {
    static LIVE: Rc<Live> = Rc::new(Live {
        count: Cell::new(0),
        idle: Notify::new(),
        shutdown: watch::Sender::new(false),
        closing: Cell::new(false),
    });
}

/// Counts one driver while it lives, on the thread that polls it, and carries its one-time
/// view of the shutdown signal.
pub(crate) struct Counted {
    shutdown: watch::Receiver<bool>,
    delivered: bool,
}

impl Counted {
    pub(crate) fn register() -> Self {
        LIVE.with(|l| {
            l.count.set(l.count.get() + 1);
            Self { shutdown: l.shutdown.subscribe(), delivered: false }
        })
    }

    /// Resolves once, when the worker shuts down; pending forever after that, so a `finally`
    /// block may await during the grace period.
    pub(crate) async fn shutting_down(&mut self) {
        if self.delivered || self.shutdown.wait_for(|down| *down).await.is_err() {
            return std::future::pending().await;
        }
        self.delivered = true;
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        LIVE.with(|l| {
            let left = l.count.get() - 1;
            l.count.set(left);
            if left == 0 {
                l.idle.notify_waiters();
            }
        });
    }
}

/// Throws `CancelledError` into every coroutine driven on this thread, now and later.
pub(crate) fn cancel_all() {
    LIVE.with(|l| l.shutdown.send_replace(true));
}

/// Resolves when no driver is left on this thread.
pub(crate) async fn idle() {
    let live = LIVE.with(Rc::clone);
    loop {
        let notified = live.idle.notified();
        if live.count.get() == 0 {
            return;
        }
        notified.await;
    }
}

/// How many drivers are alive on this thread.
pub(crate) fn count() -> usize {
    LIVE.with(|l| l.count.get())
}

/// From now on, drivers dropped on this thread close their coroutines instead of handing
/// them to the runtime, which is going away.
pub(crate) fn set_closing() {
    LIVE.with(|l| l.closing.set(true));
}

pub(crate) fn closing() -> bool {
    LIVE.with(|l| l.closing.get())
}
