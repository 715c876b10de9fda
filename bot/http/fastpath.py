"""A FastAPI app whose busiest routes skip FastAPI's own middleware and routing layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Match, Route
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send

# Where Starlette's request_response finds the exception handlers (ExceptionMiddleware sets it for the others).
_HANDLERS_KEY = "starlette.exception_handlers"


class FastPathApp(FastAPI):
    """FastAPI, with a few plain Starlette routes answered ahead of it.

    Every prospect message is a POST to one route, and every visitor who opens the chat a POST to another. In
    front of them FastAPI stacks its own layers (error pages, telemetry, a body limit, an exit stack) and a
    router walk, which together cost more than a route's own work besides the database. A fast route runs
    inside the app's own middleware (the same classes and settings, so the same request ids, headers, CORS
    and guards) and exception handlers, and nothing else. Everything else, including a fast route's path
    with another method, goes to FastAPI.

    The exception handlers are the ones ExceptionMiddleware would apply, handed to the route the way that
    middleware hands them over (in the scope): the route's own wrapper (Starlette's request_response) applies
    them, so a second wrapper around it would only add a layer to every request and every send.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fast: tuple[tuple[Route, ASGIApp], ...] = ()
        self._handlers: tuple[dict[Any, ExceptionHandler], dict[int, ExceptionHandler]] = ({}, {})

    def serve_fast(self, routes: Sequence[Route], middleware: Sequence[Middleware]) -> None:
        """Answer `routes` ahead of FastAPI, inside `middleware` (outermost first, as the app's user middleware)
        and the app's exception handlers as registered now."""
        defaults = ExceptionMiddleware(self.router, debug=self.debug)
        by_class: dict[Any, ExceptionHandler] = {HTTPException: defaults.http_exception}
        by_status: dict[int, ExceptionHandler] = {}
        for key, handler in self.exception_handlers.items():  # as ExceptionMiddleware.add_exception_handler
            if isinstance(key, int):
                if key != 500:
                    by_status[key] = handler
            elif key is not Exception:
                by_class[key] = handler
        self._handlers = (by_class, by_status)
        fast = []
        for route in routes:
            app: ASGIApp = route.app  # request_response(endpoint): a FULL match already checked the method
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
                    scope[_HANDLERS_KEY] = self._handlers
                    await app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)
