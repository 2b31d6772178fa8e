"""`fastcore run module:app` — the command line.

    fastcore run examples.hello:app --port 8000 --threads 2 --access-log
    fastcore run examples.hello:app --port 8443 --ssl-certfile cert.pem --ssl-keyfile key.pem
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


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
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
    run.add_argument("--root-path", default="",
                     help="the path a proxy serves the app under (uvicorn's --root-path): request URLs, url_for "
                          "and the OpenAPI servers carry it; routes match the path as the proxy sends it")
    run.add_argument("--timeout-graceful-shutdown", "--drain-timeout", type=float, default=10.0,
                     dest="drain_timeout",
                     help="seconds in-flight requests get to finish on shutdown (default 10)")
    run.add_argument("--no-tune-malloc", action="store_false", dest="tune_malloc",
                     help="leave glibc malloc's thresholds as they are (by default they are set from --max-body and "
                          "--ws-max-size, so large bodies reuse memory instead of page-faulting it in afresh)")
    limits = run.add_argument_group("limits", "what a client may send, and how long it may take")
    limits.add_argument("--max-body", type=positive_int, default=16 * 1024 * 1024,
                        help="largest request body in bytes; 413 beyond (default 16 MiB)")
    limits.add_argument("--max-header-size", type=positive_int, default=16 * 1024,
                        help="largest request head (request line and headers) in bytes; 431 beyond (default 16 KiB)")
    limits.add_argument("--max-headers", type=positive_int, default=100,
                        help="most headers in a request; 431 beyond (default 100)")
    limits.add_argument("--max-uri", type=positive_int, default=8 * 1024,
                        help="longest request target (path and query) in bytes; 414 beyond (default 8 KiB)")
    limits.add_argument("--timeout-header", type=positive_float, default=30.0, dest="header_timeout",
                        help="seconds to send a request head, from when the connection waits for one; "
                             "closes slowloris and idle keep-alive connections (default 30)")
    limits.add_argument("--timeout-keep-alive", type=positive_float, default=5.0, dest="keep_alive_timeout",
                        help="seconds an idle keep-alive connection stays open between requests (default 5)")
    limits.add_argument("--timeout-body", type=positive_float, default=60.0, dest="body_timeout",
                        help="longest pause in seconds while a request body is sent; 408 beyond (default 60)")
    limits.add_argument("--timeout-handler", type=positive_float, default=None, dest="handler_timeout",
                        help="seconds an async handler may run before it is cancelled with a 504 (default: none)")
    limits.add_argument("--max-connections", type=positive_int, default=None,
                        help="most open connections per process; more wait in the listen backlog (default: none)")
    ws = run.add_argument_group("websockets", "limits of every WebSocket")
    ws.add_argument("--ws-max-size", type=positive_int, default=16 * 1024 * 1024, dest="ws_max_message_size",
                    help="largest message a client may send, in bytes; the socket closes with 1009 beyond "
                         "(default 16 MiB)")
    ws.add_argument("--ws-idle-timeout", type=float, default=60.0,
                    help="seconds without a frame from the client before the socket closes with 1011; 0: never "
                         "(default 60)")
    ws.add_argument("--ws-ping-interval", type=float, default=20.0,
                    help="seconds between the server's pings, which keep live clients out of the idle timeout; "
                         "0: no pings (default 20)")
    run.add_argument("--forwarded-allow-ips", default=os.environ.get("FORWARDED_ALLOW_IPS"),
                     help="proxies (addresses, networks, or '*') whose X-Forwarded-For/-Proto are believed; "
                          "default $FORWARDED_ALLOW_IPS, else none")
    limits.add_argument("--h2-max-concurrent-streams", type=positive_int, default=100,
                        help="HTTP/2 streams a client may have open at once on one connection (default 100)")
    tls = run.add_argument_group("TLS and HTTP versions")
    tls.add_argument("--ssl-certfile", default=None, help="serve HTTPS with this certificate chain (PEM, leaf first)")
    tls.add_argument("--ssl-keyfile", default=None,
                     help="the certificate's private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC)")
    tls.add_argument("--ssl-keyfile-password", default=None, help="password of an encrypted (PKCS#8) --ssl-keyfile")
    tls.add_argument("--http", choices=["1", "2", "auto"], default=None,
                     help="HTTP versions: 1, 2 (cleartext: HTTP/2 by prior knowledge) or auto (TLS: chosen by "
                          "ALPN; cleartext: HTTP/2 when the client opens with its preface). Default: 1 on "
                          "cleartext, auto with TLS")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)-8s %(name)s: %(message)s",
                        stream=sys.stderr)
    from .server import serve

    app = load_app(args.app)
    try:
        serve(app, args.host, args.port, threads=args.threads, workers=args.workers,
              access_log=args.access_log, drain_timeout=args.drain_timeout, max_body=args.max_body,
              max_header_size=args.max_header_size, max_headers=args.max_headers, max_uri=args.max_uri,
              header_timeout=args.header_timeout, keep_alive_timeout=args.keep_alive_timeout,
              body_timeout=args.body_timeout,
              handler_timeout=args.handler_timeout, max_connections=args.max_connections,
              forwarded_allow_ips=args.forwarded_allow_ips, h2_max_concurrent_streams=args.h2_max_concurrent_streams,
              ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile,
              ssl_keyfile_password=args.ssl_keyfile_password, http=args.http, root_path=args.root_path,
              ws_max_message_size=args.ws_max_message_size, ws_idle_timeout=args.ws_idle_timeout or None,
              ws_ping_interval=args.ws_ping_interval or None, tune_malloc=args.tune_malloc)
    except (OSError, ValueError) as exc:
        # What the server refused at start-up (a certificate or key file, a port in use): one
        # line, no traceback. The app's own start-up failures are reported by serve().
        raise SystemExit(f"error: {exc}") from None
