//! The response body hyper writes: a whole buffer (the common case, as cheap as `Full`) or a
//! stream (`stream`: a `StreamingResponse`'s chunks, a file's), and the response's background
//! task, started when hyper lets go of the body.
//!
//! hyper drops a body once it has queued the last frame for writing, or when the connection
//! goes away mid-body; either way the response is over, and that is when `Response.background`
//! starts (see `background`).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

use crate::response::background::AfterSend;
use crate::response::stream::{Aborted, Stream};

/// A response body; see the module summary.
pub(crate) struct Body {
    kind: Kind,
    /// Declared last, so the body's own parts are dropped before the background task starts.
    after: Option<AfterSend>,
}

enum Kind {
    /// A whole buffer, sent as one frame with an exact length (hyper writes `content-length`).
    Full(Option<Bytes>),
    /// A `StreamingResponse`'s chunks as its pump produces them (no length: chunked), or a
    /// file's (exact length).
    Stream(Box<Stream>),
    /// Another body reworked as it goes (the gzip middleware's compressed stream).
    Boxed(BoxedBody),
}

/// A body of any kind, as the middleware wraps one.
pub(crate) type BoxedBody = Pin<Box<dyn hyper::body::Body<Data = Bytes, Error = Aborted> + Send>>;

impl Body {
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        // Even an empty buffer is a frame (hyper discards it): the body then has a known length
        // of 0 rather than none, and hyper writes a declared `content-length: 0` in its place.
        Self { kind: Kind::Full(Some(data.into())), after: None }
    }

    pub(crate) fn stream(stream: Stream) -> Self {
        Self { kind: Kind::Stream(Box::new(stream)), after: None }
    }

    pub(crate) fn boxed(body: BoxedBody) -> Self {
        Self { kind: Kind::Boxed(body), after: None }
    }

    /// The bytes of a whole body (None for a stream, or once sent).
    pub(crate) fn whole(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Full(data) => data.as_ref(),
            _ => None,
        }
    }

    /// Takes the content out, to be reworked and put back with `set_content`; the background
    /// task stays with this body.
    pub(crate) fn take_content(&mut self) -> Body {
        Body { kind: std::mem::replace(&mut self.kind, Kind::Full(None)), after: None }
    }

    /// Puts in the content of `other` (a body without a background task of its own).
    pub(crate) fn set_content(&mut self, other: Body) {
        self.kind = other.kind;
    }

    /// True for a streamed body (a `StreamingResponse`'s, a file's, a reworked one), false for a whole buffer.
    pub(crate) fn is_stream(&self) -> bool {
        !matches!(self.kind, Kind::Full(_))
    }

    /// Whether a background task is set to run after this body.
    pub(crate) fn has_after(&self) -> bool {
        self.after.is_some()
    }

    /// Runs `after` once this body is finished with (sent, or abandoned with its connection).
    pub(crate) fn set_after(&mut self, after: AfterSend) {
        self.after = Some(after);
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Aborted;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        match &mut self.get_mut().kind {
            Kind::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Kind::Stream(stream) => stream.poll_frame(cx),
            Kind::Boxed(body) => body.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(data) => data.is_none(),
            Kind::Stream(_) => false,
            Kind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::Stream(stream) => stream.length.map_or_else(SizeHint::default, SizeHint::with_exact),
            Kind::Boxed(body) => body.size_hint(),
        }
    }
}
