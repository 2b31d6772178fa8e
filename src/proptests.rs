//! Randomised property tests of fastcore's own parsers (router matching, the multipart parser),
//! with a small seeded generator: proptest and cargo-fuzz are not available offline here.
//! `FASTCORE_FUZZ_CASES` sets the cases per property (default 2,000; CI runs the default),
//! `FASTCORE_FUZZ_SEED` the seed (default: fixed, so a failure reproduces; it is printed).

use std::sync::Arc;

use crate::request::multipart_api::{parse_all, Limits};
use crate::routing::matcher_api::{Lookup, ParamValue, Router};

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("FASTCORE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x9E37_79B9_7F4A_7C15);
        eprintln!("proptests: seed {seed}");
        Self(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, alphabet: &[u8], max_len: usize) -> Vec<u8> {
        (0..self.below(max_len + 1)).map(|_| *self.pick(alphabet)).collect()
    }
}

fn cases() -> usize {
    std::env::var("FASTCORE_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000)
}

const SEGMENT: &[u8] = b"abcXYZ019-._~%20!$&'()*+,;=:@\xc3\xa9";

/// A segment as the router hands it over: percent-decoded, invalid UTF-8 replaced.
fn decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

fn segment(rng: &mut Rng) -> String {
    let bytes = rng.bytes(SEGMENT, 8);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Any path against any table: no panic; a found capture is part of the decoded path.
#[test]
fn router_never_panics_and_captures_segments() {
    let mut rng = Rng::new();
    let shapes = ["/", "/a", "/a/{x}", "/a/{x}/b", "/{x}/{y}", "/n/{n:int}", "/f/{f:float}", "/p/{p:path}"];
    for _ in 0..cases() {
        let mut router = Router::default();
        for (i, shape) in shapes.iter().enumerate() {
            if rng.below(2) == 0 {
                router.add(&["GET"], shape, Arc::new(i)).unwrap();
            }
        }
        let depth = rng.below(4);
        let mut path = String::new();
        for _ in 0..depth {
            path.push('/');
            path.push_str(if rng.below(3) == 0 { *rng.pick(&["a", "b", "n", "f", "p"]) } else { "" });
            path.push_str(&segment(&mut rng));
        }
        if path.is_empty() || rng.below(5) == 0 {
            path.insert(0, '/');
        }
        let method = *rng.pick(&["GET", "POST", "get", ""]);
        if let Lookup::Found { params, .. } = router.lookup(method, &path) {
            let decoded: String = path.split('/').map(decode).collect::<Vec<_>>().join("/");
            for (_, value) in params {
                if let ParamValue::Str(s) = value {
                    assert!(decoded.contains(s.as_str()), "{s:?} not in {decoded:?} ({path:?})");
                }
            }
        }
    }
}

/// Typed captures round-trip: any segment for `{x}`, any i64 for `{n:int}`, any rest for `{p:path}`.
#[test]
fn router_round_trips_parameters() {
    let mut rng = Rng::new();
    let mut router = Router::default();
    router.add(&["GET"], "/s/{x}/end", Arc::new(0)).unwrap();
    router.add(&["GET"], "/n/{n:int}", Arc::new(1)).unwrap();
    router.add(&["GET"], "/p/{p:path}", Arc::new(2)).unwrap();
    for _ in 0..cases() {
        let x = segment(&mut rng);
        let n = rng.next() as i64;
        let p = format!("{}/{}", segment(&mut rng), segment(&mut rng));
        let one = |path: &str| match router.lookup("GET", path) {
            Lookup::Found { params, .. } => params.into_iter().next().map(|(_, v)| v),
            other => panic!("{path:?}: {other:?}"),
        };
        if !x.is_empty() {
            assert_eq!(one(&format!("/s/{x}/end")), Some(ParamValue::Str(decode(&x))));
        }
        assert_eq!(one(&format!("/n/{n}")), Some(ParamValue::Int(n)));
        let want: Vec<String> = p.split('/').map(decode).collect();
        assert_eq!(one(&format!("/p/{p}")), Some(ParamValue::Str(want.join("/"))));
    }
}

const LIMITS: Limits = Limits { max_files: 50, max_fields: 50, max_part_size: 4096, spool_max: 1 << 20 };

fn form(fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(b"--xyz\r\nContent-Disposition: form-data; name=\"");
        body.extend_from_slice(name);
        body.extend_from_slice(b"\"\r\n\r\n");
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--xyz--\r\n");
    body
}

/// Well-formed forms of random fields parse back to exactly those fields, in any chunking.
#[test]
fn multipart_round_trips_random_forms() {
    let mut rng = Rng::new();
    let value_bytes: Vec<u8> = (0..=255u8).collect();
    for _ in 0..cases() {
        let fields: Vec<(Vec<u8>, Vec<u8>)> = (0..rng.below(5))
            .map(|_| {
                let name = rng.bytes(b"abcdefghij_0123456789", 12);
                // Any bytes but the delimiter itself.
                let mut value = rng.bytes(&value_bytes, 64);
                while value.windows(5).any(|w| w == b"--xyz") {
                    value = rng.bytes(&value_bytes, 64);
                }
                (name, value)
            })
            .collect();
        let body = form(&fields);
        let split = 1 + rng.below(body.len());
        let parsed = parse_all(b"xyz", &body, split, LIMITS).expect("a well-formed form");
        assert_eq!(parsed, fields, "split {split}");
    }
}

/// Mangled forms (bytes flipped, inserted, cut) never panic, and parse the same in any chunking.
#[test]
fn multipart_mangled_forms_are_chunking_invariant() {
    let mut rng = Rng::new();
    let noise = b"-\r\n\"=;: xyzContent-Disposition form-data name filename\x00\xff";
    for _ in 0..cases() {
        let fields = vec![(b"a".to_vec(), b"hello".to_vec()), (b"b".to_vec(), b"--x y z--".to_vec())];
        let mut body = form(&fields);
        for _ in 0..1 + rng.below(4) {
            if body.is_empty() {
                break;
            }
            let at = rng.below(body.len());
            match rng.below(3) {
                0 => body[at] = *rng.pick(noise),
                1 => body.insert(at, *rng.pick(noise)),
                _ => body.truncate(at),
            }
        }
        let whole = parse_all(b"xyz", &body, body.len().max(1), LIMITS);
        let split = 1 + rng.below(body.len().max(1));
        assert_eq!(parse_all(b"xyz", &body, split, LIMITS), whole, "split {split} of {body:?}");
    }
}
