//! The keep-alive idle timeout (uvicorn's `--timeout-keep-alive`): a connection with no request
//! in flight and no byte received for that long is closed, cleanly, between requests.
//!
//! hyper's own header-read timer also runs while a connection idles, so it alone would tie the
//! idle time to the (longer) time a client may take to send a head. Here each connection
//! counts the bytes it reads ([`Counted`]) and the requests in flight ([`Busy`], from the
//! service call until hyper drops the response body: the response is over). A watchdog in the
//! connection's task ([`Activity::idle_expired`]) resolves once a whole timeout passes with
//! nothing in flight, nothing read and no request begun; the task then asks hyper to shut the connection down
//! gracefully, which closes an idle one at once. A head that is arriving, however slowly, is the
//! header timeout's business, not this one's.
//!
//! The watchdog is lazy: a request's end only notes the time (and the bytes read so far), it
//! wakes nothing. The watchdog sleeps a whole timeout, then looks at what happened meanwhile and,
//! if requests came and went, sleeps again until a timeout after the last one ended. Per
//! request that costs a clock read instead of a wake-up of the connection's task and a new timer.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::response::Body;

/// What one connection is doing, as its watchdog sees it.
pub(crate) struct Activity {
    /// Requests whose response is not over yet.
    in_flight: AtomicUsize,
    /// Requests begun so far: a pipelined request, read with the one before it, counts as
    /// activity even though it brought no new bytes.
    begun: AtomicU64,
    /// Bytes read from the client so far.
    read: AtomicU64,
    /// When the connection began: the origin of `last_end`.
    born: Instant,
    /// When the last response ended, in nanoseconds after `born`.
    last_end: AtomicU64,
    /// `read` at that moment: bytes read since then are activity of their own.
    read_at_end: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            begun: AtomicU64::new(0),
            read: AtomicU64::new(0),
            born: Instant::now(),
            last_end: AtomicU64::new(0),
            read_at_end: AtomicU64::new(0),
        }
    }
}

impl Activity {
    /// A request began; it is in flight until the returned guard (moved into its response
    /// body) is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.begun.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }

    /// What has happened so far: bytes read and requests begun.
    fn mark(&self) -> (u64, u64) {
        (self.read.load(Ordering::Relaxed), self.begun.load(Ordering::Relaxed))
    }

    /// Resolves once the connection has been idle — nothing in flight, nothing read, no
    /// request begun — for `timeout` on end. The wait starts again whenever a response ends.
    pub(crate) async fn idle_expired(&self, timeout: Duration) {
        let mut wait = timeout;
        loop {
            let mark = self.mark();
            let slept_from = self.since_born();
            tokio::time::sleep(wait).await;
            if self.in_flight.load(Ordering::Acquire) > 0 {
                wait = timeout;
                continue;
            }
            // Idle all along only if nothing began and nothing ended meanwhile: a request in
            // flight when the sleep began (begun before the mark) may have ended during it.
            if self.mark() == mark && self.last_end.load(Ordering::Acquire) <= slept_from {
                return;
            }
            // Something happened meanwhile. If it was only requests, all ended, the idle time
            // counts from the last one's end; bytes read since then restart it from now.
            wait = if self.read.load(Ordering::Acquire) == self.read_at_end.load(Ordering::Acquire) {
                let ended = Duration::from_nanos(self.last_end.load(Ordering::Acquire));
                timeout.saturating_sub(self.born.elapsed().saturating_sub(ended)).max(Duration::from_millis(1))
            } else {
                timeout
            };
        }
    }

    /// Nanoseconds since the connection began.
    fn since_born(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The response of a request ended: notes when, and how much had been read by then.
    fn ended(&self) {
        let now = self.since_born();
        self.read_at_end.store(self.read.load(Ordering::Relaxed), Ordering::Relaxed);
        self.last_end.store(now, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Release);
    }
}

/// One request in flight on a connection.
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.ended();
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

/// Serves one connection to its end. At shutdown, or once it has idled for the keep-alive
/// timeout, hyper is asked to finish gracefully: an idle connection closes at once, a busy one
/// after its response (which then says `Connection: close`).
pub(crate) async fn run_connection<C>(
    conn: C,
    activity: &Activity,
    keep_alive: Duration,
    mut shutdown: watch::Receiver<bool>,
) where
    C: std::future::Future<Output = hyper::Result<()>> + GracefulConn,
{
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        biased;
        _ = conn.as_mut() => return,
        _ = shutdown.wait_for(|stopping| *stopping) => {}
        () = activity.idle_expired(keep_alive) => {}
    }
    conn.as_mut().shut_down();
    let _ = conn.await;
}

/// hyper's connection types, whose graceful shutdown is an inherent method.
pub(crate) trait GracefulConn {
    fn shut_down(self: std::pin::Pin<&mut Self>);
}

impl<I, S, B> GracefulConn for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn shut_down(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S, B> GracefulConn for hyper::server::conn::http1::UpgradeableConnection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn shut_down(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S, B, E> GracefulConn for hyper::server::conn::http2::Connection<I, S, E>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn shut_down(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// The watchdog as a task; it yields how long it ran before firing.
    fn spawn_watchdog(activity: &Arc<Activity>) -> tokio::task::JoinHandle<Duration> {
        let activity = Arc::clone(activity);
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            activity.idle_expired(TIMEOUT).await;
            started.elapsed()
        })
    }

    /// Whether the watchdog fires within `within`, with time paused (auto-advanced).
    async fn fires_within(activity: &Activity, within: Duration) -> bool {
        tokio::time::timeout(within, activity.idle_expired(TIMEOUT)).await.is_ok()
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connection_expires_after_the_timeout() {
        let activity = Activity::default();
        assert!(!fires_within(&activity, Duration::from_millis(4999)).await);
        assert!(fires_within(&Activity::default(), TIMEOUT + Duration::from_millis(1)).await);
    }

    #[tokio::test(start_paused = true)]
    async fn busy_connection_never_expires() {
        let activity = Arc::new(Activity::default());
        let busy = activity.begin();
        assert!(!fires_within(&activity, TIMEOUT * 10).await);
        drop(busy);
        assert!(fires_within(&activity, TIMEOUT + Duration::from_millis(1)).await);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_counts_from_the_last_response() {
        let activity = Arc::new(Activity::default());
        let watchdog = spawn_watchdog(&activity);
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(activity.begin()); // a request that came and went 3 s in
        let fired_after = watchdog.await.unwrap();
        assert_eq!(fired_after, Duration::from_secs(3) + TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_when_the_watchdog_starts_counts_from_its_end() {
        // Pipelined requests: hyper begins one before the watchdog's first look.
        let activity = Arc::new(Activity::default());
        activity.read.fetch_add(100, Ordering::Relaxed);
        let slow = activity.begin();
        let watchdog = spawn_watchdog(&activity);
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(slow);
        let fired_after = watchdog.await.unwrap();
        assert_eq!(fired_after, Duration::from_secs(3) + TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_counts_from_the_last_of_many_responses() {
        let activity = Arc::new(Activity::default());
        let watchdog = spawn_watchdog(&activity);
        // Requests with their bytes every second for 7 s, then one that takes 2 s to answer.
        for _ in 0..7 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            activity.read.fetch_add(100, Ordering::Relaxed);
            drop(activity.begin());
        }
        activity.read.fetch_add(100, Ordering::Relaxed);
        let slow = activity.begin();
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(slow);
        let fired_after = watchdog.await.unwrap();
        assert_eq!(fired_after, Duration::from_secs(9) + TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_read_defer_expiry() {
        let activity = Arc::new(Activity::default());
        let reader = {
            let activity = Arc::clone(&activity);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(4)).await;
                activity.read.fetch_add(10, Ordering::Relaxed); // part of a head, 4 s in
            })
        };
        assert!(!fires_within(&activity, TIMEOUT + Duration::from_secs(1)).await);
        reader.await.unwrap();
    }
}
