"""`fastcore run module:app` — the command line.

    fastcore run examples.hello:app --port 8000 --threads 2 --access-log
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Any, Sequence


def load_app(target: str) -> Any:
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise SystemExit(f"error: expected MODULE:ATTRIBUTE, got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"error: cannot import {module_name!r}: {exc}") from exc
    try:
        app = getattr(module, attr)
    except AttributeError:
        raise SystemExit(f"error: module {module_name!r} has no attribute {attr!r}") from None
    from .applications import FastCore

    if not isinstance(app, FastCore):
        raise SystemExit(f"error: {target} is a {type(app).__name__}, not a fastcore.FastCore app")
    return app


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    from . import __version__

    parser = argparse.ArgumentParser(prog="fastcore")
    parser.add_argument("--version", action="version", version=f"fastcore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve an app")
    run.add_argument("app", help="the app, as MODULE:ATTRIBUTE")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=positive_int, default=1, help="worker processes (default 1)")
    run.add_argument("--threads", type=positive_int, default=None,
                     help="worker threads per process (default: CPU count when the GIL is off, else 1)")
    run.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    run.add_argument("--access-log", action="store_true", help="log one line per request")
    run.add_argument("--drain-timeout", type=float, default=10.0,
                     help="seconds in-flight requests get to finish on shutdown")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)-8s %(name)s: %(message)s",
                        stream=sys.stderr)
    from .server import serve

    serve(load_app(args.app), args.host, args.port, threads=args.threads, workers=args.workers,
          access_log=args.access_log, drain_timeout=args.drain_timeout)
