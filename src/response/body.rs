//! The response body hyper writes: a whole buffer (the common case, as cheap as `Full`), and
//! the response's background task, started when hyper lets go of the body.
//!
//! hyper drops a body once it has queued the last frame for writing, or when the connection
//! goes away mid-body; either way the response is over, and that is when `Response.background`
//! starts (see `background`).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

use crate::response::background::AfterSend;

/// Why a body stopped before its end: hyper then closes the connection, since the head (and
/// perhaps part of the body) has already gone out.
#[derive(Debug)]
pub(crate) struct Aborted(pub(crate) String);

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Aborted {}

/// A response body; see the module summary.
pub(crate) struct Body {
    kind: Kind,
    /// Declared last, so the body's own parts are dropped before the background task starts.
    after: Option<AfterSend>,
}

enum Kind {
    /// A whole buffer, sent as one frame with an exact length (hyper writes `content-length`).
    Full(Option<Bytes>),
}

impl Body {
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        Self { kind: Kind::Full((!data.is_empty()).then_some(data)), after: None }
    }

    /// Runs `after` once this body is finished with (sent, or abandoned with its connection).
    pub(crate) fn set_after(&mut self, after: AfterSend) {
        self.after = Some(after);
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Aborted;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        match &mut self.get_mut().kind {
            Kind::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(data) => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
        }
    }
}
