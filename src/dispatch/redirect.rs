//! FastAPI's trailing-slash redirect (Starlette's `Router(redirect_slashes=True)`).
//!
//! Only on the not-found path, so found routes pay nothing: when no route has the path at all
//! (not even for another method) but the path with its trailing slash toggled does, the answer
//! is a 307 to that URL, built as Starlette builds it: `http://` + the Host header + the
//! percent-decoded path (with `?`, `#`, `\` re-escaped) + `?query`, quoted as its
//! `RedirectResponse` quotes it. Behind a server root path (`--root-path`) the path starts
//! with it, as uvicorn's scope path does. A missing or invalid Host gives a relative URL, where
//! Starlette would use the server's own address.

use hyper::header::{HeaderValue, CONTENT_LENGTH, HOST, LOCATION, SERVER};
use hyper::http::request::Parts;
use hyper::StatusCode;

use crate::middleware::{quote_url, url_path};
use crate::response::{Body, HttpResponse};
use crate::routing::{Lookup, Table};

/// The redirect for a path no route has, if the toggled path has a route or a mount. `at`:
/// where the app's paths begin in the request's (a mounted app's), the redirect keeping what
/// comes before; `prefix`: the server's root path, put in front.
pub(crate) fn trailing_slash(table: &Table, parts: &Parts, at: usize, prefix: &str) -> Option<HttpResponse> {
    let path = &parts.uri.path()[at..];
    if path == "/" {
        return None;
    }
    let toggled = match path.strip_suffix('/') {
        Some(_) => path.trim_end_matches('/').to_owned(),
        None => format!("{path}/"),
    };
    if matches!(table.lookup(parts.method.as_str(), &toggled), Lookup::NotFound) && table.mount_for(&toggled).is_none()
    {
        return None;
    }
    to(parts, &format!("{prefix}{}{toggled}", &parts.uri.path()[..at]))
}

/// Starlette's 307 to `raw_path` (still percent-encoded) with the request's query.
pub(crate) fn to(parts: &Parts, raw_path: &str) -> Option<HttpResponse> {
    let location = location(parts, raw_path);
    let mut resp = hyper::Response::new(Body::full(bytes::Bytes::new()));
    *resp.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    let h = resp.headers_mut();
    h.insert(SERVER, HeaderValue::from_static("fastcore"));
    h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    h.insert(LOCATION, HeaderValue::from_str(&location).ok()?);
    Some(resp)
}

fn location(parts: &Parts, raw_path: &str) -> String {
    let path = url_path(raw_path);
    let query = parts.uri.query().unwrap_or("");
    let host = parts.headers.get(HOST).and_then(|h| h.to_str().ok()).filter(|h| valid_host(h));
    let url = match host {
        Some(host) if query.is_empty() => format!("http://{host}{path}"),
        Some(host) => format!("http://{host}{path}?{query}"),
        None => {
            let path = match path.strip_prefix("//") {
                Some(rest) => format!("/%2F{rest}"),
                None => path,
            };
            if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            }
        }
    };
    quote_url(&url)
}

/// Starlette's `parse_host_header` with a valid port: a reg-name or a bracketed IP literal,
/// and an optional port of at most 65535.
fn valid_host(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some((literal, after)) = rest.split_once(']') else { return false };
        if literal.is_empty() || !literal.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(port) => ("[]", Some(port)),
            None if after.is_empty() => ("[]", None),
            None => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let name_ok = name == "[]"
        || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~%!$&'()*+,;=-".contains(&b)));
    let port_ok = port.is_none_or(|p| {
        let digits = p.trim_start_matches('0');
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_digit())
            && digits.len() <= 5
            && digits.parse::<u32>().unwrap_or(0) <= 65535
    });
    name_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::valid_host;

    #[test]
    fn hosts_as_starlette_parses_them() {
        for ok in ["example.com", "example.com:8000", "127.0.0.1:80", "[::1]", "[::1]:8080", "a_b.c~d", "x:00080"] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in ["", "exa mple", "host:99999", "host:", "host:8o", "[::1", "[zz]", "a/b", "a@b"] {
            assert!(!valid_host(bad), "{bad}");
        }
    }
}
