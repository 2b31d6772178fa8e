"""Running an app: worker threads in this process, or forked worker processes.

    serve(app, "127.0.0.1", 8000)              # free-threaded: one thread per core
    serve(app, "127.0.0.1", 8000, workers=4)   # GIL builds: four processes, one thread each
    serve(app, "0.0.0.0", 8443, ssl_certfile="cert.pem", ssl_keyfile="key.pem")   # HTTPS, h2 + http/1.1

TLS (rustls) and HTTP/2 run in Rust on the worker threads. `http` picks the HTTP versions: "1"
(the default on cleartext), "2" (cleartext: HTTP/2 by prior knowledge, h2c) or "auto" (the
default with TLS, where ALPN chooses; on cleartext, HTTP/2 when the client opens with its preface).

SIGINT and SIGTERM stop accepting, let in-flight requests finish (up to `drain_timeout`
seconds) and return normally, so the process exits 0. Coroutines still running at the drain
deadline get `CancelledError` and one more second for their `finally` blocks; `to_thread`
calls still running half a second after that are abandoned. A second SIGINT or SIGTERM
during the drain exits at once, with status 1, as uvicorn and Granian do.
"""
from __future__ import annotations

import logging
import os
import platform
import signal
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

from ._core import Server

if TYPE_CHECKING:
    from .applications import FastCore

logger = logging.getLogger("fastcore")
access_logger = logging.getLogger("fastcore.access")


#: The limits `serve()` takes besides `max_body` (16 MiB; over it, 413), with their defaults.
LIMITS: dict[str, Any] = {
    # Request line plus headers, in bytes (Node's default; nginx allows 4 x 8 KiB): 431 beyond.
    "max_header_size": 16 * 1024,
    # Headers per request (hyper's default): 431 beyond.
    "max_headers": 100,
    # Request target (path and query), in bytes (nginx's 8 KiB line buffer): 414 beyond.
    "max_uri": 8 * 1024,
    # Seconds a client may take to send a request head, counted from when the connection
    # waits for one: closes slowloris connections and idle keep-alive ones.
    "header_timeout": 30.0,
    # Seconds a connection may idle between requests before it is closed (uvicorn's
    # --timeout-keep-alive, whose default this is). The header timeout also applies meanwhile.
    "keep_alive_timeout": 5.0,
    # Seconds a client may pause while sending a body (nginx's client_body_timeout is 60): 408.
    "body_timeout": 60.0,
    # Seconds an async handler may run before it is cancelled and the client gets a 504
    # (None: no limit; a sync handler cannot be interrupted).
    "handler_timeout": None,
    # Open connections across all worker threads of a process (None: no cap). At the cap new
    # connections wait in the listen backlog until one closes.
    "max_connections": None,
    # Proxies whose X-Forwarded-For/-Proto are believed, as "10.0.0.0/8,::1" or "*" (uvicorn's
    # --forwarded-allow-ips). None: nobody's, so request.client is always the peer.
    "forwarded_allow_ips": None,
    # HTTP/2 streams a client may have open at once on one connection (Granian's and nginx's
    # default); more are refused with REFUSED_STREAM until one ends.
    "h2_max_concurrent_streams": 100,
    # WebSockets: the largest message a client may send, in bytes (uvicorn's --ws-max-size):
    # the socket closes with 1009 beyond.
    "ws_max_message_size": 16 * 1024 * 1024,
    # Seconds without any frame from the client (pongs included) before the socket closes
    # with 1011 (None: never).
    "ws_idle_timeout": 60.0,
    # Seconds between the server's pings, which a live client answers (None: no pings).
    "ws_ping_interval": 20.0,
}


def gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()


def default_threads() -> int:
    """One thread per core where threads run Python in parallel; one where the GIL would serialise them."""
    return 1 if gil_enabled() else (os.cpu_count() or 1)


def _log_access(client: str, method: str, target: str, version: str, status: int) -> None:
    access_logger.info('%s - "%s %s HTTP/%s" %d', client, method, target, version, status)


def serve(
    app: "FastCore",
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    threads: int | None = None,
    workers: int = 1,
    access_log: bool = False,
    drain_timeout: float = 10.0,
    max_body: int = 16 * 1024 * 1024,
    reuse_port: bool = False,
    root_path: str = "",
    ssl_certfile: str | os.PathLike[str] | None = None,
    ssl_keyfile: str | os.PathLike[str] | None = None,
    ssl_keyfile_password: str | None = None,
    http: str | None = None,
    tune_malloc: bool = True,
    **limits: Any,
) -> None:
    """Serves `app` until SIGINT/SIGTERM. `limits` (all optional; see `LIMITS`) bound what a
    client may send and how long it may take. `root_path` is uvicorn's `--root-path`: the path
    a proxy serves the app under, put in front of every request's path for `request.url`,
    `url_for` and the OpenAPI `servers`, while routes still match the path as sent.

    `ssl_certfile` (a PEM chain, leaf first) and `ssl_keyfile` (PEM; encrypted PKCS#8 with
    `ssl_keyfile_password`) serve HTTPS; a file that is missing, unreadable or unusable raises
    OSError or ValueError before the app starts. `http`: "1", "2" or "auto" (see above).

    `tune_malloc` (glibc only): at start, glibc malloc's mmap and trim thresholds are set from
    the largest body or WebSocket message accepted (above it, and twice that), so that large
    bodies reuse the process's memory instead of being mapped afresh, and page-faulted in, on
    every request; each allocator arena may then keep that much freed memory. False, or
    `MALLOC_MMAP_THRESHOLD_`/`MALLOC_TRIM_THRESHOLD_`/a `glibc.malloc.` tunable in the
    environment, leaves glibc's own adaptive thresholds. See NOTES.md, "Large bodies and the
    allocators"."""
    unknown = set(limits) - set(LIMITS)
    if unknown:
        raise TypeError(f"serve() got unknown limits: {', '.join(sorted(unknown))}")
    if threads is None:
        threads = default_threads()
    if threads < 1 or workers < 1:
        raise ValueError(f"threads and workers must be at least 1 (got threads={threads}, workers={workers})")
    if workers > 1:
        _serve_processes(app, host, port, workers, threads=threads, access_log=access_log,
                         drain_timeout=drain_timeout, max_body=max_body, root_path=root_path,
                         ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                         ssl_keyfile_password=ssl_keyfile_password, http=http, tune_malloc=tune_malloc,
                         **limits)
        return
    app.set_server_root_path(root_path)
    server = Server(app.core, host, port, threads, max_body=max_body, drain_timeout=drain_timeout,
                    access_log=_log_access if access_log else None, reuse_port=reuse_port,
                    ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, ssl_keyfile_password=ssl_keyfile_password,
                    http=http, middleware=app.middleware_plan(), tune_malloc=tune_malloc, **limits)
    try:
        app.startup()
    except BaseException:
        logger.exception("Application startup failed. Exiting.")
        raise SystemExit(3) from None
    try:
        bound_host, bound_port = server.start()
        logger.info("fastcore serving %s://%s:%d (%s, %d worker thread%s, 1 process, pid %d)", server.scheme,
                    bound_host, bound_port, mode(), threads, "" if threads == 1 else "s", os.getpid())
        _wait(server, drain_timeout)
    finally:
        app.shutdown()


def mode() -> str:
    impl = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{impl}, GIL enabled" if gil_enabled() else f"free-threaded {impl}, GIL disabled"


def _wait(server: Server, drain_timeout: float) -> None:
    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if not stopping.is_set():
            logger.info("%s received: draining (up to %.0fs)", signal.Signals(signum).name, drain_timeout)
            stopping.set()
            server.stop()
        else:
            logger.warning("%s received again: exiting without waiting for the drain", signal.Signals(signum).name)
            for handler in logging.getLogger().handlers + logger.handlers:
                handler.flush()
            os._exit(1)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_signal)
    try:
        # Short waits so the main thread returns to Python and runs signal handlers promptly.
        while not server.wait(0.2):
            pass
    finally:
        server.stop()
        server.wait()
    logger.info("fastcore stopped")


def _serve_processes(app: "FastCore", host: str, port: int, workers: int, **options: Any) -> None:
    # Resolve port 0 once so every process binds the same port; a bound, non-listening
    # SO_REUSEPORT socket holds the number without taking connections.
    holder = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, port))
    port = holder.getsockname()[1]
    scheme = "https" if options.get("ssl_certfile") else "http"
    logger.info("fastcore starting %d worker processes on %s://%s:%d (%s)", workers, scheme, host, port, mode())
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                serve(app, host, port, workers=1, reuse_port=True, **options)
            except BaseException:
                logger.exception("worker process failed")
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    holder.close()

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    failed = False
    for child in children:
        _, status = os.waitpid(child, 0)
        failed |= os.waitstatus_to_exitcode(status) != 0
    if failed:
        raise SystemExit(1)
