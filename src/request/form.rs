//! Forms for Python: multipart bodies parsed in Rust (read or streamed), and urlencoded ones.
//!
//! `fastcore.formparsers` chooses the parser from the Content-Type (read with
//! `parse_options_header` below, python-multipart's rules) and calls `RawRequest.parse_multipart`
//! (a body already read: sync handlers) or `RawRequest.read_multipart` (an awaitable that
//! streams the unread body of an async handler through the parser as it arrives). Both hand
//! back plain tuples: `(name, value)` for a text part, `(name, filename, headers, content,
//! size)` for a file part, where `content` is `bytes` (at most 1 MiB, kept in memory) or the
//! `int` file descriptor of an unlinked temporary file the part was spilled to, which Python
//! owns from then on. Names, values and filenames are `str` for UTF-8 and latin-1 forms
//! (undecodable UTF-8 falls back to latin-1, as Starlette does), `bytes` for other charsets.
//! A refused form raises `fastcore.exceptions.HTTPException(400, <Starlette's message>)`.

use std::borrow::Cow;
use std::os::fd::IntoRawFd;

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::request::body::{BodyError, BodySlot, Taken};
use crate::request::multipart::{self, Content, FormError, Item, Limits, Parser, Value};
use crate::runtime::{Awaitable, Completion};

/// How names and values are turned into Python strings.
#[derive(Clone, Copy)]
enum Charset {
    Utf8,
    Latin1,
    /// Handed over as bytes; Python decodes them.
    Other,
}

impl Charset {
    /// From a Python codec name (`codecs.lookup(charset).name`).
    fn from_codec(name: &str) -> Self {
        match name {
            "utf-8" => Self::Utf8,
            "iso8859-1" | "latin-1" => Self::Latin1,
            _ => Self::Other,
        }
    }

    fn to_py<'py>(self, py: Python<'py>, b: &[u8]) -> Bound<'py, PyAny> {
        match self {
            Self::Utf8 => match std::str::from_utf8(b) {
                Ok(s) => PyString::new(py, s).into_any(),
                Err(_) => PyString::new(py, &latin1(b)).into_any(),
            },
            Self::Latin1 => PyString::new(py, &latin1(b)).into_any(),
            Self::Other => PyBytes::new(py, b).into_any(),
        }
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// Why reading a form failed: the form itself, or the body under it.
enum ReadError {
    Form(FormError),
    Body(BodyError),
}

impl From<FormError> for ReadError {
    fn from(e: FormError) -> Self {
        Self::Form(e)
    }
}

impl ReadError {
    fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self {
            Self::Body(e) => e.into_pyerr(py),
            Self::Form(FormError::Io(e)) => PyOSError::new_err(FormError::Io(e).message()),
            Self::Form(e) => http_exception(py, 400, &e.message()),
        }
    }
}

fn http_exception(py: Python<'_>, status: u16, detail: &str) -> PyErr {
    static T: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    match T.import(py, "fastcore.exceptions", "HTTPException").and_then(|t| t.call1((status, detail))) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// The arguments of both multipart entry points.
pub(crate) struct MultipartArgs<'a> {
    pub(crate) boundary: &'a [u8],
    pub(crate) charset: &'a str,
    pub(crate) limits: Limits,
}

/// `RawRequest.parse_multipart`: parses a body already read, detached from the interpreter.
pub(crate) fn parse_read(py: Python<'_>, slot: &BodySlot, args: &MultipartArgs<'_>) -> PyResult<Py<PyList>> {
    let Some(body) = slot.read() else {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "the body of a request to an async handler is not read yet: use `await request.form()`",
        ));
    };
    parse_bytes(py, &body.bytes, args)
}

fn parse_bytes(py: Python<'_>, body: &[u8], args: &MultipartArgs<'_>) -> PyResult<Py<PyList>> {
    let (boundary, limits) = (args.boundary, args.limits);
    let parsed = py.detach(|| {
        let mut parser = Parser::new(boundary, limits)?;
        parser.feed(body)?;
        Ok::<_, FormError>(parser.finish())
    });
    match parsed {
        Ok(items) => items_to_py(py, items, Charset::from_codec(args.charset)),
        Err(e) => Err(ReadError::Form(e).into_pyerr(py)),
    }
}

/// `parse_multipart(body, boundary, ...)`: a multipart body given as bytes (no request), as
/// `RawRequest.parse_multipart` parses a read one; for tools and benchmarks.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(crate) fn parse_multipart(
    py: Python<'_>,
    body: &[u8],
    boundary: &[u8],
    charset: &str,
    max_files: usize,
    max_fields: usize,
    max_part_size: usize,
    spool_max: usize,
) -> PyResult<Py<PyList>> {
    let limits = Limits { max_files, max_fields, max_part_size, spool_max };
    parse_bytes(py, body, &MultipartArgs { boundary, charset, limits })
}

/// `RawRequest.read_multipart`: an awaitable parsing the body as it arrives (or the bytes, if
/// it was read already). The rest of a body after the closing delimiter is read and dropped.
pub(crate) fn read(slot: &BodySlot, args: &MultipartArgs<'_>) -> PyResult<Awaitable> {
    let taken = slot.take()?;
    let (boundary, limits, charset) = (args.boundary.to_vec(), args.limits, Charset::from_codec(args.charset));
    Ok(Awaitable::new("request.form", async move {
        let parsed = async {
            let mut parser = Parser::new(&boundary, limits)?;
            match taken {
                Taken::Read(body) => parser.feed(&body)?,
                Taken::Stream(mut stream) => {
                    while let Some(chunk) = stream.next().await {
                        let chunk = chunk.map_err(ReadError::Body)?;
                        if !parser.ended() {
                            parser.feed(&chunk)?;
                        }
                    }
                }
            }
            Ok::<_, ReadError>(parser.finish())
        }
        .await;
        Box::new(move |py: Python<'_>| match parsed {
            Ok(items) => items_to_py(py, items, charset).map(Py::into_any),
            Err(e) => Err(e.into_pyerr(py)),
        }) as Completion
    }))
}

fn items_to_py(py: Python<'_>, items: Vec<Item>, charset: Charset) -> PyResult<Py<PyList>> {
    let list = PyList::empty(py);
    for item in items {
        let name = charset.to_py(py, &item.name);
        let tuple = match item.value {
            Value::Text(text) => PyTuple::new(py, [name, charset.to_py(py, &text)])?,
            Value::File { filename, headers, content, size } => {
                let headers = PyList::new(
                    py,
                    headers.iter().map(|(k, v)| (PyString::new(py, &latin1(k)), PyString::new(py, &latin1(v)))),
                )?;
                let content = match content {
                    Content::Memory(mem) => PyBytes::new(py, &mem).into_any(),
                    Content::Disk(file) => file.into_raw_fd().into_pyobject(py)?.into_any(),
                };
                PyTuple::new(
                    py,
                    [
                        name,
                        charset.to_py(py, &filename),
                        headers.into_any(),
                        content,
                        size.into_pyobject(py)?.into_any(),
                    ],
                )?
            }
        };
        list.append(tuple)?;
    }
    Ok(list.unbind())
}

/// `parse_options_header(value)`: python-multipart's reading of a Content-Type or
/// Content-Disposition value, on its latin-1 text: `(value, [(key, value), ...])`.
#[pyfunction]
pub(crate) fn parse_options_header(value: &str) -> (String, Vec<(String, String)>) {
    let bytes: Vec<u8> = value.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect();
    let (ctype, options) = multipart::parse_options_header(&bytes);
    (latin1(&ctype), options.iter().map(|(k, v)| (latin1(k), latin1(v))).collect())
}

/// `parse_urlencoded(body, max_fields, max_part_size)`: an `application/x-www-form-urlencoded`
/// body as Starlette's `FormParser` reads it: fields split on `&` only, empty ones skipped, a
/// field without `=` has the value `""`, and `unquote_plus` of the latin-1 text (so `%XX`
/// runs decode as UTF-8, raw non-ASCII bytes as latin-1).
#[pyfunction]
pub(crate) fn parse_urlencoded(
    py: Python<'_>,
    body: &[u8],
    max_fields: usize,
    max_part_size: usize,
) -> PyResult<Vec<(String, String)>> {
    urlencoded(body, max_fields, max_part_size).map_err(|e| http_exception(py, 400, &e.message()))
}

pub(crate) fn urlencoded(
    body: &[u8],
    max_fields: usize,
    max_part_size: usize,
) -> Result<Vec<(String, String)>, FormError> {
    let mut out = Vec::new();
    for field in body.split(|&b| b == b'&').filter(|f| !f.is_empty()) {
        if field.len() - usize::from(field.contains(&b'=')) > max_part_size {
            return Err(FormError::FieldTooLarge(max_part_size));
        }
        if out.len() + 1 > max_fields {
            return Err(FormError::TooManyFields(max_fields));
        }
        let (name, value) = match memchr::memchr(b'=', field) {
            Some(eq) => (&field[..eq], &field[eq + 1..]),
            None => (field, &b""[..]),
        };
        out.push((unquote_plus(name), unquote_plus(value)));
    }
    Ok(out)
}

/// Python's `unquote_plus(b.decode("latin-1"))`: `+` is a space; each run of ASCII is
/// percent-decoded (invalid escapes kept) and read as UTF-8 with replacement characters;
/// other bytes are latin-1 characters.
fn unquote_plus(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut rest = b;
    while !rest.is_empty() {
        let ascii = rest.iter().position(|c| !c.is_ascii()).unwrap_or(rest.len());
        if ascii == 0 {
            out.push(char::from(rest[0]));
            rest = &rest[1..];
            continue;
        }
        let run: Vec<u8> = rest[..ascii].iter().map(|&c| if c == b'+' { b' ' } else { c }).collect();
        let decoded: Cow<'_, [u8]> = percent_encoding::percent_decode(&run).into();
        out.push_str(&String::from_utf8_lossy(&decoded));
        rest = &rest[ascii..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{unquote_plus, urlencoded};
    use crate::request::multipart::FormError;

    fn pairs(body: &[u8]) -> Vec<(String, String)> {
        urlencoded(body, 1000, 1 << 20).unwrap()
    }

    #[test]
    fn splits_on_ampersand_only_and_keeps_blanks() {
        let p = pairs(b"a=1&b=&c=%20x+y&&d&e=%zz&=v&f=1;g=2");
        let want = [("a", "1"), ("b", ""), ("c", " x y"), ("d", ""), ("e", "%zz"), ("", "v"), ("f", "1;g=2")];
        assert_eq!(p, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
        assert!(pairs(b"").is_empty());
        assert!(pairs(b"&&").is_empty());
    }

    #[test]
    fn unquotes_like_python() {
        assert_eq!(unquote_plus(b"%C3%A9t%C3%A9"), "\u{e9}t\u{e9}");
        assert_eq!(unquote_plus(b"%2B+"), "+ ");
        // Raw UTF-8 bytes are latin-1 characters; a lone %C3 is a replacement character.
        assert_eq!(unquote_plus("é".as_bytes()), "\u{c3}\u{a9}");
        assert_eq!(unquote_plus(b"%C3x"), "\u{fffd}x");
    }

    #[test]
    fn limits() {
        assert!(matches!(urlencoded(b"a=1&b=2&c=3", 2, 100), Err(FormError::TooManyFields(2))));
        assert_eq!(urlencoded(b"a=1&b=2", 2, 100).unwrap().len(), 2);
        // name + value bytes, the `=` not counted
        assert!(urlencoded(b"ab=cd", 10, 4).is_ok());
        assert!(matches!(urlencoded(b"ab=cde", 10, 4), Err(FormError::FieldTooLarge(4))));
        assert_eq!(FormError::FieldTooLarge(1 << 20).message(), "Field exceeded maximum size of 1024KB.");
    }
}
