//! Path matching and method dispatch: the route table the workers read without locks.
//!
//! Patterns follow Starlette/FastAPI: `/users/{user_id}` or `/files/{rest:path}`, with the
//! converters `str` (default), `int`, `float` and `path` (the rest of the path, slashes included).
//! Matching is structural; converting a captured segment is a separate step so that
//! `/users/abc` against `{user_id:int}` reports a 422 naming the parameter, as FastAPI does,
//! rather than a 404 that hides the cause.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use smallvec::SmallVec;

/// How a captured path segment becomes a Python value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Converter {
    Str,
    Int,
    Float,
    Path,
}

impl Converter {
    fn parse(name: &str) -> Result<Self, PatternError> {
        match name {
            "str" => Ok(Self::Str),
            "int" => Ok(Self::Int),
            "float" => Ok(Self::Float),
            "path" => Ok(Self::Path),
            other => Err(PatternError(format!("unknown path converter {other:?}"))),
        }
    }
}

/// A path parameter after conversion.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ParamValue {
    Str(String),
    Int(i64),
    Float(f64),
}

/// Why a captured segment could not be converted; becomes a 422.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ConversionError {
    pub(crate) name: String,
    pub(crate) input: String,
    pub(crate) converter: Converter,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PatternError(pub String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug)]
enum Segment {
    Static(String),
    Param { name: String, conv: Converter },
}

/// A parsed path pattern.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    source: String,
    segments: Vec<Segment>,
}

impl Pattern {
    pub(crate) fn parse(source: &str) -> Result<Self, PatternError> {
        if !source.starts_with('/') {
            return Err(PatternError(format!("route path {source:?} must start with '/'")));
        }
        let mut segments = Vec::new();
        let parts: Vec<&str> = source[1..].split('/').collect();
        let mut seen = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                let (name, conv) = match inner.split_once(':') {
                    Some((n, c)) => (n, Converter::parse(c)?),
                    None => (inner, Converter::Str),
                };
                if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_alphanumeric()) {
                    return Err(PatternError(format!("bad parameter name {name:?} in {source:?}")));
                }
                if seen.contains(&name) {
                    return Err(PatternError(format!("duplicate parameter {name:?} in {source:?}")));
                }
                if conv == Converter::Path && i != parts.len() - 1 {
                    return Err(PatternError(format!("the path converter must be last in {source:?}")));
                }
                seen.push(name);
                segments.push(Segment::Param { name: name.to_owned(), conv });
            } else if part.contains('{') || part.contains('}') {
                return Err(PatternError(format!("a parameter must fill a whole segment in {source:?}")));
            } else {
                segments.push(Segment::Static((*part).to_owned()));
            }
        }
        Ok(Self { source: source.to_owned(), segments })
    }

    fn is_static(&self) -> bool {
        self.segments.iter().all(|s| matches!(s, Segment::Static(_)))
    }

    /// Parameter names in order of appearance.
    fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param { name, .. } => Some(name.as_str()),
            Segment::Static(_) => None,
        })
    }

    /// Structural match: captured raw (still percent-encoded) values, or None.
    fn captures<'p>(&self, path: &'p str) -> Option<Captures<'p>> {
        let mut rest = path.strip_prefix('/')?;
        let mut caps = Captures::new();
        let last = self.segments.len() - 1;
        for (i, seg) in self.segments.iter().enumerate() {
            let (head, tail) = match seg {
                Segment::Param { conv: Converter::Path, .. } => (rest, ""),
                _ => match rest.find('/') {
                    Some(at) if i < last => (&rest[..at], &rest[at + 1..]),
                    Some(_) => return None,
                    None if i < last => return None,
                    None => (rest, ""),
                },
            };
            match seg {
                Segment::Static(s) if s == head => {}
                Segment::Static(_) => return None,
                Segment::Param { conv, .. } => {
                    // Empty segments never match a parameter, as in Starlette.
                    if head.is_empty() {
                        return None;
                    }
                    caps.push((*conv, head));
                }
            }
            rest = tail;
        }
        Some(caps)
    }
}

type Captures<'p> = SmallVec<[(Converter, &'p str); 4]>;

/// Converts captured segments; the first failure names the parameter.
/// Converts every captured parameter; on failure, every parameter that failed (FastAPI reports
/// them all, in path order).
fn convert(pattern: &Pattern, caps: &Captures<'_>) -> Result<Params, Vec<ConversionError>> {
    let mut out = Params::new();
    let mut failed = Vec::new();
    for ((conv, raw), name) in caps.iter().zip(pattern.param_names()) {
        let text = percent_decode_str(raw).decode_utf8_lossy();
        let value = match conv {
            Converter::Str | Converter::Path => Some(ParamValue::Str(text.to_string())),
            Converter::Int => text.parse().ok().map(ParamValue::Int),
            Converter::Float => text.parse::<f64>().ok().filter(|v| v.is_finite()).map(ParamValue::Float),
        };
        match value {
            Some(value) => out.push((name.to_owned(), value)),
            None => failed.push(ConversionError { name: name.to_owned(), input: text.to_string(), converter: *conv }),
        }
    }
    if failed.is_empty() {
        Ok(out)
    } else {
        Err(failed)
    }
}

pub(crate) type Params = SmallVec<[(String, ParamValue); 4]>;

/// The outcome of looking up one request.
#[derive(Debug)]
pub(crate) enum Lookup<'t, T> {
    Found { handler: &'t Arc<T>, params: Params, route: &'t str },
    BadParam(Vec<ConversionError>),
    MethodNotAllowed { allow: String },
    NotFound,
}

struct Route<T> {
    pattern: Pattern,
    methods: Vec<(String, Arc<T>)>,
    /// The `Allow` header of a 405: the methods of the first route registered on this pattern,
    /// as FastAPI answers (its router stops at the first route whose path matched).
    allow: String,
}

impl<T> Route<T> {
    /// Only the methods registered: as in FastAPI, a GET route does not answer HEAD.
    fn handler(&self, method: &str) -> Option<&Arc<T>> {
        self.methods.iter().find(|(m, _)| m == method).map(|(_, h)| h)
    }
}

/// An immutable route table; a new one is built and swapped in for every change.
pub(crate) struct Router<T> {
    routes: Vec<Route<T>>,
    statics: HashMap<String, usize>,
}

impl<T> Default for Router<T> {
    fn default() -> Self {
        Self { routes: Vec::new(), statics: HashMap::new() }
    }
}

impl<T> Clone for Router<T> {
    fn clone(&self) -> Self {
        let routes = self
            .routes
            .iter()
            .map(|r| Route { pattern: r.pattern.clone(), methods: r.methods.clone(), allow: r.allow.clone() })
            .collect();
        Self { routes, statics: self.statics.clone() }
    }
}

impl<T> Router<T> {
    /// Registers `methods` on `path`. Re-registering a method on the same path replaces it,
    /// so reloading a module does not leave stale handlers behind.
    pub(crate) fn add(&mut self, methods: &[&str], path: &str, handler: Arc<T>) -> Result<(), PatternError> {
        let pattern = Pattern::parse(path)?;
        let idx = if let Some(i) = self.routes.iter().position(|r| r.pattern.source == pattern.source) {
            i
        } else {
            if pattern.is_static() {
                self.statics.insert(pattern.source.clone(), self.routes.len());
            }
            let mut first: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
            first.sort_unstable();
            first.dedup();
            self.routes.push(Route { pattern, methods: Vec::new(), allow: first.join(", ") });
            self.routes.len() - 1
        };
        let route = &mut self.routes[idx];
        for m in methods {
            let m = m.to_ascii_uppercase();
            route.methods.retain(|(have, _)| *have != m);
            route.methods.push((m, Arc::clone(&handler)));
        }
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.routes.len()
    }

    /// Static paths first (one hash lookup), then parameterised routes in registration order.
    pub(crate) fn lookup(&self, method: &str, path: &str) -> Lookup<'_, T> {
        let mut allow: Option<String> = None;
        if let Some(&i) = self.statics.get(path) {
            let route = &self.routes[i];
            if let Some(handler) = route.handler(method) {
                return Lookup::Found { handler, params: Params::new(), route: &route.pattern.source };
            }
            allow = Some(route.allow.clone());
        }
        for route in self.routes.iter().filter(|r| !r.pattern.is_static()) {
            let Some(caps) = route.pattern.captures(path) else { continue };
            match route.handler(method) {
                Some(handler) => {
                    return match convert(&route.pattern, &caps) {
                        Ok(params) => Lookup::Found { handler, params, route: &route.pattern.source },
                        Err(e) => Lookup::BadParam(e),
                    }
                }
                None => {
                    allow.get_or_insert_with(|| route.allow.clone());
                }
            }
        }
        match allow {
            Some(allow) => Lookup::MethodNotAllowed { allow },
            None => Lookup::NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&[&str], &str, u32)]) -> Router<u32> {
        let mut r = Router::default();
        for (methods, path, id) in routes {
            r.add(methods, path, Arc::new(*id)).unwrap();
        }
        r
    }

    fn found(r: &Router<u32>, method: &str, path: &str) -> (u32, Vec<(String, ParamValue)>) {
        match r.lookup(method, path) {
            Lookup::Found { handler, params, .. } => (**handler, params.into_vec()),
            other => panic!("{method} {path}: expected a match, got {other:?}"),
        }
    }

    #[test]
    fn static_and_root() {
        let r = router(&[(&["GET"], "/", 1), (&["GET"], "/items", 2)]);
        assert_eq!(found(&r, "GET", "/").0, 1);
        assert_eq!(found(&r, "GET", "/items").0, 2);
        assert!(matches!(r.lookup("GET", "/items/"), Lookup::NotFound));
        assert!(matches!(r.lookup("GET", "/nope"), Lookup::NotFound));
    }

    #[test]
    fn typed_params() {
        let r = router(&[
            (&["GET"], "/users/{user_id:int}", 1),
            (&["GET"], "/price/{p:float}", 2),
            (&["GET"], "/name/{n}", 3),
        ]);
        assert_eq!(found(&r, "GET", "/users/42").1, vec![("user_id".into(), ParamValue::Int(42))]);
        assert_eq!(found(&r, "GET", "/users/-7").1, vec![("user_id".into(), ParamValue::Int(-7))]);
        assert_eq!(found(&r, "GET", "/price/2.5").1, vec![("p".into(), ParamValue::Float(2.5))]);
        assert_eq!(found(&r, "GET", "/name/a%20b").1, vec![("n".into(), ParamValue::Str("a b".into()))]);
        match r.lookup("GET", "/users/abc") {
            Lookup::BadParam(errors) => {
                let e = &errors[0];
                assert_eq!(errors.len(), 1);
                assert_eq!((e.name.as_str(), e.input.as_str(), e.converter), ("user_id", "abc", Converter::Int));
            }
            other => panic!("expected BadParam, got {other:?}"),
        }
        assert!(matches!(r.lookup("GET", "/price/nan"), Lookup::BadParam(_)));
        assert!(matches!(r.lookup("GET", "/users/"), Lookup::NotFound));
        assert!(matches!(r.lookup("GET", "/users/1/x"), Lookup::NotFound));
    }

    #[test]
    fn path_converter_takes_the_rest() {
        let r = router(&[(&["GET"], "/files/{rest:path}", 1), (&["GET"], "/a/{x}/b/{y}", 2)]);
        assert_eq!(found(&r, "GET", "/files/a/b/c.txt").1, vec![("rest".into(), ParamValue::Str("a/b/c.txt".into()))]);
        let (_, p) = found(&r, "GET", "/a/1/b/2");
        assert_eq!(p, vec![("x".into(), ParamValue::Str("1".into())), ("y".into(), ParamValue::Str("2".into()))]);
        assert!(matches!(r.lookup("GET", "/a/1/c/2"), Lookup::NotFound));
    }

    #[test]
    fn methods_head_and_405() {
        let r = router(&[(&["GET"], "/items/{id}", 1), (&["POST"], "/items/{id}", 2), (&["PUT", "DELETE"], "/s", 3)]);
        assert_eq!(found(&r, "POST", "/items/1").0, 2);
        match r.lookup("HEAD", "/items/1") {
            Lookup::MethodNotAllowed { allow } => assert_eq!(allow, "GET", "a GET route does not answer HEAD"),
            other => panic!("expected 405, got {other:?}"),
        }
        match r.lookup("PATCH", "/items/1") {
            Lookup::MethodNotAllowed { allow } => assert_eq!(allow, "GET", "the first route's methods, as FastAPI"),
            other => panic!("expected 405, got {other:?}"),
        }
        match r.lookup("GET", "/s") {
            Lookup::MethodNotAllowed { allow } => assert_eq!(allow, "DELETE, PUT"),
            other => panic!("expected 405, got {other:?}"),
        }
    }

    #[test]
    fn earlier_routes_win_and_reregistering_replaces() {
        let mut r = router(&[(&["GET"], "/users/me", 1), (&["GET"], "/users/{id}", 2)]);
        assert_eq!(found(&r, "GET", "/users/me").0, 1);
        assert_eq!(found(&r, "GET", "/users/you").0, 2);
        r.add(&["get"], "/users/{id}", Arc::new(9)).unwrap();
        assert_eq!(found(&r, "GET", "/users/you").0, 9);
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for bad in ["users", "/a/{x:uuid}", "/a/{rest:path}/b", "/a/x{y}", "/a/{x}/{x}", "/a/{}"] {
            assert!(Pattern::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
