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
}

impl Body {
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        // Even an empty buffer is a frame (hyper discards it): the body then has a known length
        // of 0 rather than none, and hyper writes a declared `content-length: 0` in its place.
        Self { kind: Kind::Full(Some(data.into())), after: None }
    }

    pub(crate) fn stream(stream: Stream) -> Self {
        Self { kind: Kind::Stream(Box::new(stream)), after: None }
    }

    /// True for a streamed body (a `StreamingResponse`'s, a file's), false for a whole buffer.
    pub(crate) fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Stream(_))
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
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(data) => data.is_none(),
            Kind::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::Stream(stream) => stream.length.map_or_else(SizeHint::default, SizeHint::with_exact),
        }
    }
}
