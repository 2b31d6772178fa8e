//! What a handler left of its request body, dealt with before the response goes out.
//!
//! An async handler may answer without reading the body (it never asked, a form was refused
//! part-way, the body was over the limit). hyper then closes the connection after the
//! response without saying so, and a client that reuses the keep-alive connection fails on
//! its next request. So, as uvicorn and nginx do, the rest of the body is read and dropped
//! first, up to `DRAIN_MAX` bytes and for up to `DRAIN_TIME`; if it is longer, slower, or
//! broken, the response says `Connection: close` and hyper closes the connection cleanly after
//! it. A client that sent `Expect: 100-continue` and whose body was never asked for has not
//! sent it: it is not invited now, the connection is closed instead.

use std::time::Duration;

use hyper::body::{Body as _, Incoming};
use hyper::header::{HeaderValue, CONNECTION};

use crate::request::body::{BodySlot, Source};
use crate::response::HttpResponse;
use crate::util::lock;

/// The most of an unread body read and dropped to keep a connection open.
pub(crate) const DRAIN_MAX: u64 = 1024 * 1024;

/// How long that may take.
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(1);

/// Sends `Connection: close` with `resp`: hyper then closes the connection once it is written.
pub(crate) fn closing(mut resp: HttpResponse) -> HttpResponse {
    resp.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Deals with what the handler left of the body in `slot` (see the module summary).
/// `expects_continue`: the request carried `Expect: 100-continue`.
pub(crate) async fn settle(resp: HttpResponse, slot: &BodySlot, expects_continue: bool) -> HttpResponse {
    let left = {
        let mut source = lock(slot.source());
        match &*source {
            Source::Read(_) | Source::Consumed => return resp,
            // A reader still holds it (a task the handler started); nothing to drain here.
            Source::Busy => return closing(resp),
            // A streamed response may read the body while it is sent: leave it to it, and
            // close after, since the body may not be read to its end.
            _ if resp.body().is_stream() => return closing(resp),
            Source::Unread(_) if expects_continue => return closing(resp),
            _ => std::mem::replace(&mut *source, Source::Consumed),
        }
    };
    let (Source::Unread(incoming) | Source::Streaming { incoming, .. } | Source::Left(incoming)) = left else {
        return resp;
    };
    if drain(incoming).await {
        resp
    } else {
        closing(resp)
    }
}

/// Reads and drops the rest of the body; true if it ended within the bounds.
async fn drain(mut incoming: Incoming) -> bool {
    if incoming.size_hint().lower() > DRAIN_MAX {
        return false;
    }
    let read = async {
        let mut seen = 0u64;
        while let Some(frame) = http_body_util::BodyExt::frame(&mut incoming).await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                seen += data.len() as u64;
                if seen > DRAIN_MAX {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read).await.unwrap_or(false)
}
