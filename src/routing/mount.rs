//! Mounts: a path prefix whose requests go to another app's routes or to a static directory,
//! as Starlette's `Mount` hands them on (`app.mount("/static", StaticFiles(...))`).
//!
//! A mount is tried only when the app's own routes have no match for the path, so apps
//! without mounts pay nothing. The prefix is compared with the percent-decoded path, as
//! Starlette matches `^{prefix}/(?P<path>.*)$` against its decoded `scope["path"]`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use percent_encoding::percent_decode_str;

/// One mount: the prefix without its trailing slash ("" for a mount at "/") and its target
/// (`table::Target`: another app's routes, or a `FileRoot`).
pub(crate) struct Mount<T> {
    pub(crate) prefix: String,
    pub(crate) target: T,
}

/// What a `StaticFiles` mount serves: its directories (searched in order, as Starlette's
/// `all_directories`), its options, and Python's `mimetypes` tables taken when it was mounted,
/// so content types are what `mimetypes.guess_type` gives the same process.
pub(crate) struct FileRoot {
    /// Absolute, and resolved (`os.path.realpath`) unless `follow_symlink`.
    pub(crate) directories: Vec<PathBuf>,
    /// The `directory` argument, checked as Starlette's `check_config` does.
    pub(crate) check: Option<DirectoryCheck>,
    pub(crate) html: bool,
    pub(crate) follow_symlink: bool,
    pub(crate) mime: MimeTable,
}

/// Starlette's `check_config`, which each request runs until it has passed once: a missing
/// `directory` (possible with `check_dir=False`, or removed since) fails the request with a
/// `RuntimeError`'s message, a 500.
pub(crate) struct DirectoryCheck {
    /// As given to `StaticFiles` (relative to the working directory, as Starlette stats it).
    pub(crate) directory: String,
    pub(crate) passed: AtomicBool,
}

impl DirectoryCheck {
    /// Starlette's message if the directory is not there (yet); None once it has been.
    pub(crate) fn failure(&self) -> Option<String> {
        if self.passed.load(Ordering::Relaxed) {
            return None;
        }
        let directory = &self.directory;
        match std::fs::metadata(directory) {
            Ok(meta) if meta.is_dir() => {
                self.passed.store(true, Ordering::Relaxed);
                None
            }
            Ok(_) => Some(format!("StaticFiles path '{directory}' is not a directory.")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Some(format!("StaticFiles directory '{directory}' does not exist."))
            }
            Err(e) => Some(format!("StaticFiles directory '{directory}': {e}")),
        }
    }
}

/// `mimetypes.types_map` (extension → type, strict), `suffix_map` and `encodings_map`'s keys.
pub(crate) struct MimeTable {
    pub(crate) types: HashMap<String, String>,
    pub(crate) suffixes: HashMap<String, String>,
    pub(crate) encodings: Vec<String>,
}

/// Where a mount matched: the mount, the byte offset in the raw path where the rest begins
/// (at its '/'; None when that '/' was sent percent-encoded), and the decoded rest.
pub(crate) struct MountMatch<'t, T> {
    pub(crate) mount: &'t Mount<T>,
    pub(crate) raw_rest: Option<usize>,
    pub(crate) rest: String,
}

impl<T> Mount<T> {
    /// Matches `raw_path` (percent-encoded) as Starlette's `^{prefix}/(?P<path>.*)$` matches
    /// the decoded path: the prefix, a '/', then anything but a newline.
    pub(crate) fn matches(&self, raw_path: &str) -> Option<MountMatch<'_, T>> {
        let prefix = self.prefix.as_bytes();
        // Walk the raw path decoding `%XX` until the prefix and its '/' are consumed.
        let raw = raw_path.as_bytes();
        let (mut i, mut matched) = (0, 0);
        let mut separator_raw = None;
        while matched <= prefix.len() {
            let (byte, width) = decoded_at(raw, i)?;
            let want = if matched < prefix.len() { prefix[matched] } else { b'/' };
            if byte != want {
                return None;
            }
            if matched == prefix.len() {
                separator_raw = (width == 1).then_some(i);
            }
            i += width;
            matched += 1;
        }
        let rest = percent_decode_str(&raw_path[i..]).decode_utf8_lossy();
        if rest.contains('\n') {
            return None;
        }
        Some(MountMatch { mount: self, raw_rest: separator_raw, rest: format!("/{rest}") })
    }
}

impl<T> Mount<T> {
    /// Whether this mount may take some path that the route template `path` (e.g.
    /// `/users/{id}`) matches: the template's text before its first parameter begins with the
    /// prefix and its '/', or is itself the beginning of them (a parameter may fill the rest).
    /// Errs on the side of yes: the route then pays one `matches` per request.
    pub(crate) fn may_take(&self, path: &str) -> bool {
        let (literal, open) = path.find('{').map_or((path, false), |i| (&path[..i], true));
        let prefix = self.prefix.as_bytes();
        let literal = literal.as_bytes();
        if !open && literal.len() <= prefix.len() {
            return false; // a path shorter than the prefix and its '/'
        }
        let common = literal.len().min(prefix.len() + 1);
        literal[..common].iter().zip(prefix.iter().chain(std::iter::once(&b'/'))).all(|(a, b)| a == b)
    }
}

/// The decoded byte at `raw[i]` and how many raw bytes it took (3 for a valid `%XX`).
fn decoded_at(raw: &[u8], i: usize) -> Option<(u8, usize)> {
    let &b = raw.get(i)?;
    if b == b'%' {
        if let (Some(h), Some(l)) = (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex)) {
            return Some((h * 16 + l, 3));
        }
    }
    Some((b, 1))
}

#[allow(clippy::trivially_copy_pass_by_ref)] // called through `Option::and_then` on `fn hex(b: &u8) -> Option<u8> {u8`
fn hex(b: &u8) -> Option<u8> {
    (char::from(*b)).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(prefix: &str) -> Mount<()> {
        Mount { prefix: prefix.to_owned(), target: () }
    }

    fn rest(m: &Mount<()>, path: &str) -> Option<(Option<usize>, String)> {
        m.matches(path).map(|found| (found.raw_rest, found.rest))
    }

    #[test]
    fn prefix_then_slash_then_anything() {
        let m = files("/static");
        assert_eq!(rest(&m, "/static/css/a.css"), Some((Some(7), "/css/a.css".into())));
        assert_eq!(rest(&m, "/static/"), Some((Some(7), "/".into())));
        assert_eq!(rest(&m, "/static"), None, "no slash: the router's redirect, not the mount");
        assert_eq!(rest(&m, "/staticx/a"), None);
        assert_eq!(rest(&m, "/stat"), None);
        assert_eq!(rest(&m, "/%73tatic/a%20b"), Some((Some(9), "/a b".into())), "decoded, as Starlette");
        assert_eq!(rest(&m, "/static%2Fa"), Some((None, "/a".into())), "an encoded separator");
        assert_eq!(rest(&m, "/static/a%0Ab"), None, "`.` stops at a newline");
        assert_eq!(rest(&m, "/static/%2e%2e/x"), Some((Some(7), "/../x".into())));
    }

    #[test]
    fn may_take_what_its_prefix_can_begin() {
        let m = files("/api");
        assert!(m.may_take("/api/x"));
        assert!(m.may_take("/api/{id}"));
        assert!(m.may_take("/{section}/x"), "a parameter may be 'api'");
        assert!(m.may_take("/ap{x}"));
        assert!(!m.may_take("/api"), "no '/' after the prefix: the mount never takes it");
        assert!(!m.may_take("/apis/x"));
        assert!(!m.may_take("/users/{id}"));
        assert!(!m.may_take("/static/{path:path}"));
        let root = files("");
        assert!(root.may_take("/anything") && root.may_take("/"));
    }

    #[test]
    fn root_mount_takes_every_path() {
        let m = files("");
        assert_eq!(rest(&m, "/"), Some((Some(0), "/".into())));
        assert_eq!(rest(&m, "/a/b"), Some((Some(0), "/a/b".into())));
    }
}
