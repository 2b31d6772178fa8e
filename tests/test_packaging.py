"""Packaging (pyproject.toml, Cargo.toml, CHANGELOG.md, python/fastcore/cli.py's --version):
one version everywhere, and the pydantic requirement's markers on each interpreter.

The built wheels themselves are installed and served by `make wheels-test` (ci/wheels_test.py)."""
from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib

import pytest
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement
from packaging.version import Version

import fastcore

from .conftest import REPO


def load(name: str) -> dict:
    with open(REPO / name, "rb") as f:
        return tomllib.load(f)


CARGO_VERSION = load("Cargo.toml")["package"]["version"]
PROJECT = load("pyproject.toml")["project"]


def test_one_version_everywhere() -> None:
    assert "version" in PROJECT["dynamic"] and "version" not in PROJECT, "the version is Cargo.toml's only"
    assert re.fullmatch(r"\d+\.\d+\.\d+", CARGO_VERSION), "a plain X.Y.Z reads the same in PEP 440 and SemVer"
    assert fastcore.__version__ == CARGO_VERSION
    assert importlib.metadata.version("fastcore") == CARGO_VERSION


def test_cli_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "fastcore", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"fastcore {CARGO_VERSION}"


def test_changelog_has_this_version() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(CARGO_VERSION)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.M)


def pydantic_allowed(python_version: str, extras: tuple[str, ...] = ()) -> list[Version]:
    """The pydantic versions (from a fixed sample) that the requirements admit on an interpreter."""
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    env = {"python_version": python_version, "python_full_version": f"{python_version}.0", "extra": ""}
    active = [r for r in reqs if r.name == "pydantic" and (r.marker is None or r.marker.evaluate(env))]
    assert active, f"no pydantic requirement applies on {python_version}"
    sample = [Version(v) for v in ("2.11.9", "2.12.0", "2.12.3", "2.12.4", "2.12.5", "2.13.0", "2.14.3", "3.0.0")]
    return [v for v in sample if all(r.specifier.contains(v, prereleases=True) for r in active)]


@pytest.mark.parametrize("python_version", ["3.11", "3.12", "3.13", "3.14"])
@pytest.mark.parametrize("extras", [(), ("nogil",)])
def test_pydantic_requirement_by_interpreter(python_version: str, extras: tuple[str, ...]) -> None:
    allowed = pydantic_allowed(python_version, extras)
    if python_version == "3.13" or extras:
        # pydantic-core 2.41.4 (pydantic 2.12.3) is the last with cp313t wheels; no marker tells
        # 3.13t from 3.13, so both get it; [nogil] asks for the same range and never conflicts.
        assert allowed == [Version("2.12.0"), Version("2.12.3")]
    else:
        assert Version("2.12.0") in allowed and Version("2.14.3") in allowed
        assert Version("2.11.9") not in allowed


@pytest.mark.parametrize("python_version", ["3.11", "3.12", "3.13", "3.14"])
def test_templates_extra_holds_markupsafe_on_313(python_version: str) -> None:
    """MarkupSafe 3.0.3 is the last with cp313t wheels: `[templates]` holds it there, as for pydantic."""
    reqs = [Requirement(r) for r in PROJECT["optional-dependencies"]["templates"]]
    active = [r for r in reqs if r.marker is None or r.marker.evaluate({"python_version": python_version})]
    assert "jinja2" in {r.name.lower() for r in active}
    markupsafe = [r for r in active if r.name.lower() == "markupsafe"]
    if python_version == "3.13":
        assert markupsafe and markupsafe[0].specifier.contains("3.0.3")
        assert not markupsafe[0].specifier.contains("3.0.4")
    else:
        assert not markupsafe


def test_no_marker_names_the_free_threaded_build() -> None:
    """Why the pin covers GIL 3.13 too: PEP 508's marker variables have no free-threading one
    (PEP 780's `sys_abi_features` is not implemented by packaging, which pip vendors). When this
    starts failing, packaging has learnt it: the 3.13 pin can then spare GIL 3.13."""
    with pytest.raises(InvalidMarker):
        Marker("'t' in sys_abi_features")


def test_typing_files_are_in_the_package() -> None:
    package = REPO / "python" / "fastcore"
    assert (package / "py.typed").is_file()
    assert (package / "_core.pyi").is_file()
