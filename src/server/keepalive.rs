//! The keep-alive idle timeout (uvicorn's `--timeout-keep-alive`): a connection with no request
//! in flight and no byte received for that long is closed, cleanly, between requests.
//!
//! hyper's own header-read timer also runs while a connection idles, so it alone would tie the
//! idle time to the (longer) time a client may take to send a head. Here each connection
//! counts the bytes it reads ([`Counted`]) and the requests in flight ([`Busy`], from the
//! service call until hyper drops the response body: the response is over). A watchdog in the
//! connection's task ([`Activity::idle_expired`]) resolves once a whole timeout passes with
//! nothing in flight and nothing read; the task then asks hyper to shut the connection down
//! gracefully, which closes an idle one at once. A head that is arriving, however slowly, is the
//! header timeout's business, not this one's.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use crate::response::Body;

/// What one connection is doing, as its watchdog sees it.
#[derive(Default)]
pub(crate) struct Activity {
    /// Requests whose response is not over yet.
    in_flight: AtomicUsize,
    /// Bytes read from the client so far.
    read: AtomicU64,
    /// Signalled when the last request in flight ends.
    became_idle: Notify,
}

impl Activity {
    /// A request began; it is in flight until the returned guard (moved into its response
    /// body) is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }

    /// Resolves once the connection has been idle — nothing in flight, nothing read — for
    /// `timeout` on end.
    pub(crate) async fn idle_expired(&self, timeout: Duration) {
        loop {
            while self.in_flight.load(Ordering::Acquire) > 0 {
                self.became_idle.notified().await;
            }
            let read = self.read.load(Ordering::Relaxed);
            tokio::time::sleep(timeout).await;
            if self.in_flight.load(Ordering::Acquire) == 0 && self.read.load(Ordering::Relaxed) == read {
                return;
            }
        }
    }
}

/// One request in flight on a connection.
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::Release) == 1 {
            self.0.became_idle.notify_one();
        }
    }
}

/// A response body that keeps its request counted as in flight until hyper drops it.
pub(crate) struct Tracked {
    body: Body,
    _busy: Busy,
}

impl Tracked {
    pub(crate) fn new(body: Body, busy: Busy) -> Self {
        Self { body, _busy: busy }
    }
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = <Body as hyper::body::Body>::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A client socket that counts the bytes read from it into its connection's [`Activity`].
pub(crate) struct Counted<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Counted<S> {
    pub(crate) fn new(inner: S, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        if read > 0 {
            this.activity.read.fetch_add(read as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
