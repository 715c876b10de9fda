"""The HTTP composition root: `create_app(settings)` builds the FastAPI app, `serve(settings)` runs it on uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from starlette.middleware import Middleware

from bot.channels.events import EventHub
from bot.channels.webchat import WebChatChannel
from bot.errors import ConfigError, StorageError
from bot.flow.registry import FlowRegistry
from bot.http.cors import CorsMiddleware
from bot.http.errors import UNAVAILABLE_MESSAGE, ApiError, ErrorCode, add_error_handlers, error_responses
from bot.http.fastpath import FastPathApp
from bot.http.guards import RequestGuardMiddleware, origin_of
from bot.http.middleware import RequestContextMiddleware
from bot.http.ratelimit import TokenBucketLimiter
from bot.http.tokens import SessionTokens, load_or_create_secret, secret_file_for
from bot.scheduler import TimerLoop
from bot.service import Clock, ConversationService
from bot.settings import Settings
from storage.migrate import upgrade
from storage.repository import Store
from storage.sql import SqlAlchemyStore

log = logging.getLogger("salesbot.server")

STATIC_DIR = Path(__file__).resolve().parent / "channels" / "webchat_static"
# The demo page: the widget renders in a shadow DOM with an inline <style>, and needs no eval.
DEMO_PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
                 "img-src 'self' data:")
GRACEFUL_SHUTDOWN_SECONDS = 30


class HealthOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str = "ok"


class ReadyOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str = "ready"
    database: str = "ok"


class _Runtime:
    """What exists only once the app runs: the service, injected or built on a store opened at startup."""

    def __init__(self, service: ConversationService | None) -> None:
        self._service = service

    @property
    def started(self) -> bool:
        return self._service is not None

    def service(self) -> ConversationService:
        if self._service is None:
            raise RuntimeError("the app has not started: run it with its lifespan (uvicorn does), "
                               "or pass service= or store= to create_app")
        return self._service

    def start(self, service: ConversationService) -> None:
        self._service = service


def create_app(settings: Settings, *, service: ConversationService | None = None, store: Store | None = None,
               flows: FlowRegistry | None = None, clock: Clock | None = None, hub: EventHub | None = None,
               ping_interval: float = 15.0, monotonic: Callable[[], float] = time.monotonic,
               static_dir: Path = STATIC_DIR) -> FastPathApp:
    """Build the app. Give it a `service`, or a `store` (and optionally `flows`, `clock`) to build one on;
    with neither, the lifespan migrates and opens `settings.database_url` at startup and closes it at the end.

    Raises:
        ConfigError, FlowError: bad settings or flows, at once rather than on the first request.
    """
    clock = clock or _utc_now
    hub = hub or EventHub()
    registry = flows or (service.flows if service is not None else _flows(settings))
    if service is None and store is not None:
        service = ConversationService(store=store, flows=registry, clock=clock)
    runtime = _Runtime(service)
    if service is not None:
        service.subscribe(hub.publish)
    tokens = SessionTokens(settings.webchat_secret or load_or_create_secret(secret_file_for(settings.database_url)))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        opened: Store | None = None
        if not runtime.started:
            opened = await open_store(settings.database_url)
            runtime.start(ConversationService(store=opened, flows=registry, clock=clock))
            runtime.service().subscribe(hub.publish)
        timers = TimerLoop(runtime.service(), settings.timer_interval)
        timers.start()
        try:
            yield
        finally:
            hub.close()
            await timers.stop()
            if opened is not None:
                await opened.close()

    app = FastPathApp(title="salesbot", version="0.1.0", lifespan=lifespan, redoc_url=None,
                      description="Web-chat API of salesbot. The contract is docs/webchat-api.md.")
    add_error_handlers(app)
    channel = WebChatChannel(
        service=runtime.service, tokens=tokens, hub=hub, max_message_chars=settings.webchat_max_message_chars,
        session_limiter=TokenBucketLimiter(per_minute=settings.webchat_session_rate, clock=monotonic),
        ping_interval=ping_interval)
    app.include_router(channel.router())
    _add_health_routes(app, runtime, hub)
    _add_static_routes(app, static_dir)
    middleware = _middleware(settings, TokenBucketLimiter(per_minute=settings.webchat_ip_rate, clock=monotonic))
    for layer in reversed(middleware):  # add_middleware puts each one outside the previous
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
    app.serve_fast(channel.fast_routes(), middleware)  # the same middleware; one IP limiter for both
    return app


def _middleware(settings: Settings, ip_limiter: TokenBucketLimiter) -> list[Middleware]:
    """Outermost first: the request id and headers wrap everything, then CORS, then the request guard."""
    allowed = ["*"] if "*" in settings.webchat_allowed_origins else [origin_of(settings.base_url),
                                                                      *settings.webchat_allowed_origins]
    return [
        Middleware(RequestContextMiddleware),
        Middleware(CorsMiddleware, allow_origins=allowed, allow_methods=["GET", "POST"],
                   allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "X-Request-ID"],
                   expose_headers=["Retry-After", "X-Request-ID"], max_age=600),
        Middleware(RequestGuardMiddleware, allowed=allowed, limiter=ip_limiter,
                   max_bytes=settings.webchat_max_body_bytes),
    ]


def _add_health_routes(app: FastAPI, runtime: _Runtime, hub: EventHub) -> None:
    @app.get("/healthz", response_model=HealthOut, tags=["operations"])
    async def healthz() -> HealthOut:
        """Liveness: the process answers."""
        return HealthOut()

    @app.get("/readyz", response_model=ReadyOut, responses=error_responses(503), tags=["operations"])
    async def readyz() -> ReadyOut:
        """Readiness: started, not shutting down, and the database answers."""
        if not runtime.started or hub.closed:
            raise ApiError(503, ErrorCode.UNAVAILABLE, "The server is starting or stopping.")
        try:
            await runtime.service().store.ping()
        except StorageError as exc:
            log.warning("readiness check: the database is not reachable", extra={"error": str(exc)})
            raise ApiError(503, ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE) from exc
        return ReadyOut()


def _add_static_routes(app: FastAPI, static_dir: Path) -> None:
    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> FileResponse:
        # Any site may load the script; which sites may talk to the API is decided by the CORS rules.
        return _static_file(static_dir / "widget.js", "application/javascript; charset=utf-8", {
            "cache-control": "public, max-age=300", "access-control-allow-origin": "*",
            "cross-origin-resource-policy": "cross-origin"})

    @app.get("/", include_in_schema=False)
    async def demo_page() -> FileResponse:
        return _static_file(static_dir / "index.html", "text/html; charset=utf-8", {
            "cache-control": "no-cache", "content-security-policy": DEMO_PAGE_CSP})


def _static_file(path: Path, media_type: str, headers: dict[str, str]) -> FileResponse:
    if not path.is_file():
        raise ApiError(404, ErrorCode.NOT_FOUND, f"{path.name} is not installed on this server.")
    return FileResponse(path, media_type=media_type, headers=headers)


# ---------------------------------------------------------------- the timer loop


# ---------------------------------------------------------------- running it


async def open_store(database_url: str) -> Store:
    """Apply migrations, then connect. Raises StorageError with the fix when the database is not usable."""
    await upgrade(database_url)
    return await SqlAlchemyStore.connect(database_url)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, so a busy port fails at startup with a one-line ConfigError."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"HOST={host!r} cannot be listened on ({exc}); set HOST to an address of this "
                          "machine, like 127.0.0.1 or 0.0.0.0") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); stop the program using that port "
                          "or set PORT to a free one") from exc
    sock.set_inheritable(True)
    return sock


class SalesbotServer(uvicorn.Server):
    """uvicorn's server, ending the event streams before it drains connections (they would never finish on
    their own), announcing when it listens, and exiting cleanly on SIGINT/SIGTERM without re-raising them."""

    def __init__(self, config: uvicorn.Config, *, hub: EventHub, on_started: Callable[[], None] | None = None,
                 handle_signals: bool = True) -> None:
        super().__init__(config)
        self._hub = hub
        self._on_started = on_started
        self._handle_signals = handle_signals

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_started is not None:
            self._on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._hub.close()
        await super().shutdown(sockets=sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if not self._handle_signals or threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows event loops
                loop.add_signal_handler(sig, self.handle_exit, sig, None)
                installed.append(sig)
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)


def settle_heap() -> None:
    """Before serving: put everything made so far (modules, compiled flows, the app, the database engine) in the
    garbage collector's permanent generation (gc.freeze). Requests then leave the collector only their own
    objects to walk: a full collection walked the whole heap again, about 70 ms each, a few times a minute
    under load, a long pause for every request in flight."""
    gc.collect()
    gc.freeze()


def server_config(app: FastAPI) -> uvicorn.Config:
    """uvicorn settings: httptools, our JSON logs instead of uvicorn's, a bounded graceful shutdown."""
    return uvicorn.Config(app, http="httptools", ws="none", lifespan="on", log_config=None, access_log=False,
                          server_header=False, proxy_headers=True,
                          timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)


async def serve(settings: Settings, *, flows: FlowRegistry, on_started: Callable[[], None] | None = None) -> None:
    """Listen on HOST:PORT, migrate and open the database, and serve until SIGINT/SIGTERM.

    Raises:
        ConfigError, StorageError: before serving, with one line that says what to fix.
    """
    sock = listen(settings.host, settings.port)
    try:
        store = await open_store(settings.database_url)
        try:
            hub = EventHub()
            app = create_app(settings, store=store, flows=flows, hub=hub)
            log.info("listening", extra={"address": f"{settings.host}:{settings.port}", "pid": os.getpid(),
                                         "url": settings.base_url})
            settle_heap()
            await SalesbotServer(server_config(app), hub=hub, on_started=on_started).serve(sockets=[sock])
        finally:
            await store.close()
    finally:
        sock.close()


def _flows(settings: Settings) -> FlowRegistry:
    if not settings.flows_dir.is_dir():
        raise ConfigError(f"FLOWS_DIR={str(settings.flows_dir)!r} is not a directory; point it at your flows folder")
    return FlowRegistry.from_paths([settings.flows_dir], settings.default_flow)


def _utc_now() -> datetime:
    return datetime.now(UTC)
