//! `TrustedHostMiddleware` and `HTTPSRedirectMiddleware`, Starlette's, and the URL pieces they
//! share with the trailing-slash redirect: the `Host` header parsed as Starlette parses it,
//! and a redirect URL quoted as `RedirectResponse` quotes it.

use hyper::header::{HeaderValue, HOST, UPGRADE};
use hyper::StatusCode;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::middleware::{latin1, Note, Request, Step};
use crate::request::Https;
use crate::response::{self, HttpResponse};

/// What Python's `quote(url, safe=":/%#?=@[]!$&'()*+,;")` leaves alone, besides letters and
/// digits: its always-safe `_.-~` and that `safe` list.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b':')
    .remove(b'/')
    .remove(b'%')
    .remove(b'#')
    .remove(b'?')
    .remove(b'=')
    .remove(b'@')
    .remove(b'[')
    .remove(b']')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';');

/// `RedirectResponse(url)`'s quoting of `url`.
pub(crate) fn quote_url(url: &str) -> String {
    utf8_percent_encode(url, QUOTE).to_string()
}

/// The path of a URL Starlette builds from a request: percent-decoded, with `?`, `#` and `\`
/// escaped again.
pub(crate) fn url_path(raw_path: &str) -> String {
    let decoded = percent_decode_str(raw_path).decode_utf8_lossy();
    decoded.replace('?', "%3F").replace('#', "%23").replace('\\', "%5C")
}

/// A `Host` header as Starlette's `parse_host_header` reads it: `(host, port)`, the host with
/// the brackets of an IP literal; None when it does not parse.
pub(crate) fn parse_host(header: &str) -> Option<(&str, Option<&str>)> {
    let (host, rest) = if let Some(inner) = header.strip_prefix('[') {
        let end = inner.find(']')?;
        let literal = &inner[..end];
        if !ip_literal(literal) {
            return None;
        }
        header.split_at(end + 2)
    } else {
        let end = header.find(':').unwrap_or(header.len());
        let host = &header[..end];
        let reg = |b: u8| b.is_ascii_alphanumeric() || b"._~%!$&'()*+,;=-".contains(&b);
        if host.is_empty() || !host.bytes().all(reg) {
            return None;
        }
        header.split_at(end)
    };
    match rest.strip_prefix(':') {
        None if rest.is_empty() => Some((host, None)),
        Some(port) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => Some((host, Some(port))),
        _ => None,
    }
}

/// An IPv6 address (checked as `ipaddress.IPv6Address` checks it) or an IPvFuture literal.
fn ip_literal(literal: &str) -> bool {
    if let Some(future) = literal.strip_prefix('v') {
        let Some((version, rest)) = future.split_once('.') else { return false };
        let other = |b: u8| b.is_ascii_alphanumeric() || b"._~!$&'()*+,;=:-".contains(&b);
        return !version.is_empty()
            && version.bytes().all(|b| b.is_ascii_hexdigit())
            && !rest.is_empty()
            && rest.bytes().all(other);
    }
    literal.contains(':')
        && literal.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        && literal.parse::<std::net::Ipv6Addr>().is_ok()
}

/// Starlette's `ParsedHost.is_valid_port`.
fn valid_port(port: Option<&str>) -> bool {
    port.is_none_or(|p| {
        let digits = p.trim_start_matches('0');
        digits.len() <= 5 && digits.parse::<u32>().unwrap_or(0) <= 65535
    })
}

/// `scheme://netloc/path?query`, as Starlette's `URL(scope=...)` with the netloc replaced.
fn url(scheme: &str, netloc: &str, req: &Request) -> String {
    let path = url_path(req.uri().path());
    match req.uri().query() {
        Some(q) if !q.is_empty() => quote_url(&format!("{scheme}://{netloc}{path}?{q}")),
        _ => quote_url(&format!("{scheme}://{netloc}{path}")),
    }
}

fn invalid_host() -> HttpResponse {
    response::plain_text(StatusCode::BAD_REQUEST, "Invalid host header")
}

fn redirect_to(location: &str) -> HttpResponse {
    match HeaderValue::from_str(location) {
        Ok(v) => response::redirect(v),
        Err(_) => invalid_host(),
    }
}

fn is_websocket(req: &Request) -> bool {
    req.headers().get(UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// The request's own scheme: `http`/`ws`, or `https`/`wss` over TLS or behind a trusted proxy.
fn scheme(req: &Request) -> &'static str {
    match (req.extensions().get::<Https>().is_some(), is_websocket(req)) {
        (false, false) => "http",
        (false, true) => "ws",
        (true, false) => "https",
        (true, true) => "wss",
    }
}

pub(crate) struct TrustedHost {
    /// Lower-cased patterns: a host, or `*.domain`.
    allowed: Vec<String>,
    www_redirect: bool,
}

impl TrustedHost {
    pub(crate) fn from_python(spec: &Bound<'_, PyTuple>) -> PyResult<Self> {
        Ok(Self { allowed: spec.get_item(1)?.extract()?, www_redirect: spec.get_item(2)?.extract()? })
    }

    pub(crate) fn request(&self, req: &Request) -> Step {
        let header = req.headers().get(HOST).map(latin1);
        let Some((host, port)) = header.as_deref().and_then(parse_host) else {
            return Step::Answer(invalid_host());
        };
        let host = host.to_lowercase();
        let mut www = false;
        for pattern in &self.allowed {
            if host == *pattern || pattern.strip_prefix('*').is_some_and(|tail| host.ends_with(tail)) {
                return Step::Next(Note::Nothing);
            }
            if pattern.strip_prefix("www.") == Some(host.as_str()) {
                www = true;
            }
        }
        if www && self.www_redirect && valid_port(port) {
            let authority = header.as_deref().unwrap_or_default();
            return Step::Answer(redirect_to(&url(scheme(req), &format!("www.{authority}"), req)));
        }
        Step::Answer(invalid_host())
    }
}

/// `HTTPSRedirectMiddleware`: a plain http (or ws) request is sent to https (wss), the port
/// dropped when it is 80 or 443.
pub(crate) fn https_redirect(req: &Request) -> Step {
    let redirect = match scheme(req) {
        "http" => "https",
        "ws" => "wss",
        _ => return Step::Next(Note::Nothing),
    };
    let header = req.headers().get(HOST).map(latin1);
    let parsed = header.as_deref().and_then(parse_host).filter(|(_, port)| valid_port(*port));
    let Some((host, port)) = parsed else {
        // Starlette falls back on the server's own address; fastcore answers as it does
        // when there is none.
        return Step::Answer(invalid_host());
    };
    let port_number = port.map(|p| p.trim_start_matches('0').parse::<u32>().unwrap_or(0));
    let netloc = if matches!(port_number, Some(80 | 443)) {
        // `url.hostname`: lower-cased, an IP literal's brackets dropped.
        host.trim_start_matches('[').trim_end_matches(']').to_lowercase()
    } else {
        header.clone().unwrap_or_default()
    };
    Step::Answer(redirect_to(&url(redirect, &netloc, req)))
}

#[cfg(test)]
mod tests {
    use super::parse_host;

    #[test]
    fn hosts_as_starlette_parses_them() {
        assert_eq!(parse_host("example.com"), Some(("example.com", None)));
        assert_eq!(parse_host("Example.com:8000"), Some(("Example.com", Some("8000"))));
        assert_eq!(parse_host("[::1]:80"), Some(("[::1]", Some("80"))));
        assert_eq!(parse_host("host:99999"), Some(("host", Some("99999"))));
        assert_eq!(parse_host("[v1.fe]"), Some(("[v1.fe]", None)));
        for bad in ["", "exa mple", "host:", "host:8o", "[::1", "[zz]", "a/b", "a@b", "a:1:2", "[1::2::3]"] {
            assert_eq!(parse_host(bad), None, "{bad}");
        }
    }
}
