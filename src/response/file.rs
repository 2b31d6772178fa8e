//! File bodies: a `FileResponse` (or a static file) sent from Rust, in chunks read off the
//! worker, and Starlette's `Range` rules for the static files planned in Rust.
//!
//! Python decides what to send, as Starlette's `FileResponse` does (`_file_plan`: the stat
//! headers, `Range`/`If-Range`, 206/416/400, multipart byte ranges, `HEAD`) and hands over a
//! list of pieces: `(start, end)` byte ranges of the file and literal `bytes` (the multipart
//! part headers). Rust opens the file at once (a failure is an exception for the error
//! handler, before anything is sent) and reads each range in 64 KiB chunks with positioned
//! reads on the worker's blocking pool, one chunk ahead of the client at most: the chunks go
//! through the same bounded channel as a streamed body, which hyper drains as the client reads.
//! Both parse `Range` here ([`parse_range`]; `byte_ranges` is Python's way in).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use tokio::sync::mpsc;

use crate::response::background::log_error;
use crate::response::body::Body;
use crate::response::stream::{Aborted, Stream, CAPACITY};

/// Starlette's `FileResponse.chunk_size`.
const CHUNK: u64 = 64 * 1024;

pub(crate) enum Piece {
    Literal(Bytes),
    Range(u64, u64),
}

/// The body for `pieces` of the file at `path`; its length is exact, so hyper frames it with
/// the content-length the plan's headers carry.
pub(crate) fn body(path: &str, pieces: &Bound<'_, PyList>) -> PyResult<Body> {
    let mut plan = Vec::with_capacity(pieces.len());
    let mut total = 0u64;
    for piece in pieces.iter() {
        if let Ok(b) = piece.cast::<PyBytes>() {
            total += b.as_bytes().len() as u64;
            plan.push(Piece::Literal(Bytes::copy_from_slice(b.as_bytes())));
        } else {
            let (start, end): (u64, u64) = piece.extract()?;
            if end < start {
                return Err(PyValueError::new_err(format!("bad file range {start}-{end}")));
            }
            total += end - start;
            plan.push(Piece::Range(start, end));
        }
    }
    let file =
        if plan.iter().any(|p| matches!(p, Piece::Range(..))) { Some(Arc::new(File::open(path)?)) } else { None };
    Ok(streamed(file, path.to_owned(), plan, total))
}

/// The body sending `plan` from `file`, `total` bytes in all. Even an empty body (HEAD, an
/// empty file) is a stream of known length, not a whole one: hyper then writes the declared
/// content-length where the headers put it, as Starlette does.
pub(crate) fn streamed(file: Option<Arc<File>>, path: String, plan: Vec<Piece>, total: u64) -> Body {
    let (tx, rx) = mpsc::channel(CAPACITY);
    let pump = async move {
        let sent = send_pieces(file, &path, plan, tx).await;
        if let Err(err) = &sent {
            Python::attach(|py| log_error(py, &format!("FileResponse stopped: {err}; closing the connection"), None));
        }
        sent
    };
    Body::stream(Stream::new(rx, Box::pin(pump), Some(total)))
}

async fn send_pieces(
    file: Option<Arc<File>>,
    path: &str,
    plan: Vec<Piece>,
    tx: mpsc::Sender<Bytes>,
) -> Result<(), Aborted> {
    for piece in plan {
        match piece {
            Piece::Literal(bytes) => {
                if tx.send(bytes).await.is_err() {
                    return Ok(()); // the client went away
                }
            }
            Piece::Range(mut start, end) => {
                let Some(file) = &file else { break };
                while start < end {
                    let len = (end - start).min(CHUNK);
                    let chunk = read_at(Arc::clone(file), start, len)
                        .await
                        .map_err(|e| Aborted(format!("reading {path}: {e}")))?;
                    if chunk.is_empty() {
                        return Err(Aborted(format!("file at path {path} is shorter than expected")));
                    }
                    start += chunk.len() as u64;
                    if tx.send(chunk).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
    Ok(())
}

/// What a `Range` header asks of a file of `size` bytes, by Starlette's `FileResponse` rules.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ranges {
    /// Send the whole file (more than 100 ranges, or none Starlette would honour).
    Whole,
    /// Sorted, merged `[start, end)` ranges; one, or several for `multipart/byteranges`.
    Some(Vec<(u64, u64)>),
    /// 400 with this text.
    Malformed(&'static str),
    /// 416 with `content-range: bytes */size`.
    Unsatisfiable,
}

/// Starlette's `max_ranges`: a header with more is ignored (the whole file is sent).
const MAX_RANGES: usize = 100;

/// Starlette's `FileResponse._parse_range_header`.
pub(crate) fn parse_range(header: &str, size: u64) -> Ranges {
    let Some((units, spec)) = header.split_once('=') else { return Ranges::Malformed("Malformed range header.") };
    if !units.trim().eq_ignore_ascii_case("bytes") {
        return Ranges::Malformed("Only support bytes range");
    }
    if spec.matches(',').count() + 1 > MAX_RANGES {
        return Ranges::Whole;
    }
    let size = i128::from(size);
    let mut ranges: Vec<(i128, i128)> = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() || part == "-" || !part.contains('-') {
            continue;
        }
        let (start, end) = part.split_once('-').unwrap_or((part, ""));
        let (start, end) = (start.trim(), end.trim());
        let parsed = (|| {
            let start_v = if start.is_empty() { (size - py_int(end)?).max(0) } else { py_int(start)? };
            let end_v =
                if !start.is_empty() && !end.is_empty() && py_int(end)? < size { py_int(end)? + 1 } else { size };
            Some((start_v, end_v))
        })();
        if let Some(range) = parsed {
            ranges.push(range);
        }
    }
    if ranges.is_empty() {
        return Ranges::Malformed("Range header: range must be requested");
    }
    if ranges.iter().any(|&(start, _)| !(0 <= start && start < size)) {
        return Ranges::Unsatisfiable;
    }
    if ranges.iter().any(|&(start, end)| start >= end) {
        return Ranges::Malformed("Range header: start must be less than end");
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        let (start, end) = (start as u64, end as u64);
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    Ranges::Some(merged)
}

/// Python's `int(text)` for what a range holds: an optional sign, digits, single underscores
/// between digits; None where Python raises `ValueError`.
fn py_int(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let mut value: i128 = 0;
    for b in digits.bytes().filter(|&b| b != b'_') {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.saturating_mul(10).saturating_add(i128::from(b - b'0'));
    }
    Some(if negative { -value } else { value })
}

/// [`parse_range`] for `FileResponse._parse_range_header`: the merged ranges (empty: send
/// the whole file), a `str` (a 400 with that text), or None (a 416).
#[pyfunction]
pub(crate) fn byte_ranges(py: Python<'_>, header: &str, size: u64) -> PyResult<Py<PyAny>> {
    Ok(match parse_range(header, size) {
        Ranges::Whole => PyList::empty(py).into_any().unbind(),
        Ranges::Some(ranges) => PyList::new(py, ranges)?.into_any().unbind(),
        Ranges::Malformed(message) => message.into_pyobject(py)?.into_any().unbind(),
        Ranges::Unsatisfiable => py.None(),
    })
}

/// The pieces of a `multipart/byteranges` body for `ranges`, and its length, as Starlette's
/// `generate_multipart` and `_handle_multiple_ranges` write it.
pub(crate) fn multipart(ranges: &[(u64, u64)], size: u64, content_type: &str, boundary: &str) -> (Vec<Piece>, u64) {
    let mut plan = Vec::with_capacity(ranges.len() * 3 + 1);
    let mut total = 0u64;
    for &(start, end) in ranges {
        let head = format!(
            "--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {start}-{}/{size}\r\n\r\n",
            end - 1
        );
        total += head.len() as u64 + (end - start) + 2;
        plan.push(Piece::Literal(Bytes::from(head)));
        plan.push(Piece::Range(start, end));
        plan.push(Piece::Literal(Bytes::from_static(b"\r\n")));
    }
    let tail = format!("--{boundary}--");
    total += tail.len() as u64;
    plan.push(Piece::Literal(Bytes::from(tail)));
    (plan, total)
}

/// Up to `len` bytes at `offset`, read on the blocking pool.
async fn read_at(file: Arc<File>, offset: u64, len: u64) -> std::io::Result<Bytes> {
    let read = tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
        let n = file.read_at(&mut buf, offset)?;
        buf.truncate(n);
        Ok::<_, std::io::Error>(Bytes::from(buf))
    });
    read.await.map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::{parse_range, Ranges};

    #[test]
    fn ranges_as_starlette_reads_them() {
        assert_eq!(parse_range("bytes=0-9", 100), Ranges::Some(vec![(0, 10)]));
        assert_eq!(parse_range("bytes=90-", 100), Ranges::Some(vec![(90, 100)]));
        assert_eq!(parse_range("bytes=-10", 100), Ranges::Some(vec![(90, 100)]));
        assert_eq!(parse_range("bytes=-1000", 100), Ranges::Some(vec![(0, 100)]));
        assert_eq!(parse_range("bytes=0-999", 100), Ranges::Some(vec![(0, 100)]));
        assert_eq!(parse_range("bytes=20-29, 0-9,5-14", 100), Ranges::Some(vec![(0, 15), (20, 30)]));
        assert_eq!(parse_range("bytes=1_0-2_0", 100), Ranges::Some(vec![(10, 21)]));
        assert_eq!(parse_range("bytes=100-", 100), Ranges::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Ranges::Unsatisfiable);
        assert_eq!(parse_range("bytes=9-3", 100), Ranges::Malformed("Range header: start must be less than end"));
        assert_eq!(parse_range("bytes=x-y", 100), Ranges::Malformed("Range header: range must be requested"));
        assert_eq!(parse_range("bytes", 100), Ranges::Malformed("Malformed range header."));
        assert_eq!(parse_range("items=0-1", 100), Ranges::Malformed("Only support bytes range"));
        assert_eq!(parse_range(&format!("bytes={}", vec!["0-1"; 101].join(",")), 100), Ranges::Whole);
    }
}
