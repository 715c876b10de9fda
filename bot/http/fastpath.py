"""A FastAPI app whose busiest routes skip FastAPI's own middleware and routing layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send


class FastPathApp(FastAPI):
    """FastAPI, with a few plain Starlette routes answered ahead of it.

    Every prospect message is a POST to one route, and every visitor who opens the chat a POST to another. In
    front of them FastAPI stacks its own layers (error pages, telemetry, a body limit, an exit stack) and a
    router walk, which together cost more than a route's own work besides the database. A fast route runs
    inside the app's own middleware (the same classes and settings, so the same request ids, headers, CORS
    and guards) and exception handlers, and nothing else. Everything else, including a fast route's path
    with another method, goes to FastAPI.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fast: tuple[tuple[Route, ASGIApp], ...] = ()

    def serve_fast(self, routes: Sequence[Route], middleware: Sequence[Middleware]) -> None:
        """Answer `routes` ahead of FastAPI, inside `middleware` (outermost first, as the app's user middleware)
        and the app's exception handlers as registered now."""
        handlers = {key: handler for key, handler in self.exception_handlers.items() if key not in (500, Exception)}
        fast = []
        for route in routes:
            app: ASGIApp = ExceptionMiddleware(route.handle, handlers=handlers, debug=self.debug)
            for layer in reversed(middleware):
                app = layer.cls(app, *layer.args, **layer.kwargs)
            fast.append((route, app))
        self._fast = tuple(fast)

    @property
    def fast_routes(self) -> list[Route]:
        return [route for route, _ in self._fast]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route, app in self._fast:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope["app"] = self
                    scope.update(child_scope)
                    await app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)
