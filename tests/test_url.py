"""`URL` (python/fastcore/datastructures.py) against Starlette's: parts, `replace`, the query
helpers and `repr`; and `URLPath.make_absolute_url` (routing.py). Without Starlette (3.13t) the
expected values written here still check ours."""
from __future__ import annotations

import pytest

from fastcore.datastructures import URL
from fastcore.routing import URLPath

CASES = ["https://example.com:8443/a/b?x=1&y=2#frag", "http://u:p@h/", "/rel/path?q=1", "http://[::1]:8000/x",
         "ws://h/p", "http://h"]
PARTS = ["scheme", "netloc", "path", "query", "fragment", "username", "password", "hostname", "port", "is_secure"]
CHANGES = [dict(path="/z"), dict(scheme="https"), dict(port=9), dict(hostname="e.org"), dict(query="a=b"),
           dict(username="me"), dict(fragment="f")]


def starlette_url():
    return pytest.importorskip("starlette.datastructures").URL


def test_parts() -> None:
    u = URL("https://user:pw@example.com:8443/a/b?x=1#f")
    assert (u.scheme, u.netloc, u.path, u.query, u.fragment) == ("https", "user:pw@example.com:8443", "/a/b", "x=1", "f")
    assert (u.username, u.password, u.hostname, u.port, u.is_secure) == ("user", "pw", "example.com", 8443, True)
    assert u == "https://user:pw@example.com:8443/a/b?x=1#f"
    assert repr(u) == "URL('https://user:********@example.com:8443/a/b?x=1#f')"
    assert URL("http", "h:1", "/p", "q=1") == "http://h:1/p?q=1"  # the parts, positionally
    assert URL(scheme="http", netloc="a", path="/p") == "http://a/p"
    assert URL("http://h/?a=1&b=2").include_query_params(a=3, c=4) == "http://h/?b=2&a=3&c=4"
    assert URL("http://h/?a=1&b=2").remove_query_params("a") == "http://h/?b=2"
    assert URL("http://h/?a=1").replace_query_params(k="v w") == "http://h/?k=v+w"


@pytest.mark.parametrize("url", CASES)
def test_same_as_starlette(url: str) -> None:
    theirs, ours = starlette_url()(url), URL(url)
    for part in PARTS:
        assert getattr(ours, part) == getattr(theirs, part), part
    for change in CHANGES:
        assert str(ours.replace(**change)) == str(theirs.replace(**change)), change
    assert str(ours.include_query_params(x=3, z=4)) == str(theirs.include_query_params(x=3, z=4))
    assert str(ours.remove_query_params(["x"])) == str(theirs.remove_query_params(["x"]))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("base", ["http://h:8/", "https://h/root/", "http://h/root"])
@pytest.mark.parametrize("path", ["/items/1", "/"])
def test_make_absolute_url(base: str, path: str) -> None:
    ours = URLPath(path).make_absolute_url(base)
    expected = {"http://h:8/": "http://h:8", "https://h/root/": "https://h/root", "http://h/root": "http://h/root"}
    assert ours == expected[base] + path
    starlette = pytest.importorskip("starlette.datastructures")
    assert str(ours) == str(starlette.URLPath(path, protocol="http").make_absolute_url(base))
