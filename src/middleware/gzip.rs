//! `GZipMiddleware`, Starlette's, compressing with zlib in Rust.
//!
//! As Starlette decides: a response with a `content-encoding` already, a 206, or an excluded
//! content type (`text/event-stream`, images, ...) goes out untouched; a whole body under
//! `minimum_size` too. A larger one gets `Vary: Accept-Encoding`, and, when the request's
//! `Accept-Encoding` names gzip, is compressed (`content-encoding: gzip`, the new length). A
//! stream is compressed chunk by chunk as it comes (each chunk sync-flushed, so a client sees
//! it at once), without a length. zlib is the same library Python's `zlib` module wraps,
//! called with Starlette's parameters (level 9, gzip wrapper, window 15), so the bytes match.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress, Status};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Frame, SizeHint};
use hyper::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::StatusCode;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::middleware::{add_vary, latin1, Note, Request};
use crate::response::{Aborted, Body, HttpResponse};

static GZIP: HeaderValue = HeaderValue::from_static("gzip");

/// Starlette's test: "gzip" anywhere in the request's (first) `Accept-Encoding`.
pub(crate) fn accepts(req: &Request) -> Note {
    let accepts =
        req.headers().get(ACCEPT_ENCODING).is_some_and(|v| memchr::memmem::find(v.as_bytes(), b"gzip").is_some());
    Note::Gzip { accepts }
}

pub(crate) struct Gzip {
    minimum_size: usize,
    level: Compression,
    /// Media types (`type/subtype` or `type/*`), lower-cased.
    excluded: Vec<String>,
}

impl Gzip {
    pub(crate) fn from_python(spec: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let level: i32 = spec.get_item(2)?.extract()?;
        Ok(Self {
            minimum_size: spec.get_item(1)?.extract()?,
            level: if (0..=9).contains(&level) { Compression::new(level as u32) } else { Compression::default() },
            excluded: spec.get_item(3)?.extract()?,
        })
    }

    fn excluded(&self, content_type: Option<&HeaderValue>) -> bool {
        let media_type = content_type.map(latin1).unwrap_or_default();
        let media_type = media_type.split(';').next().unwrap_or("").trim().to_lowercase();
        let wildcard = format!("{}/*", media_type.split('/').next().unwrap_or(""));
        let grpc = media_type.starts_with("application/grpc+");
        self.excluded.iter().any(|e| *e == media_type || *e == wildcard || (grpc && e == "application/grpc"))
    }

    pub(crate) async fn response(&self, mut resp: HttpResponse, accepts: bool) -> HttpResponse {
        if resp.headers().contains_key(CONTENT_ENCODING)
            || resp.status() == StatusCode::PARTIAL_CONTENT
            || self.excluded(resp.headers().get(CONTENT_TYPE))
        {
            return resp;
        }
        if let Some(whole) = resp.body().whole() {
            let whole = whole.clone();
            return self.whole(resp, whole, accepts);
        }
        // A stream: its head waits for the first chunk, which tells a body sent in one piece
        // (a small file) from a stream, as Starlette tells them by `more_body`.
        let mut content = resp.body_mut().take_content();
        let first = match content.frame().await {
            Some(Ok(frame)) => frame,
            Some(Err(failed)) => {
                resp.body_mut().set_content(Body::boxed(Box::pin(Reworked::failed(failed))));
                return resp;
            }
            None => {
                resp.body_mut().set_content(content);
                return resp;
            }
        };
        let first = match first.into_data() {
            Ok(data) => data,
            Err(_trailers) => {
                resp.body_mut().set_content(content);
                return resp;
            }
        };
        let size = content.size_hint();
        if content.is_end_stream() || size.exact() == Some(first.len() as u64) {
            return self.whole(resp, first, accepts);
        }
        add_vary(resp.headers_mut(), "Accept-Encoding");
        let mut gzip = None;
        let first = if accepts {
            let headers = resp.headers_mut();
            headers.insert(CONTENT_ENCODING, GZIP.clone());
            headers.remove(CONTENT_LENGTH);
            let mut z = Compress::new_gzip(self.level, 15);
            let out = deflate(&mut z, &first, FlushCompress::Sync);
            gzip = Some(z);
            out
        } else {
            first
        };
        let reworked = Reworked { pending: Some(first), inner: content, gzip, done: false, failed: None };
        resp.body_mut().set_content(Body::boxed(Box::pin(reworked)));
        resp
    }

    fn whole(&self, mut resp: HttpResponse, body: Bytes, accepts: bool) -> HttpResponse {
        if body.len() < self.minimum_size {
            resp.body_mut().set_content(Body::full(body));
            return resp;
        }
        let headers = resp.headers_mut();
        add_vary(headers, "Accept-Encoding");
        if !accepts {
            resp.body_mut().set_content(Body::full(body));
            return resp;
        }
        let out = deflate(&mut Compress::new_gzip(self.level, 15), &body, FlushCompress::Finish);
        headers.insert(CONTENT_ENCODING, GZIP.clone());
        headers.insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
        resp.body_mut().set_content(Body::full(out));
        resp
    }
}

/// Compresses `input`; `Sync` flushes what it has (a stream's chunk), `Finish` ends the stream.
fn deflate(z: &mut Compress, input: &[u8], flush: FlushCompress) -> Bytes {
    let mut out: Vec<u8> = Vec::with_capacity(input.len() / 2 + 64);
    let start = z.total_in();
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let consumed = (z.total_in() - start) as usize;
        let status = z.compress_vec(&input[consumed..], &mut out, flush).expect("zlib deflate with valid parameters");
        let consumed = (z.total_in() - start) as usize;
        let done = match flush {
            FlushCompress::Finish => status == Status::StreamEnd,
            _ => consumed == input.len() && out.len() < out.capacity(),
        };
        if done {
            return Bytes::from(out);
        }
    }
}

/// A stream after its first chunk: that chunk, then the rest, compressed when `gzip` is set.
struct Reworked {
    pending: Option<Bytes>,
    inner: Body,
    gzip: Option<Compress>,
    done: bool,
    failed: Option<Aborted>,
}

impl Reworked {
    fn failed(failed: Aborted) -> Self {
        Self { pending: None, inner: Body::full(Bytes::new()), gzip: None, done: true, failed: Some(failed) }
    }
}

impl hyper::body::Body for Reworked {
    type Data = Bytes;
    type Error = Aborted;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        let this = self.get_mut();
        if let Some(first) = this.pending.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if this.done {
            return Poll::Ready(this.failed.take().map(Err));
        }
        loop {
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        let out = match &mut this.gzip {
                            Some(z) => deflate(z, &data, FlushCompress::Sync),
                            None => data,
                        };
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    Err(other) => return Poll::Ready(Some(Ok(other))),
                },
                Some(Err(failed)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(failed)));
                }
                None => {
                    this.done = true;
                    let tail = this.gzip.as_mut().map(|z| deflate(z, &[], FlushCompress::Finish));
                    return Poll::Ready(tail.filter(|t| !t.is_empty()).map(|t| Ok(Frame::data(t))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.pending.is_none() && self.failed.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
