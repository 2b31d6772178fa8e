//! File-descriptor readiness on the worker's Tokio reactor: the selector behind the worker loop.
//!
//! asyncio's selector event loop does all its network I/O (transports, servers, `sock_*`,
//! `add_reader`/`add_writer`) through one primitive: "call me when this fd is readable or
//! writable". Here that primitive is an `AsyncFd` on the worker's own runtime, so asyncio's
//! transports, streams and SSL run unchanged with no selector thread and no `select()` call.
//!
//! - Each watched fd is `dup`ed and the duplicate registered with epoll, so the registration
//!   has an fd number of its own: Python may close its fd (and the number be reused by a new
//!   socket) before the watcher has gone, without the watcher ever touching the new socket.
//! - Tokio's readiness is edge-triggered; asyncio expects level-triggered. After each callback
//!   the watcher asks `poll(2)` whether the fd is still ready, and clears Tokio's readiness only
//!   if it is not, so a callback that did not drain the socket is called again.
//! - Watches belong to the worker thread that made them; they are only changed from it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use tokio::io::unix::AsyncFd;
use tokio::io::{Interest, Ready};
use tokio::runtime::Handle;
use tokio::sync::Notify;

/// `selectors.EVENT_READ` and `selectors.EVENT_WRITE`.
const READ: u8 = 1;
const WRITE: u8 = 2;

struct Watch {
    /// The events wanted now; 0 once unwatched, which ends the watcher.
    interest: AtomicU8,
    changed: Notify,
}

thread_local! {
    static WATCHES: RefCell<HashMap<RawFd, Arc<Watch>>> = RefCell::new(HashMap::new());
}

/// Calls `on_ready(fd, mask)` on this worker whenever `fd` is ready for one of `events`
/// (`READ | WRITE`), until [`unwatch`]. Watching a watched fd changes its events.
pub(crate) fn watch(handle: &Handle, fd: RawFd, events: u8, on_ready: Py<PyAny>) -> PyResult<()> {
    let events = events & (READ | WRITE);
    if let Some(existing) = WATCHES.with(|w| w.borrow().get(&fd).cloned()) {
        if events == 0 {
            unwatch(fd);
        } else {
            existing.interest.store(events, Ordering::Release);
            existing.changed.notify_one();
        }
        return Ok(());
    }
    if events == 0 {
        return Ok(());
    }
    // SAFETY: the caller (asyncio's selector) passes a file descriptor it holds open for the
    // duration of this call; it is only borrowed here, to duplicate it.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let dup = borrowed.try_clone_to_owned().map_err(|e| PyOSError::new_err(format!("cannot watch fd {fd}: {e}")))?;
    let afd = {
        let _entered = handle.enter();
        // SAFETY: `dup` is an `OwnedFd` this `AsyncFd` takes over: it stays open, and refers to
        // the same file description, until the `AsyncFd` is dropped.
        unsafe { AsyncFd::register_with_interest(dup, Interest::READABLE | Interest::WRITABLE) }
            .map_err(|e| PyOSError::new_err(format!("cannot watch fd {fd}: {e}")))?
    };
    let watch = Arc::new(Watch { interest: AtomicU8::new(events), changed: Notify::new() });
    WATCHES.with(|w| w.borrow_mut().insert(fd, Arc::clone(&watch)));
    handle.spawn(run(fd, afd, watch, on_ready));
    Ok(())
}

/// Stops watching `fd`. The watcher lets go of its duplicate the next time it runs.
pub(crate) fn unwatch(fd: RawFd) {
    if let Some(watch) = WATCHES.with(|w| w.borrow_mut().remove(&fd)) {
        watch.interest.store(0, Ordering::Release);
        watch.changed.notify_one();
    }
}

async fn run(fd: RawFd, afd: AsyncFd<OwnedFd>, watch: Arc<Watch>, on_ready: Py<PyAny>) {
    loop {
        let wanted = watch.interest.load(Ordering::Acquire);
        if wanted == 0 {
            break;
        }
        let ready = tokio::select! {
            biased;
            () = watch.changed.notified() => continue,
            guard = afd.ready(interest(wanted)) => match guard {
                Ok(guard) => guard,
                Err(e) => {
                    eprintln!("fastcore: watching fd {fd} failed: {e}");
                    break;
                }
            },
        };
        // What the fd is ready for, among what is wanted now.
        let mask = mask_of(ready.ready()) & watch.interest.load(Ordering::Acquire);
        if mask != 0 {
            Python::attach(|py| {
                if let Err(e) = on_ready.call1(py, (fd, mask)) {
                    e.write_unraisable(py, Some(on_ready.bind(py)));
                }
            });
        }
        let mut ready = ready;
        let still = still_ready(afd.get_ref().as_raw_fd(), watch.interest.load(Ordering::Acquire));
        if still & READ == 0 {
            ready.clear_ready_matching(Ready::READABLE | Ready::READ_CLOSED);
        }
        if still & WRITE == 0 {
            ready.clear_ready_matching(Ready::WRITABLE | Ready::WRITE_CLOSED);
        }
        drop(ready);
        if still != 0 {
            // Level-triggered: call again, after letting the worker's other tasks run.
            tokio::task::yield_now().await;
        }
    }
    // Dropping `afd` deregisters and closes the duplicate; `on_ready` is released attached.
    drop(afd);
    Python::attach(|_| drop(on_ready));
}

fn interest(events: u8) -> Interest {
    match (events & READ != 0, events & WRITE != 0) {
        (true, true) => Interest::READABLE | Interest::WRITABLE,
        (false, true) => Interest::WRITABLE,
        _ => Interest::READABLE,
    }
}

fn mask_of(ready: Ready) -> u8 {
    let mut mask = 0;
    if ready.is_readable() || ready.is_read_closed() || ready.is_error() {
        mask |= READ;
    }
    if ready.is_writable() || ready.is_write_closed() || ready.is_error() {
        mask |= WRITE;
    }
    mask
}

/// Which of `events` the fd is ready for right now, by `poll(2)` with no wait.
fn still_ready(fd: RawFd, events: u8) -> u8 {
    if events == 0 {
        return 0;
    }
    let mut pfd = libc::pollfd { fd, events: 0, revents: 0 };
    if events & READ != 0 {
        pfd.events |= libc::POLLIN;
    }
    if events & WRITE != 0 {
        pfd.events |= libc::POLLOUT;
    }
    // SAFETY: one valid pollfd; `fd` is the watcher's own duplicate, open while it runs.
    let n = unsafe { libc::poll(&raw mut pfd, 1, 0) };
    if n <= 0 {
        return 0;
    }
    let mut mask = 0;
    let hangup = pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0;
    if pfd.revents & libc::POLLIN != 0 || (hangup && events & READ != 0) {
        mask |= READ;
    }
    if pfd.revents & libc::POLLOUT != 0 || (hangup && events & WRITE != 0) {
        mask |= WRITE;
    }
    mask
}
