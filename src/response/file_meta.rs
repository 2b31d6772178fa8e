//! What Starlette says about a file without reading it: its content type (Python's
//! `mimetypes.guess_type` over the tables Python handed over), its `ETag` and `Last-Modified`
//! (`md5("{st_mtime}-{st_size}")` and `formatdate(st_mtime, usegmt=True)`, with `st_mtime` the
//! float `os.stat` gives), and `email.utils.parsedate` for `If-Modified-Since`.

use std::fmt::Write as _;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use md5::{Digest, Md5};

use crate::routing::MimeTable;

/// `mimetypes.guess_type(path)[0]`, or `application/octet-stream`, with `; charset=utf-8`
/// after a `text/` type, as Starlette's `init_headers` adds it.
pub(crate) fn content_type(mime: &MimeTable, path: &str) -> String {
    let (mut base, mut ext) = splitext(path);
    let mut rounds = 0;
    while let Some(replacement) = mime.suffixes.get(&ext.to_lowercase()) {
        (base, ext) = splitext(&format!("{base}{replacement}"));
        rounds += 1;
        if rounds > 16 {
            break; // a suffix map that loops; Python would spin forever
        }
    }
    if mime.encodings.contains(&ext) {
        ext = splitext(&base).1;
    }
    match mime.types.get(&ext.to_lowercase()) {
        Some(t) if t.starts_with("text/") && !t.to_ascii_lowercase().contains("charset=") => {
            format!("{t}; charset=utf-8")
        }
        Some(t) => t.clone(),
        None => "application/octet-stream".to_owned(),
    }
}

/// `posixpath.splitext`: the extension starts at the last dot of the last component, unless
/// only dots come before it there (".bashrc" has none).
fn splitext(p: &str) -> (String, String) {
    let sep = p.rfind('/').map_or(0, |i| i + 1);
    if let Some(dot) = p.rfind('.').filter(|&d| d >= sep) {
        if p[sep..dot].bytes().any(|b| b != b'.') {
            return (p[..dot].to_owned(), p[dot..].to_owned());
        }
    }
    (p.to_owned(), String::new())
}

/// `os.stat(...).st_mtime`: seconds plus nanoseconds as CPython computes the float.
#[allow(clippy::cast_precision_loss)] // CPython's own conversion, reproduced
pub(crate) fn mtime(meta: &Metadata) -> f64 {
    meta.mtime() as f64 + meta.mtime_nsec() as f64 * 1e-9
}

/// Starlette's ETag: the md5 of `f"{st_mtime}-{st_size}"`, quoted.
pub(crate) fn etag(mtime: f64, size: u64) -> String {
    let digest = Md5::digest(format!("{}-{size}", py_float_repr(mtime)).as_bytes());
    let mut out = String::with_capacity(34);
    out.push('"');
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out.push('"');
    out
}

/// Python's `repr(float)`: the shortest digits that round-trip, positional from 1e-4 to
/// 1e16, else `1e+16`-style.
fn py_float_repr(v: f64) -> String {
    let abs = v.abs();
    if v == 0.0 || (1e-4..1e16).contains(&abs) {
        let s = format!("{v:?}"); // shortest round-trip, positional in this range, ".0" kept
        return if s.contains('.') || s.contains("inf") || s.contains("NaN") { s } else { format!("{s}.0") };
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
    format!("{mantissa}e{sign}{digits:0>2}")
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `email.utils.formatdate(mtime, usegmt=True)`: `time.gmtime` floors the float.
pub(crate) fn http_date(mtime: f64) -> String {
    let secs = mtime.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let weekday = (days + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[weekday],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's method).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `email.utils.parsedate(text)[:6]`: (year, month, day, hour, minute, second), the time zone
/// ignored, as Starlette compares them; None where Python's parser gives up.
pub(crate) fn parsedate(text: &str) -> Option<[i64; 6]> {
    const DAYNAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    const MONTHNAMES: [&str; 24] = [
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let mut data: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    if data.is_empty() {
        return None;
    }
    if data[0].ends_with(',') || DAYNAMES.contains(&data[0].to_lowercase().as_str()) {
        data.remove(0);
    } else if let Some(i) = data[0].rfind(',') {
        data[0] = data[0].split_off(i + 1);
    }
    if data.len() == 3 {
        let stuff: Vec<String> = data[0].split('-').map(str::to_owned).collect();
        if stuff.len() == 3 {
            data = stuff.into_iter().chain(data[1..].iter().cloned()).collect();
        }
    }
    if data.len() == 4 {
        let s = data[3].clone();
        match s.find('+').or_else(|| s.find('-')).filter(|&i| i > 0) {
            Some(i) => {
                data.truncate(3);
                data.push(s[..i].to_owned());
                data.push(s[i..].to_owned());
            }
            None => data.push(String::new()),
        }
    }
    if data.len() < 5 {
        return None;
    }
    let (mut dd, mut mm, mut yy, mut tm) = (data[0].clone(), data[1].to_lowercase(), data[2].clone(), data[3].clone());
    if dd.is_empty() || mm.is_empty() || yy.is_empty() {
        return None;
    }
    if !MONTHNAMES.contains(&mm.as_str()) {
        (dd, mm) = (mm, dd.to_lowercase());
        if !MONTHNAMES.contains(&mm.as_str()) {
            return None;
        }
    }
    let mut month = MONTHNAMES.iter().position(|m| *m == mm)? as i64 + 1;
    if month > 12 {
        month -= 12;
    }
    if dd.ends_with(',') {
        dd.pop();
    }
    if yy.find(':').is_some_and(|i| i > 0) {
        std::mem::swap(&mut yy, &mut tm);
    }
    if yy.ends_with(',') {
        yy.pop();
    }
    if yy.is_empty() {
        return None;
    }
    if !yy.as_bytes()[0].is_ascii_digit() {
        yy.clone_from(&data[4]); // the time zone was where the year should be
    }
    if tm.ends_with(',') {
        tm.pop();
    }
    let parts: Vec<&str> = tm.split(':').collect();
    let (h, mi, s) = match parts.as_slice() {
        [h, m] => (*h, *m, "0"),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let int = |v: &str| v.trim().parse::<i64>().ok();
    let mut year = int(&yy)?;
    if year < 100 {
        year += if year > 68 { 1900 } else { 2000 };
    }
    Some([year, month, int(&dd)?, int(h)?, int(mi)?, int(s)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn floats_as_python_writes_them() {
        assert_eq!(py_float_repr(1_732_712_345.123_456_7), "1732712345.1234567");
        assert_eq!(py_float_repr(1_700_000_000.0), "1700000000.0");
        assert_eq!(py_float_repr(0.0), "0.0");
        assert_eq!(py_float_repr(1e16), "1e+16");
        assert_eq!(py_float_repr(1.5e-5), "1.5e-05");
        assert_eq!(py_float_repr(-1.25), "-1.25");
    }

    #[test]
    fn etag_of_python_stat() {
        // hashlib.md5(b"1700000000.0-5").hexdigest()
        assert_eq!(etag(1_700_000_000.0, 5), "\"566ac90eb3f60063615e7901edfbe068\"");
    }

    #[test]
    fn dates() {
        assert_eq!(http_date(0.0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000.9), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(parsedate("Tue, 14 Nov 2023 22:13:20 GMT"), Some([2023, 11, 14, 22, 13, 20]));
        assert_eq!(parsedate("Tuesday, 14-Nov-23 22:13:20 GMT"), Some([2023, 11, 14, 22, 13, 20]));
        assert_eq!(parsedate("Tue Nov 14 22:13:20 2023"), Some([2023, 11, 14, 22, 13, 20]));
        assert_eq!(parsedate("garbage"), None);
        assert_eq!(parsedate(""), None);
    }

    #[test]
    fn content_types_as_mimetypes() {
        let types: HashMap<String, String> =
            [(".css", "text/css"), (".tar", "application/x-tar"), (".js", "text/javascript")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect();
        let suffixes = [(".tgz".to_owned(), ".tar.gz".to_owned())].into_iter().collect();
        let mime = MimeTable { types, suffixes, encodings: vec![".gz".to_owned()] };
        assert_eq!(content_type(&mime, "/d/a.css"), "text/css; charset=utf-8");
        assert_eq!(content_type(&mime, "/d/A.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type(&mime, "/d/a.tgz"), "application/x-tar");
        assert_eq!(content_type(&mime, "/d/a.gz"), "application/octet-stream");
        assert_eq!(content_type(&mime, "/d/.css"), "application/octet-stream");
        assert_eq!(content_type(&mime, "/d.x/noext"), "application/octet-stream");
    }
}
