"""Starlette's `StaticFiles`, served by the Rust core: mount it and no Python runs per request.

    app.mount("/static", StaticFiles(directory="static"), name="static")

The object only holds the directories and options; `app.mount` hands them to the core
(`Router.mount_files`), which answers as Starlette's `StaticFiles` does (content types from
`mimetypes`, `ETag`/`Last-Modified`, 304s, `Range`, `html=True`'s `index.html`/`404.html`,
405 for methods other than GET/HEAD, no path leaving the directories; see NOTES.md, "Static
files"). Not found, 405 and 401 answers go through the app's exception handlers, as Starlette's
`HTTPException`s do.
"""
from __future__ import annotations

import importlib.util
import mimetypes
import os
from typing import Any, Union

PathLike = Union[str, "os.PathLike[str]"]


class StaticFiles:
    def __init__(
        self,
        *,
        directory: PathLike | None = None,
        packages: list[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        self.directory = directory
        self.packages = packages
        self.all_directories = self.get_directories(directory, packages)
        self.html = html
        self.follow_symlink = follow_symlink
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")

    def get_directories(self, directory: PathLike | None = None,
                        packages: list[str | tuple[str, str]] | None = None) -> list[PathLike]:
        """`directory`, then each package's `statics` folder (or the one named with it)."""
        directories: list[PathLike] = []
        if directory is not None:
            directories.append(directory)
        for package in packages or []:
            if isinstance(package, tuple):
                package, statics_dir = package
            else:
                statics_dir = "statics"
            spec = importlib.util.find_spec(package)
            assert spec is not None, f"Package {package!r} could not be found."
            assert spec.origin is not None, f"Package {package!r} could not be found."
            package_directory = os.path.normpath(os.path.join(spec.origin, "..", statics_dir))
            assert os.path.isdir(package_directory), (
                f"Directory '{statics_dir!r}' in package {package!r} could not be found."
            )
            directories.append(package_directory)
        return directories

    def mount_into(self, core: Any, path: str) -> None:
        """Hands the directories, options and `mimetypes`' tables to the core's router."""
        if not mimetypes.inited:
            mimetypes.init()
        # Resolved once: Starlette resolves them per request, to the same paths unless a
        # directory is itself a symlink that is changed while serving.
        resolve = os.path.abspath if self.follow_symlink else os.path.realpath
        directories = [resolve(os.fsdecode(d)) for d in self.all_directories]
        check = None if self.directory is None else os.fsdecode(self.directory)
        core.mount_files(path, directories, check, self.html, self.follow_symlink, dict(mimetypes.types_map),
                         dict(mimetypes.suffix_map), list(mimetypes.encodings_map))

    @property
    def routes(self) -> list[Any]:
        return []

    def __repr__(self) -> str:
        return f"StaticFiles(directory={self.directory!r}, html={self.html!r})"
