//! Unit tests of the multipart parser: grammar edge cases, chunk splits, limits, spilling.

use std::io::{Read, Seek, SeekFrom};

use super::{parse_options_header, Content, FormError, Item, Limits, Parser, Value};

const LIMITS: Limits = Limits { max_files: 1000, max_fields: 1000, max_part_size: 1 << 20, spool_max: 1 << 20 };

fn parse_chunks(body: &[u8], split: usize, limits: Limits) -> Result<Vec<Item>, FormError> {
    let mut p = Parser::new(b"xyz", limits)?;
    for chunk in body.chunks(split.max(1)) {
        p.feed(chunk)?;
    }
    Ok(p.finish())
}

/// Parses `body` fed whole and in every chunk size from 1 to 20; all must agree.
fn parse(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let show = |r: Result<Vec<Item>, FormError>| match r {
        Ok(items) => Ok(items
            .into_iter()
            .map(|i| {
                let v = match i.value {
                    Value::Text(t) => String::from_utf8_lossy(&t).into_owned(),
                    Value::File { filename, content: Content::Memory(m), .. } => {
                        format!("file:{}:{}", String::from_utf8_lossy(&filename), String::from_utf8_lossy(&m))
                    }
                    Value::File { .. } => "spilled".to_owned(),
                };
                (String::from_utf8_lossy(&i.name).into_owned(), v)
            })
            .collect()),
        Err(e) => Err(e.message()),
    };
    let whole = show(parse_chunks(body, body.len(), LIMITS));
    for split in 1..20 {
        assert_eq!(show(parse_chunks(body, split, LIMITS)), whole, "split {split}");
    }
    whole
}

fn ok(pairs: &[(&str, &str)]) -> Result<Vec<(String, String)>, String> {
    Ok(pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect())
}

const INVALID: &str = "Invalid multipart data.";

#[test]
fn fields_and_files() {
    let body = b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n\
--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\nfi\r\nle\r\n\
--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--xyz--\r\n";
    assert_eq!(parse(body), ok(&[("a", "hello"), ("f", "file:f.txt:fi\r\nle"), ("a", "")]));
}

#[test]
fn empty_and_preamble() {
    assert_eq!(parse(b""), ok(&[]));
    assert_eq!(parse(b"--xyz--\r\n"), ok(&[]));
    // CR/LF before the first boundary are skipped (up to the first '-'); other bytes are not.
    assert_eq!(parse(b"\r\n--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--xyz--"), ok(&[("a", "v")]));
    assert_eq!(parse(b"preamble\r\n--xyz\r\n"), Err(INVALID.into()));
    assert_eq!(parse(b"garbage"), Err(INVALID.into()));
    assert_eq!(parse(b"--xyw\r\n"), Err(INVALID.into()));
}

#[test]
fn truncated_bodies_keep_completed_parts() {
    let a = b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello";
    assert_eq!(parse(a), ok(&[]));
    assert_eq!(parse(&[&a[..], b"\r\n--xyz"].concat()), ok(&[]));
    assert_eq!(parse(&[&a[..], b"\r\n--xyz\r\n"].concat()), ok(&[("a", "hello")]));
    assert_eq!(parse(b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n"), ok(&[]));
}

#[test]
fn bad_boundary_lines_and_headers() {
    let invalid = Err(INVALID.to_owned());
    assert_eq!(parse(b"--xyz  \r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--xyz--"), invalid);
    assert_eq!(parse(b"--xyz\nContent-Disposition: form-data; name=a\n\nv\n--xyz--\n"), invalid);
    assert_eq!(parse(b"--xyz-x"), invalid);
    assert_eq!(parse(b"--xyz\r\nContent-Disposition form-data; name=a\r\n\r\nv\r\n--xyz--"), invalid);
    assert_eq!(parse(b"--xyz\r\n: v\r\n\r\nv\r\n--xyz--"), invalid);
    assert_eq!(parse(b"--xyz\r\nA: v\rX\r\n\r\nv\r\n--xyz--"), invalid);
    assert_eq!(parse(b"--xyz\r\n\rX"), invalid);
    let nine: Vec<u8> = [&b"--xyz\r\n"[..], &b"X-A: 1\r\n".repeat(9), b"\r\n"].concat();
    assert_eq!(parse(&nine), invalid);
    let long = [&b"--xyz\r\nX-A: "[..], &vec![b'a'; 4300], b"\r\n\r\n"].concat();
    assert_eq!(parse(&long), invalid);
    // 4224 bytes of name, colon, spaces and value is the most allowed.
    let max = [
        &b"--xyz\r\nContent-Disposition: form-data; name=a\r\nX-A: "[..],
        &vec![b'a'; 4224 - 5],
        b"\r\n\r\nv\r\n--xyz--",
    ]
    .concat();
    assert_eq!(parse(&max), ok(&[("a", "v")]));
}

#[test]
fn missing_name() {
    let msg = "The Content-Disposition header field \"name\" must be provided.";
    assert_eq!(parse(b"--xyz\r\nX: y\r\n\r\nv\r\n--xyz--"), Err(msg.into()));
    assert_eq!(parse(b"--xyz\r\nContent-Disposition: form-data\r\n\r\nv\r\n--xyz--"), Err(msg.into()));
    // name="" is a name
    assert_eq!(parse(b"--xyz\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--xyz--"), ok(&[("", "v")]));
}

#[test]
fn delimiter_lookalikes_are_data() {
    let part =
        |data: &[u8]| [&b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n"[..], data, b"\r\n--xyz--"].concat();
    for data in [&b"\r\n--xyzX"[..], b"\r\n--xyz\rX", b"\r\n--xyz-X", b"\r\n--xy", b"--xyz", b"\r\r\n\r\n-", b"\r"] {
        assert_eq!(parse(&part(data)), ok(&[("a", std::str::from_utf8(data).unwrap())]), "{data:?}");
    }
    // A delimiter with space/tab padding, then CRLF, ends the part; padding then other bytes is an error.
    let padded = b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--xyz \t \r\nContent-Disposition: form-data; name=b\r\n\r\nw\r\n--xyz--";
    assert_eq!(parse(padded), ok(&[("a", "v"), ("b", "w")]));
    assert_eq!(parse(b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--xyz x"), Err(INVALID.into()));
}

#[test]
fn epilogue_is_ignored() {
    let body = b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--xyz--\r\n--xyz garbage";
    assert_eq!(parse(body), ok(&[("a", "v")]));
}

#[test]
fn limits() {
    let two = b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--xyz\r\nContent-Disposition: form-data; name=b\r\n\r\nw\r\n--xyz--";
    let fields = Limits { max_fields: 1, ..LIMITS };
    assert_eq!(parse_chunks(two, 7, fields).unwrap_err().message(), "Too many fields. Maximum number of fields is 1.");
    let files = b"--xyz\r\nContent-Disposition: form-data; name=a; filename=x\r\n\r\nv\r\n--xyz\r\nContent-Disposition: form-data; name=b; filename=y\r\n\r\nw\r\n--xyz--";
    let one_file = Limits { max_files: 1, ..LIMITS };
    assert_eq!(
        parse_chunks(files, 7, one_file).unwrap_err().message(),
        "Too many files. Maximum number of files is 1."
    );
    assert_eq!(parse_chunks(files, 7, fields).unwrap().len(), 2, "files do not count as fields");
    let small = Limits { max_part_size: 2048, ..LIMITS };
    let big =
        [&b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n"[..], &vec![b'x'; 2049], b"\r\n--xyz--"].concat();
    assert_eq!(parse_chunks(&big, 100, small).unwrap_err().message(), "Part exceeded maximum size of 2KB.");
    let fits =
        [&b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n"[..], &vec![b'x'; 2048], b"\r\n--xyz--"].concat();
    assert!(parse_chunks(&fits, 100, small).is_ok());
    // The limit on text parts does not apply to files.
    let file = [
        &b"--xyz\r\nContent-Disposition: form-data; name=a; filename=f\r\n\r\n"[..],
        &vec![b'x'; 4096],
        b"\r\n--xyz--",
    ]
    .concat();
    assert!(parse_chunks(&file, 100, small).is_ok());
    assert!(matches!(Parser::new(&[b'a'; 257], LIMITS), Err(FormError::Invalid)));
}

#[test]
fn large_files_spill_to_disk_intact() {
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let body =
        [&b"--xyz\r\nContent-Disposition: form-data; name=f; filename=big\r\n\r\n"[..], &data, b"\r\n--xyz--"].concat();
    let limits = Limits { spool_max: 1 << 20, ..LIMITS };
    for split in [1000, 65536, body.len()] {
        let mut items = parse_chunks(&body, split, limits).unwrap();
        let Value::File { content: Content::Disk(mut file), size, .. } = items.remove(0).value else {
            panic!("not spilled")
        };
        assert_eq!(size, data.len());
        file.seek(SeekFrom::Start(0)).unwrap();
        let mut back = Vec::new();
        file.read_to_end(&mut back).unwrap();
        assert!(back == data, "spilled content differs (split {split})");
    }
    // Exactly spool_max bytes stay in memory, as SpooledTemporaryFile rolls over only past it.
    let exact =
        [&b"--xyz\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n"[..], &vec![7u8; 1024], b"\r\n--xyz--"]
            .concat();
    let items = parse_chunks(&exact, 100, Limits { spool_max: 1024, ..LIMITS }).unwrap();
    assert!(matches!(&items[0].value, Value::File { content: Content::Memory(m), .. } if m.len() == 1024));
}

#[test]
fn options_header() {
    let p = |s: &str| {
        let (v, o) = parse_options_header(s.as_bytes());
        let o: Vec<(String, String)> =
            o.into_iter().map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap())).collect();
        (String::from_utf8(v).unwrap(), o)
    };
    let kv = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<Vec<_>>();
    assert_eq!(
        p("form-data; name=\"a;b\"; filename=\"x;y.txt\""),
        ("form-data".into(), kv(&[("name", "a;b"), ("filename", "x;y.txt")]))
    );
    assert_eq!(p(" Form-Data ; NAME = \"x\" ;filename"), ("form-data".into(), kv(&[("name", "x"), ("filename", "")])));
    assert_eq!(
        p("form-data;name=a;;filename=b"),
        ("form-data".into(), kv(&[("name", "a"), ("", ""), ("filename", "b")]))
    );
    assert_eq!(p("a; b=\"q\\\";x\"; c=2"), ("a".into(), kv(&[("b", "q\";x"), ("c", "2")])));
    assert_eq!(p("form-data; name=\"a\\\\\"b\""), ("form-data".into(), kv(&[("name", "a\"b")])));
    assert_eq!(p("form-data; name=a; filename*=utf-8''x.txt"), ("form-data".into(), kv(&[("name", "a")])));
    assert_eq!(
        p("form-data; name=a; filename=\"C:\\\\dir\\\\y.txt\""),
        ("form-data".into(), kv(&[("name", "a"), ("filename", "y.txt")]))
    );
    assert_eq!(p("Text/Plain"), ("text/plain".into(), vec![]));
    assert_eq!(p(""), (String::new(), vec![]));
}
