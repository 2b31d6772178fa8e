//! A worker thread: one current-thread Tokio runtime, attached to the interpreter for its life.
//!
//! The thread creates its Python thread state once, at start, and keeps it until it exits;
//! creating and destroying one per request is what makes naive bindings slow on 3.13t.
//! On free-threaded builds the worker stays attached while it runs and detaches only when
//! Tokio parks it, so a stop-the-world pause never waits on an idle worker. On GIL builds it
//! attaches only around Python calls, so the GIL is held only while Python runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::sync::{mpsc, watch};

use crate::dispatch::Config;
#[cfg(Py_GIL_DISABLED)]
use crate::runtime::attach::park;
use crate::runtime::attach::{safe_point, ThreadState};
use crate::runtime::{self, live};
use crate::server::limits::ConnLimits;
use crate::server::protocol::Protocols;
use crate::util::lock;

/// Threads each worker may start for `to_thread`; more calls queue.
const BLOCKING_THREADS: usize = 16;

thread_local! {
    static BLOCKING_STATE: std::cell::RefCell<Option<ThreadState>> = const { std::cell::RefCell::new(None) };
}

/// After the drain timeout, how long cancelled coroutines get to run their `finally` blocks.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// Then how long `to_thread` calls still running get before they are abandoned.
const BLOCKING_GRACE: Duration = Duration::from_millis(500);

/// Counts live workers so the server can wait for all of them without polling.
#[derive(Default)]
pub(crate) struct Liveness {
    running: Mutex<usize>,
    changed: Condvar,
}

impl Liveness {
    fn enter(&self) {
        *lock(&self.running) += 1;
    }

    fn leave(&self) {
        *lock(&self.running) -= 1;
        self.changed.notify_all();
    }

    /// True once no worker runs; false if `timeout` passed first.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let guard = lock(&self.running);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |n| *n > 0)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard == 0
    }
}

/// Open connections per worker, so that an idle-but-ahead worker can let the others catch up.
pub(crate) type Load = Arc<[AtomicUsize]>;

pub(crate) struct Worker {
    pub(crate) index: usize,
    pub(crate) load: Load,
    pub(crate) listener: std::net::TcpListener,
    pub(crate) config: Arc<Config>,
    pub(crate) limits: Arc<ConnLimits>,
    pub(crate) protocols: Arc<Protocols>,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) drain: Duration,
    pub(crate) liveness: Arc<Liveness>,
}

impl Worker {
    pub(crate) fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        self.liveness.enter();
        let liveness = Arc::clone(&self.liveness);
        let spawned = std::thread::Builder::new().name(format!("fastcore-worker-{}", self.index)).spawn(move || {
            let liveness = Arc::clone(&self.liveness);
            let _left = scopeguard(move || liveness.leave());
            self.run();
        });
        if spawned.is_err() {
            liveness.leave();
        }
        spawned
    }

    fn run(self) {
        let thread_state = ThreadState::create();
        let mut builder = tokio::runtime::Builder::new_current_thread();
        // Blocking-pool threads (`to_thread`) also keep one Python thread state for their life.
        builder
            .enable_all()
            .max_blocking_threads(BLOCKING_THREADS)
            .on_thread_start(|| BLOCKING_STATE.with(|s| *s.borrow_mut() = Some(ThreadState::create())))
            .on_thread_stop(|| BLOCKING_STATE.with(|s| drop(s.borrow_mut().take())));
        #[cfg(Py_GIL_DISABLED)]
        builder.on_thread_park(park::detach).on_thread_unpark(park::attach);
        let runtime = match builder.build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("fastcore: worker {} could not start its runtime: {e}", self.index);
                return;
            }
        };
        if let Err(e) = Python::attach(|py| runtime::install(py, runtime.handle().clone())) {
            Python::attach(|py| e.print(py));
            return;
        }
        let Worker { index, load, listener, config, limits, protocols, shutdown, drain, .. } = self;
        runtime.block_on(accept_loop(Balance { index, load }, listener, config, &limits, protocols, shutdown, drain));
        // Coroutines still suspended get `CancelledError` and a short grace to run their
        // `finally` blocks, in their own context, before the runtime goes.
        live::cancel_all();
        if live::count() > 0
            && runtime.block_on(async { tokio::time::timeout(CANCEL_GRACE, live::idle()).await }).is_err()
        {
            eprintln!(
                "fastcore: worker {index}: {} task(s) still running {CANCEL_GRACE:?} after cancellation; closing them",
                live::count()
            );
        }
        live::set_closing();
        #[cfg(Py_GIL_DISABLED)]
        park::detach();
        // Shut down detached: blocking-pool threads must attach to release their thread
        // states. `to_thread` calls still running are abandoned after a bounded wait rather
        // than waited for, so shutdown stays within the drain timeout plus the graces.
        runtime.shutdown_timeout(BLOCKING_GRACE);
        Python::attach(runtime::uninstall);
        drop(thread_state);
    }
}

/// This worker's place in the shared connection counts.
struct Balance {
    index: usize,
    load: Load,
}

impl Balance {
    /// All workers accept from one socket, and whichever polls first wins; in a burst of new
    /// keep-alive connections one worker can take them all and leave the others idle for the
    /// connections' lifetime. A worker holding more than its share waits briefly before
    /// accepting, which lets an idle one take the next connection; a busy one (stuck in a sync
    /// handler) cannot stall accepting, since the wait is bounded.
    fn ahead(&self) -> bool {
        let mine = self.load[self.index].load(Ordering::Relaxed);
        let least = self.load.iter().map(|n| n.load(Ordering::Relaxed)).min().unwrap_or(0);
        mine > least + 1
    }

    fn opened(&self) -> ConnectionGuard {
        self.load[self.index].fetch_add(1, Ordering::Relaxed);
        ConnectionGuard { load: Arc::clone(&self.load), index: self.index }
    }
}

struct ConnectionGuard {
    load: Load,
    index: usize,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.load[self.index].fetch_sub(1, Ordering::Relaxed);
    }
}

/// How long a worker that is ahead gives the others before it accepts anyway.
const BALANCE_PAUSE: Duration = Duration::from_millis(1);

async fn accept_loop(
    balance: Balance,
    listener: std::net::TcpListener,
    config: Arc<Config>,
    limits: &ConnLimits,
    protocols: Arc<Protocols>,
    mut shutdown: watch::Receiver<bool>,
    drain: Duration,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fastcore: worker could not register its listener: {e}");
            return;
        }
    };
    // Every connection task holds a sender; the drain waits until all are gone.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    loop {
        if balance.ahead() {
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                () = tokio::time::sleep(BALANCE_PAUSE) => {}
            }
        }
        // At the connection cap, wait for a permit before accepting: new connections queue in
        // the listen backlog meanwhile.
        let permit = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            permit = limits.admit() => permit,
        };
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // A flood of connections answered by hyper alone (400, 431) runs no Python.
                    safe_point();
                    let _ = stream.set_nodelay(true);
                    let counted = balance.opened();
                    let open = open_tx.clone();
                    let shutdown = shutdown.clone();
                    let (protocols, config) = (Arc::clone(&protocols), Arc::clone(&config));
                    tokio::spawn(async move {
                        protocols.serve(stream, config, peer, shutdown).await;
                        drop((counted, permit, open));
                    });
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
    drop(listener);
    drop(open_tx);
    // Then the WebSockets, which left their connections at the upgrade (closed with 1012 now).
    let _ = tokio::time::timeout(drain, async {
        open_rx.recv().await;
        config.ws_open.all_closed().await;
    })
    .await;
}

/// Runs `f` when dropped, even while unwinding.
fn scopeguard<F: FnOnce()>(f: F) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
