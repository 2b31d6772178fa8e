//! A streaming `multipart/form-data` parser with python-multipart's grammar and Starlette's limits.
//!
//! Fed chunk by chunk (an unread body as it arrives) or once (a body already read), it keeps
//! only what cannot be decided yet: a header line still arriving, or the tail of a chunk that
//! may be the start of a delimiter. Text parts are collected (at most `max_part_size` bytes);
//! file parts stay in memory up to `spool_max` bytes and are then written to an unlinked
//! temporary file, the way Starlette's `SpooledTemporaryFile(max_size=1 MiB)` rolls over.
//!
//! What it accepts and refuses follows python-multipart 0.0.34, so that answers match
//! FastAPI's: CR/LF before the first boundary are skipped, anything else there is an error;
//! header names are tokens, at most 8 headers of at most 4224 bytes per part; a delimiter
//! followed by neither CRLF, `--` nor space/tab padding is part data; the epilogue is ignored;
//! and a body that ends inside a part keeps the parts completed before it (the unfinished one
//! is dropped), as python-multipart's `finalize()` checks nothing.

use std::fs::File;
use std::io::Write;

use memchr::memmem::Finder;

const CR: u8 = b'\r';
const LF: u8 = b'\n';
/// python-multipart's `DEFAULT_MAX_HEADER_COUNT` and `DEFAULT_MAX_HEADER_SIZE`.
const MAX_HEADER_COUNT: usize = 8;
const MAX_HEADER_SIZE: usize = 4096 + 128;
/// python-multipart's `MAX_BOUNDARY_LENGTH`.
pub(crate) const MAX_BOUNDARY: usize = 256;

/// Header or parameter pairs as raw bytes, in order.
pub(crate) type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Starlette's limits for one form.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_files: usize,
    pub(crate) max_fields: usize,
    /// Largest text part, in bytes.
    pub(crate) max_part_size: usize,
    /// Largest file part kept in memory; larger ones go to a temporary file.
    pub(crate) spool_max: usize,
}

/// Why a form was refused: every case but `Io` is a 400 with Starlette's message.
#[derive(Debug)]
pub(crate) enum FormError {
    /// The bytes break the grammar (python-multipart raised): "Invalid multipart data."
    Invalid,
    NoName,
    TooManyFiles(usize),
    TooManyFields(usize),
    PartTooLarge(usize),
    FieldTooLarge(usize),
    /// Writing a spilled file failed.
    Io(std::io::Error),
}

impl FormError {
    /// Starlette's `MultiPartException` message, which FastAPI sends as the 400's detail.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Invalid => "Invalid multipart data.".to_owned(),
            Self::NoName => "The Content-Disposition header field \"name\" must be provided.".to_owned(),
            Self::TooManyFiles(n) => format!("Too many files. Maximum number of files is {n}."),
            Self::TooManyFields(n) => format!("Too many fields. Maximum number of fields is {n}."),
            Self::PartTooLarge(n) => format!("Part exceeded maximum size of {}KB.", n / 1024),
            Self::FieldTooLarge(n) => format!("Field exceeded maximum size of {}KB.", n / 1024),
            Self::Io(e) => format!("could not write an uploaded file to a temporary file: {e}"),
        }
    }
}

/// A file part's bytes: in memory, or in an unlinked temporary file (written, not rewound).
#[derive(Debug)]
pub(crate) enum Content {
    Memory(Vec<u8>),
    Disk(File),
}

#[derive(Debug)]
pub(crate) enum Value {
    Text(Vec<u8>),
    File {
        filename: Vec<u8>,
        /// Lower-cased names, raw values, in order.
        headers: Pairs,
        content: Content,
        size: usize,
    },
}

/// One completed part; names and text are raw bytes, decoded by the caller with the charset.
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) name: Vec<u8>,
    pub(crate) value: Value,
}

enum State {
    Start,
    StartBoundary,
    HeaderStart,
    Data,
    /// Spaces/tabs after a delimiter; `cr` once the CR was seen.
    Padding {
        cr: bool,
    },
    End,
}

#[derive(Default)]
struct Part {
    headers: Pairs,
    name: Vec<u8>,
    text: Vec<u8>,
    file: Option<(Vec<u8>, Content, usize)>,
}

pub(crate) struct Parser {
    /// `\r\n--boundary`: what ends a part.
    delim: Vec<u8>,
    finder: Finder<'static>,
    limits: Limits,
    state: State,
    /// Bytes received but not decided yet.
    pending: Vec<u8>,
    part: Part,
    files: usize,
    fields: usize,
    items: Vec<Item>,
}

impl Parser {
    /// `boundary` as given in the Content-Type; longer than 256 bytes is `Invalid`.
    pub(crate) fn new(boundary: &[u8], limits: Limits) -> Result<Self, FormError> {
        if boundary.len() > MAX_BOUNDARY {
            return Err(FormError::Invalid);
        }
        let mut delim = b"\r\n--".to_vec();
        delim.extend_from_slice(boundary);
        let finder = Finder::new(&delim).into_owned();
        Ok(Self {
            delim,
            finder,
            limits,
            state: State::Start,
            pending: Vec::new(),
            part: Part::default(),
            files: 0,
            fields: 0,
            items: Vec::new(),
        })
    }

    /// Parses the next chunk of the body.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<(), FormError> {
        if self.pending.is_empty() {
            let used = self.run(chunk)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            let mut data = std::mem::take(&mut self.pending);
            data.extend_from_slice(chunk);
            let used = self.run(&data)?;
            data.drain(..used);
            self.pending = data;
        }
        Ok(())
    }

    /// The completed parts, in order, once the body has ended.
    pub(crate) fn finish(self) -> Vec<Item> {
        self.items
    }

    /// Whether the closing delimiter was seen (the rest of the body is ignored).
    pub(crate) fn ended(&self) -> bool {
        matches!(self.state, State::End)
    }

    /// Consumes what can be decided from `data`; returns how many bytes that was.
    fn run(&mut self, data: &[u8]) -> Result<usize, FormError> {
        let mut i = 0;
        loop {
            let avail = &data[i..];
            match self.state {
                State::End => return Ok(data.len()),
                State::Start => {
                    let Some(&c) = avail.first() else { return Ok(i) };
                    // Leading CR/LF before the first delimiter are skipped, one by one, as
                    // python-multipart does; anything else must be the delimiter. (Skipping to
                    // the next '-' made the answer depend on how the body was chunked.)
                    if c == CR || c == LF {
                        i += 1;
                        continue;
                    }
                    self.state = State::StartBoundary;
                }
                State::StartBoundary => {
                    let want = &self.delim[2..];
                    let n = avail.len().min(want.len());
                    if avail[..n] != want[..n] {
                        return Err(FormError::Invalid);
                    }
                    let (Some(&a), Some(&b)) = (avail.get(want.len()), avail.get(want.len() + 1)) else {
                        return Ok(i);
                    };
                    i += want.len() + 2;
                    match (a, b) {
                        (b'-', b'-') => self.state = State::End,
                        (CR, LF) => self.begin_part(),
                        _ => return Err(FormError::Invalid),
                    }
                }
                State::HeaderStart => match self.header_line(avail)? {
                    None => return Ok(i),
                    Some(used) => i += used,
                },
                State::Data => match self.data(avail)? {
                    (used, true) => i += used,
                    (used, false) => return Ok(i + used),
                },
                State::Padding { cr } => {
                    let Some(&c) = avail.first() else { return Ok(i) };
                    i += 1;
                    match (cr, c) {
                        (false, CR) => self.state = State::Padding { cr: true },
                        (true, LF) => {
                            self.end_part();
                            self.begin_part();
                        }
                        (false, b' ' | b'\t') => {}
                        _ => return Err(FormError::Invalid),
                    }
                }
            }
        }
    }

    /// One header line, or the blank line that ends the headers. None: wait for more bytes.
    fn header_line(&mut self, avail: &[u8]) -> Result<Option<usize>, FormError> {
        let Some(&first) = avail.first() else { return Ok(None) };
        if first == CR {
            return match avail.get(1) {
                None => Ok(None),
                Some(&LF) => {
                    self.headers_finished()?;
                    self.state = State::Data;
                    Ok(Some(2))
                }
                Some(_) => Err(FormError::Invalid),
            };
        }
        if self.part.headers.len() >= MAX_HEADER_COUNT {
            return Err(FormError::Invalid);
        }
        let Some(colon) = avail.iter().position(|&b| !is_token(b)) else {
            return if avail.len() > MAX_HEADER_SIZE { Err(FormError::Invalid) } else { Ok(None) };
        };
        if avail[colon] != b':' || colon == 0 {
            return Err(FormError::Invalid);
        }
        let start = colon + 1 + avail[colon + 1..].iter().take_while(|&&b| b == b' ').count();
        let Some(len) = memchr::memchr(CR, &avail[start..]) else {
            return if avail.len() > MAX_HEADER_SIZE { Err(FormError::Invalid) } else { Ok(None) };
        };
        let end = start + len;
        if end > MAX_HEADER_SIZE {
            return Err(FormError::Invalid);
        }
        match avail.get(end + 1) {
            None => return Ok(None),
            Some(&LF) => {}
            Some(_) => return Err(FormError::Invalid),
        }
        self.part.headers.push((avail[..colon].to_ascii_lowercase(), avail[start..end].to_vec()));
        Ok(Some(end + 2))
    }

    /// Starlette's `on_headers_finished`: the part's name, file or field, and the counts.
    fn headers_finished(&mut self) -> Result<(), FormError> {
        let disposition =
            self.part.headers.iter().rev().find(|(k, _)| k == b"content-disposition").map(|(_, v)| v.as_slice());
        let (_, options) = parse_options_header(disposition.unwrap_or(b""));
        let get = |key: &[u8]| options.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        self.part.name = get(b"name").ok_or(FormError::NoName)?;
        if let Some(filename) = get(b"filename") {
            self.files += 1;
            if self.files > self.limits.max_files {
                return Err(FormError::TooManyFiles(self.limits.max_files));
            }
            self.part.file = Some((filename, Content::Memory(Vec::new()), 0));
        } else {
            self.fields += 1;
            if self.fields > self.limits.max_fields {
                return Err(FormError::TooManyFields(self.limits.max_fields));
            }
        }
        Ok(())
    }

    /// Part data up to the next delimiter. Returns the bytes consumed and whether parsing
    /// can go on in the new state (false: wait for more bytes).
    fn data(&mut self, avail: &[u8]) -> Result<(usize, bool), FormError> {
        let dl = self.delim.len();
        let Some(p) = self.finder.find(avail) else {
            let keep = partial_delimiter(avail, &self.delim);
            self.emit(&avail[..avail.len() - keep])?;
            return Ok((avail.len() - keep, false));
        };
        let after = p + dl;
        let (Some(&a), b) = (avail.get(after), avail.get(after + 1)) else {
            self.emit(&avail[..p])?;
            return Ok((p, false));
        };
        match (a, b) {
            (CR | b'-', None) => {
                self.emit(&avail[..p])?;
                Ok((p, false))
            }
            (CR, Some(&LF)) => {
                self.emit(&avail[..p])?;
                self.end_part();
                self.begin_part();
                Ok((after + 2, true))
            }
            (b'-', Some(&b'-')) => {
                self.emit(&avail[..p])?;
                self.end_part();
                self.state = State::End;
                Ok((after + 2, true))
            }
            (b' ' | b'\t', _) => {
                self.emit(&avail[..p])?;
                self.state = State::Padding { cr: false };
                Ok((after + 1, true))
            }
            // Not a delimiter after all: data, and the search goes on after it.
            (CR | b'-', Some(_)) => {
                self.emit(&avail[..=after])?;
                Ok((after + 1, true))
            }
            _ => {
                self.emit(&avail[..after])?;
                Ok((after, true))
            }
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<(), FormError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let Some((_, content, size)) = &mut self.part.file else {
            if self.part.text.len() + bytes.len() > self.limits.max_part_size {
                return Err(FormError::PartTooLarge(self.limits.max_part_size));
            }
            self.part.text.extend_from_slice(bytes);
            return Ok(());
        };
        *size += bytes.len();
        match content {
            Content::Memory(mem) if mem.len() + bytes.len() > self.limits.spool_max => {
                let mut file = tempfile::tempfile().map_err(FormError::Io)?;
                file.write_all(mem).and_then(|()| file.write_all(bytes)).map_err(FormError::Io)?;
                *content = Content::Disk(file);
            }
            Content::Memory(mem) => mem.extend_from_slice(bytes),
            Content::Disk(file) => file.write_all(bytes).map_err(FormError::Io)?,
        }
        Ok(())
    }

    fn begin_part(&mut self) {
        self.part = Part::default();
        self.state = State::HeaderStart;
    }

    fn end_part(&mut self) {
        let part = std::mem::take(&mut self.part);
        let value = match part.file {
            None => Value::Text(part.text),
            Some((filename, content, size)) => Value::File { filename, headers: part.headers, content, size },
        };
        self.items.push(Item { name: part.name, value });
    }
}

/// How many bytes at the end of `data` may begin a delimiter that the next chunk completes.
fn partial_delimiter(data: &[u8], delim: &[u8]) -> usize {
    let from = data.len().saturating_sub(delim.len() - 1);
    (from..data.len()).find(|&k| data[k] == CR && delim.starts_with(&data[k..])).map_or(0, |k| data.len() - k)
}

/// RFC 7230 token characters, the only ones python-multipart allows in a header name.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// python-multipart's `parse_options_header` on raw (latin-1) bytes: the lower-cased value
/// before the first `;`, and the parameters in order (later duplicates win for the caller).
/// Keys are lower-cased when they carry a value; quoted values are unquoted (`\\` and `\"`
/// unescaped); RFC 2231 `key*=` parameters are ignored, as RFC 7578 forbids them; a
/// `filename` with a Windows path (`C:\...`, `\\...`) keeps only its last component.
pub(crate) fn parse_options_header(value: &[u8]) -> (Vec<u8>, Pairs) {
    let strip = |s: &[u8]| -> Vec<u8> { trim(s).to_vec() };
    if value.is_empty() {
        return (Vec::new(), Vec::new());
    }
    if !value.contains(&b';') {
        return (strip(value).to_ascii_lowercase(), Vec::new());
    }
    let mut segments = split_params(value).into_iter();
    let ctype = segments.next().unwrap_or_default().to_ascii_lowercase();
    let mut options = Vec::new();
    for segment in segments {
        let (key, val) = match memchr::memchr(b'=', &segment) {
            Some(eq) => (&segment[..eq], &segment[eq + 1..]),
            None => (&segment[..], &b""[..]),
        };
        if key.contains(&b'*') {
            continue;
        }
        let mut val = if val.len() >= 2 && val[0] == b'"' && val[val.len() - 1] == b'"' {
            unescape(&val[1..val.len() - 1])
        } else {
            val.to_vec()
        };
        if key == b"filename" && (val.get(1..3) == Some(b":\\") || val.starts_with(b"\\\\")) {
            let last = val.iter().rposition(|&b| b == b'\\').map_or(0, |p| p + 1);
            val.drain(..last);
        }
        options.push((key.to_vec(), val));
    }
    (ctype, options)
}

fn trim(s: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = s.iter().position(|b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ws(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

/// `;`-separated segments, a `;` inside double quotes not splitting; `key = value` becomes
/// `key=value` with the key lower-cased, as the email module's `_parseparam` does.
fn split_params(s: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut push = |seg: &[u8]| {
        out.push(match memchr::memchr(b'=', seg) {
            Some(eq) => {
                let mut joined = trim(&seg[..eq]).to_ascii_lowercase();
                joined.push(b'=');
                joined.extend_from_slice(trim(&seg[eq + 1..]));
                joined
            }
            None => trim(seg).to_vec(),
        });
    };
    let (mut start, mut quoted) = (0, false);
    for (i, &b) in s.iter().enumerate() {
        if b == b'"' && (i == 0 || s[i - 1] != b'\\') {
            quoted = !quoted;
        } else if b == b';' && !quoted {
            push(&s[start..i]);
            start = i + 1;
        }
    }
    push(&s[start..]);
    out
}

/// `\\` → `\`, then `\"` → `"`, in that order (python-multipart's two `replace` calls).
fn unescape(s: &[u8]) -> Vec<u8> {
    let once = replace(s, b"\\\\", b"\\");
    replace(&once, b"\\\"", b"\"")
}

fn replace(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Parses `body` fed in chunks of `split` bytes: each part as (name, text or file content), or
/// the error's message. For the property tests (`src/proptests.rs`).
#[cfg(test)]
pub(crate) fn parse_all(
    boundary: &[u8],
    body: &[u8],
    split: usize,
    limits: Limits,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String> {
    let mut parser = Parser::new(boundary, limits).map_err(|e| e.message())?;
    for chunk in body.chunks(split.max(1)) {
        parser.feed(chunk).map_err(|e| e.message())?;
    }
    Ok(parser
        .finish()
        .into_iter()
        .map(|item| match item.value {
            Value::Text(text) => (item.name, text),
            Value::File { content: Content::Memory(m), .. } => (item.name, m.to_vec()),
            Value::File { .. } => (item.name, b"<spilled>".to_vec()),
        })
        .collect())
}

#[cfg(test)]
#[path = "multipart_tests.rs"]
mod tests;
