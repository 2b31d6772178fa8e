"""A WebSocket route's endpoint as the core calls it: `endpoint(raw_request, channel)`.

`compile_websocket` runs once per route. It plans the handler's parameters with the same
analyzer HTTP routes use (path, query, header and cookie parameters, `Depends`, the injected
`WebSocket`), and returns the coroutine function the core spawns per connection: it builds the
`WebSocket`, solves the plan, calls the handler, and exits yield dependencies when the handler
is done. Failures go FastAPI's way:
- a parameter that does not validate raises `WebSocketRequestValidationError`, whose default
  handler closes with 1008 (before `accept`, the client sees a 403);
- `WebSocketException(code, reason)` closes with that code;
- other exceptions go to the app's handler for them, if it has one; else they are logged, and
  the core answers 500 (before `accept`) or closes with 1011.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from .dependencies.analyze import analyze
from .dependencies.solve import State
from .dependencies.straight import StraightSolver
from .exceptions import RequestValidationError, WebSocketRequestValidationError
from .websockets import WebSocket


def compile_websocket(func: Callable[..., Any], path: str, *, dependencies: Sequence[Any] = (),
                      app: Any = None, plain: bool = False) -> tuple[str, Callable[..., Any]]:
    """The router pattern and the endpoint. `plain`: a Starlette-style endpoint that takes the
    `WebSocket` as its one argument (`add_websocket_route`), with no parameters planned."""
    if not inspect.iscoroutinefunction(func):
        raise TypeError(f"a WebSocket endpoint must be an async function, got {func!r}")
    plan = analyze(func if not plain else _no_params, path, [] if plain else dependencies)
    solver = None if plain else StraightSolver(plan, app)

    async def endpoint(raw: Any, channel: Any) -> None:
        websocket = WebSocket(raw, channel, app)
        state = State(raw, app)
        state.websocket = websocket
        try:
            try:
                if solver is None:
                    await func(websocket)
                    return
                try:
                    values = await solver.solve(state)
                except RequestValidationError as exc:
                    raise WebSocketRequestValidationError(exc.errors()) from None
                await func(**values)
            finally:
                for stack in (state.fstack, state.stack):
                    if stack is not None:
                        await stack.aclose()
        except BaseException as exc:  # noqa: BLE001 - handled or re-raised below
            if app is None or not await app._websocket_error(exc, websocket):
                raise

    endpoint.__qualname__ = getattr(func, "__qualname__", "websocket_endpoint")
    return plan.router_path, endpoint


async def _no_params() -> None:
    """Stands in for a plain endpoint in the analyzer, which only supplies the router path."""

