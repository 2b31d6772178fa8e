//! A `StaticFiles` mount answered from Rust, as Starlette's `StaticFiles` answers: no Python on
//! the request path.
//!
//! The rest of the path is normalised as `os.path.normpath` would, joined to each directory in
//! turn and resolved (`realpath`, or only lexically with `follow_symlink`); a file whose
//! resolved path is not inside its directory is not served, so `..`, encoded `%2e%2e`/`%2f`
//! (decoded before this), absolute paths and symlinks out of the root all end as a 404. Then
//! Starlette's answers: 405 for methods other than GET/HEAD, `304` on `If-None-Match` /
//! `If-Modified-Since`, `Range` (206, `multipart/byteranges`, 416, 400), `html=True`'s
//! `index.html`, its redirect to the directory's slash, and `404.html`. Headers and their
//! order are `FileResponse`'s. Files up to `INLINE` bytes are read at once on the worker (a
//! page-cache copy); larger ones stream in 64 KiB positioned reads on the blocking pool.

use std::fmt::Write as _;
use std::fs::{File, Metadata};
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, SERVER};
use hyper::http::request::Parts;
use hyper::{HeaderMap, StatusCode};

use crate::response::background::log_error;
use crate::response::body::Body;
use crate::response::convert::{HttpResponse, SERVER_NAME};
use crate::response::file::{self, Piece, Ranges};
use crate::response::file_meta;
use crate::routing::FileRoot;

/// Files up to this size are read whole on the worker; larger ones are streamed.
const INLINE: u64 = 256 * 1024;

/// What a static mount makes of a request.
pub(crate) enum Served {
    Response(HttpResponse),
    /// Starlette raises `HTTPException` for these; the app's handlers (or FastAPI's JSON
    /// answer) take them from here.
    Error(StaticError),
    /// `html=True`, a directory with an `index.html` asked for without its trailing slash:
    /// a 307 to the path with a slash added.
    AddSlash,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StaticError {
    NotFound,
    /// 405 with `Allow: GET, HEAD`.
    MethodNotAllowed,
    /// A `PermissionError` on the way: Starlette's 401.
    Unauthorized,
}

/// Why a lookup failed in a way that is not "not here".
enum Failure {
    Status(StaticError),
    Io(io::Error),
}

/// Serves `rest` (the decoded path after the mount's prefix, starting with '/').
pub(crate) fn serve(root: &FileRoot, rest: &str, parts: &Parts) -> Served {
    let method = parts.method.as_str();
    if let Some(message) = root.check.as_ref().and_then(|check| check.failure()) {
        pyo3::Python::attach(|py| log_error(py, &format!("RuntimeError: {message}"), None));
        return Served::Response(crate::response::internal_error());
    }
    if method != "GET" && method != "HEAD" {
        return Served::Error(StaticError::MethodNotAllowed);
    }
    match answer(root, rest, parts) {
        Ok(served) => served,
        Err(Failure::Status(e)) => Served::Error(e),
        Err(Failure::Io(e)) => {
            let message = format!("StaticFiles could not serve {rest:?}: {e}");
            pyo3::Python::attach(|py| log_error(py, &message, None));
            Served::Response(crate::response::internal_error())
        }
    }
}

fn answer(root: &FileRoot, rest: &str, parts: &Parts) -> Result<Served, Failure> {
    let path = normpath(rest);
    if let Some((full, meta)) = lookup(root, &path)? {
        if meta.is_file() {
            return Ok(Served::Response(file_response(root, &full, &meta, parts, StatusCode::OK)?));
        }
        if meta.is_dir() && root.html {
            let index = if path == "." { "index.html".to_owned() } else { format!("{path}/index.html") };
            if let Some((full, meta)) = lookup(root, &index)? {
                if meta.is_file() {
                    if !rest.ends_with('/') {
                        return Ok(Served::AddSlash);
                    }
                    return Ok(Served::Response(file_response(root, &full, &meta, parts, StatusCode::OK)?));
                }
            }
        }
    }
    if root.html {
        if let Some((full, meta)) = lookup(root, "404.html")? {
            if meta.is_file() {
                return Ok(Served::Response(file_response(root, &full, &meta, parts, StatusCode::NOT_FOUND)?));
            }
        }
    }
    Err(Failure::Status(StaticError::NotFound))
}

/// `os.path.normpath(os.path.join(*rest.split("/")))`: empty and `.` parts dropped, `..` taking
/// back the part before it (leading ones kept), "." for nothing.
fn normpath(rest: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// Starlette's `lookup_path`: the first directory holding `path` inside itself, with the
/// file's resolved path and metadata (followed through symlinks, as `os.stat`).
fn lookup(root: &FileRoot, path: &str) -> Result<Option<(String, Metadata)>, Failure> {
    if path.starts_with('\\') || path.starts_with('/') {
        return Ok(None);
    }
    if path.contains('\0') {
        return Ok(None); // Python's ValueError for a NUL: Starlette's 404
    }
    for directory in &root.directories {
        let joined = directory.join(path);
        let (full, base) = if root.follow_symlink {
            (lexical_absolute(&joined), directory.as_path())
        } else {
            match std::fs::canonicalize(&joined) {
                Ok(full) => (full, directory.as_path()),
                Err(e) => {
                    not_here(e)?;
                    continue;
                }
            }
        };
        if !(full == base || full.starts_with(base)) {
            continue; // outside the directory: a misbehaving client
        }
        match std::fs::metadata(&full) {
            Ok(meta) => return Ok(Some((full.to_string_lossy().into_owned(), meta))),
            Err(e) => not_here(e)?,
        }
    }
    Ok(None)
}

/// A lookup error that means "try the next directory" (Ok), or Starlette's answer to it.
fn not_here(e: io::Error) -> Result<(), Failure> {
    match e.kind() {
        ErrorKind::NotFound | ErrorKind::NotADirectory => Ok(()),
        ErrorKind::PermissionDenied => Err(Failure::Status(StaticError::Unauthorized)),
        ErrorKind::InvalidFilename | ErrorKind::InvalidInput => Err(Failure::Status(StaticError::NotFound)),
        _ if e.raw_os_error() == Some(libc::ENAMETOOLONG) => Err(Failure::Status(StaticError::NotFound)),
        _ => Err(Failure::Io(e)),
    }
}

/// `os.path.abspath`: made absolute and normalised without looking at the disk.
fn lexical_absolute(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(path)
    };
    let mut out = PathBuf::from("/");
    for part in absolute.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

/// Starlette's `file_response`: a `FileResponse` with the stat headers, or a 304 when the
/// request's validators match (only for 200s, as `StaticFiles` checks only those).
fn file_response(
    root: &FileRoot,
    full: &str,
    meta: &Metadata,
    parts: &Parts,
    status: StatusCode,
) -> Result<HttpResponse, Failure> {
    let size = meta.len();
    let mtime = file_meta::mtime(meta);
    let etag = file_meta::etag(mtime, size);
    let last_modified = file_meta::http_date(mtime);
    let content_type = file_meta::content_type(&root.mime, full);
    let request = &parts.headers;
    if status == StatusCode::OK && not_modified(request, &etag, &last_modified) {
        let mut resp = hyper::Response::new(Body::full(Bytes::new()));
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        let h = resp.headers_mut();
        h.insert(SERVER, SERVER_NAME.clone());
        h.insert(hyper::header::ETAG, value(&etag));
        return Ok(resp);
    }
    let head_only = parts.method == hyper::Method::HEAD;
    let mut headers = vec![
        (CONTENT_TYPE, content_type.clone()),
        (hyper::header::ACCEPT_RANGES, "bytes".to_owned()),
        (CONTENT_LENGTH, size.to_string()),
        (hyper::header::LAST_MODIFIED, last_modified.clone()),
        (hyper::header::ETAG, etag.clone()),
    ];
    let range = latin1(request, &hyper::header::RANGE);
    let use_range = status == StatusCode::OK
        && range.is_some()
        && latin1(request, &hyper::header::IF_RANGE)
            .is_none_or(|r| !r.starts_with("W/") && (r == last_modified || r == etag));
    let ranges = if use_range { file::parse_range(range.as_deref().unwrap_or(""), size) } else { Ranges::Whole };
    match ranges {
        Ranges::Whole => {
            let plan = if head_only { Vec::new() } else { vec![Piece::Range(0, size)] };
            send(status, headers, full, plan, size)
        }
        Ranges::Some(ranges) if ranges.len() == 1 => {
            let (start, end) = ranges[0];
            headers[2].1 = (end - start).to_string();
            headers.push((hyper::header::CONTENT_RANGE, format!("bytes {start}-{}/{size}", end - 1)));
            let plan = if head_only { Vec::new() } else { vec![Piece::Range(start, end)] };
            send(StatusCode::PARTIAL_CONTENT, headers, full, plan, end - start)
        }
        Ranges::Some(ranges) => {
            let boundary = boundary();
            let (plan, total) = file::multipart(&ranges, size, &content_type, &boundary);
            headers[0].1 = format!("multipart/byteranges; boundary={boundary}");
            headers[2].1 = total.to_string();
            let plan = if head_only { Vec::new() } else { plan };
            send(StatusCode::PARTIAL_CONTENT, headers, full, plan, total)
        }
        Ranges::Malformed(message) => Ok(plain(StatusCode::BAD_REQUEST, Vec::new(), message)),
        Ranges::Unsatisfiable => Ok(plain(
            StatusCode::RANGE_NOT_SATISFIABLE,
            vec![(hyper::header::CONTENT_RANGE, format!("bytes */{size}"))],
            "",
        )),
    }
}

/// Starlette's `is_not_modified`.
fn not_modified(request: &HeaderMap, etag: &str, last_modified: &str) -> bool {
    if let Some(if_none_match) = latin1(request, &hyper::header::IF_NONE_MATCH).filter(|v| !v.is_empty()) {
        if if_none_match.trim() == "*" {
            return true;
        }
        return if_none_match.split(',').any(|tag| {
            let tag = tag.trim();
            tag.strip_prefix("W/").unwrap_or(tag) == etag
        });
    }
    let Some(since) = latin1(request, &hyper::header::IF_MODIFIED_SINCE) else { return false };
    match (file_meta::parsedate(&since), file_meta::parsedate(last_modified)) {
        (Some(since), Some(modified)) => since >= modified,
        _ => false,
    }
}

/// The first value of a request header, decoded as latin-1 (Starlette's `Headers.get`).
fn latin1(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers.get(name).map(|v| v.as_bytes().iter().map(|&b| char::from(b)).collect())
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The response: small files read now, larger ones streamed from the file.
fn send(
    status: StatusCode,
    headers: Vec<(HeaderName, String)>,
    full: &str,
    plan: Vec<Piece>,
    total: u64,
) -> Result<HttpResponse, Failure> {
    // HEAD: no pieces, an empty body of known length; the headers keep the file's length.
    let total = if plan.is_empty() { 0 } else { total };
    let body = match plan.as_slice() {
        [Piece::Range(start, end)] if total <= INLINE => {
            let file = File::open(full).map_err(Failure::Io)?;
            let mut buf = vec![0u8; (end - start) as usize];
            let mut read = 0;
            while read < buf.len() {
                match file.read_at(&mut buf[read..], start + read as u64) {
                    Ok(0) => return Err(Failure::Io(io::Error::other(format!("{full} is shorter than expected")))),
                    Ok(n) => read += n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(Failure::Io(e)),
                }
            }
            Body::full(buf)
        }
        _ => {
            let needs_file = plan.iter().any(|p| matches!(p, Piece::Range(..)));
            let file = if needs_file { Some(Arc::new(File::open(full).map_err(Failure::Io)?)) } else { None };
            file::streamed(file, full.to_owned(), plan, total)
        }
    };
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(SERVER, SERVER_NAME.clone());
    for (name, text) in headers {
        h.append(name, value(&text));
    }
    Ok(resp)
}

/// A `PlainTextResponse`: `headers`, then content-length and content-type, as Starlette orders them.
fn plain(status: StatusCode, headers: Vec<(HeaderName, String)>, text: &'static str) -> HttpResponse {
    let mut resp = hyper::Response::new(Body::full(Bytes::from_static(text.as_bytes())));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(SERVER, SERVER_NAME.clone());
    for (name, text) in headers {
        h.append(name, value(&text));
    }
    h.append(CONTENT_LENGTH, HeaderValue::from(text.len()));
    h.append(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}

/// 26 random hex digits, as Starlette's `token_hex(13)`.
fn boundary() -> String {
    let mut bytes = [0u8; 13];
    // SAFETY: writes at most `bytes.len()` bytes into the buffer.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if got != 13 {
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        bytes.copy_from_slice(&seed.to_le_bytes()[..13]);
    }
    bytes.iter().fold(String::with_capacity(26), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::normpath;

    #[test]
    fn paths_as_normpath_leaves_them() {
        assert_eq!(normpath("/"), ".");
        assert_eq!(normpath("/css/a.css"), "css/a.css");
        assert_eq!(normpath("//a//./b/"), "a/b");
        assert_eq!(normpath("/a/../b"), "b");
        assert_eq!(normpath("/../../etc/passwd"), "../../etc/passwd");
        assert_eq!(normpath("/a/../../x"), "../x");
        assert_eq!(normpath("/\\etc\\passwd"), "\\etc\\passwd");
    }
}
