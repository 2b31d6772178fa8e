//! File bodies: a `FileResponse` sent from Rust, in chunks read off the worker.
//!
//! Python decides what to send, as Starlette's `FileResponse` does (`_file_plan`: the stat
//! headers, `Range`/`If-Range`, 206/416/400, multipart byte ranges, `HEAD`) and hands over a
//! list of pieces: `(start, end)` byte ranges of the file and literal `bytes` (the multipart
//! part headers). Rust opens the file at once (a failure is an exception for the error
//! handler, before anything is sent) and reads each range in 64 KiB chunks with positioned
//! reads on the worker's blocking pool, one chunk ahead of the client at most: the chunks go
//! through the same bounded channel as a streamed body, which hyper drains as the client reads.

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

enum Piece {
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
    // Even an empty body (HEAD, an empty file) is a stream of known length, not a whole one:
    // hyper then writes the plan's content-length where the plan put it, as Starlette does.
    let file =
        if plan.iter().any(|p| matches!(p, Piece::Range(..))) { Some(Arc::new(File::open(path)?)) } else { None };
    let (tx, rx) = mpsc::channel(CAPACITY);
    let path = path.to_owned();
    let pump = async move {
        let sent = send_pieces(file, &path, plan, tx).await;
        if let Err(err) = &sent {
            Python::attach(|py| log_error(py, &format!("FileResponse stopped: {err}; closing the connection"), None));
        }
        sent
    };
    Ok(Body::stream(Stream::new(rx, Box::pin(pump), Some(total))))
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
