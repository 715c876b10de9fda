"""Browser tests of the web-chat widget: the real server on 127.0.0.1 port 0, driven through Debian's Chromium."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "bot" / "channels" / "webchat_static"
WAIT_MS = 10_000  # the longest any single wait may take; keeps a broken widget from hanging the suite
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests on one event loop, so they share one Chromium (starting it costs ~3 s)."""
    here = Path(__file__).parent
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if here in item.path.parents and pytest_asyncio.is_async_test(item):
            item.add_marker(session_loop, append=False)


def find_chromium() -> str | None:
    """Debian's Chromium (`apt-get install chromium`); SALESBOT_CHROMIUM points at another build."""
    for candidate in (os.environ.get("SALESBOT_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        message = "Chromium not found; install it with `apt-get install -y chromium` (never `playwright install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class FakeClock:
    """The server's clock, moved by hand to make follow-up timers due."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True, kw_only=True)
class LiveServer:
    url: str
    service: Any  # the ConversationService behind the app: tests fire its follow-up timers
    clock: FakeClock

    async def fire_due_timers(self) -> int:
        return int(await self.service.fire_due_timers())


@pytest_asyncio.fixture(loop_scope="session")
async def live_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The real app (bot.server.create_app) on a fresh SQLite file, served by uvicorn on 127.0.0.1 port 0."""
    # Imported here so that the static checks of widget.js run even where the server's stack is not installed.
    import uvicorn  # noqa: PLC0415

    from bot.channels.events import EventHub  # noqa: PLC0415
    from bot.flow.registry import FlowRegistry  # noqa: PLC0415
    from bot.server import SalesbotServer, create_app, open_store  # noqa: PLC0415
    from bot.service import ConversationService  # noqa: PLC0415
    from bot.settings import Settings  # noqa: PLC0415

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", flows_dir=ROOT / "flows",
                        host="127.0.0.1", port=port, public_url=url, webchat_secret="e2e-secret-" + "s" * 32,
                        timer_interval=3600.0)
    store = await open_store(settings.database_url)
    clock = FakeClock()
    # The service is built here, not by the factory, so the test holds it: it fires timers on the fake clock.
    service = ConversationService(store=store, flows=FlowRegistry.from_paths([settings.flows_dir], "default"),
                                  clock=clock)
    hub = EventHub()
    app = create_app(settings, service=service, hub=hub)
    config = uvicorn.Config(app, ws="none", lifespan="on", log_config=None, access_log=False,
                            timeout_graceful_shutdown=2)
    server = SalesbotServer(config, hub=hub, handle_signals=False)  # ends the event streams on shutdown
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            await task  # surfaces the startup error
            raise RuntimeError("uvicorn did not start within 5 s")
        yield LiveServer(url=url, service=service, clock=clock)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
        await store.close()


@dataclass
class Guard:
    """What the pages did that a test must never see: requests off this machine, script errors, CSP violations."""

    blocked: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert self.blocked == [], f"requests to other hosts were attempted: {self.blocked}"
        assert self.page_errors == [], f"uncaught errors in the page: {self.page_errors}"
        assert self.csp_violations == [], f"Content-Security-Policy violations: {self.csp_violations}"
        assert self.dialogs == [], f"dialogs were opened: {self.dialogs}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright, expect  # noqa: PLC0415

    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


class Site:
    """The demo site on the live server, opened in guarded browser contexts."""

    def __init__(self, browser: Any, server: LiveServer) -> None:
        self.browser = browser
        self.server = server
        self.guard = Guard()
        self.contexts: list[Any] = []

    async def new_context(self, viewport: dict[str, int] | None = None) -> Any:
        context = await self.browser.new_context(viewport=viewport or DESKTOP, base_url=self.server.url)
        context.set_default_timeout(WAIT_MS)
        await context.route("**/*", self._keep_local)
        self.contexts.append(context)
        return context

    async def new_page(self, viewport: dict[str, int] | None = None, context: Any = None) -> Any:
        """A page that is not navigated yet; a second page of the same context shares its localStorage."""
        page = await (context or await self.new_context(viewport)).new_page()
        page.on("pageerror", lambda exc: self.guard.page_errors.append(str(exc)))
        page.on("console", self._on_console)
        page.on("dialog", self._on_dialog)
        page.on("response", self._on_response)
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()

    async def _keep_local(self, route: Any) -> None:
        # Proves nothing leaves the machine: no CDN, font, analytics or beacon request is even attempted.
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            self.guard.blocked.append(route.request.url)
            await route.abort()

    def _on_console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.guard.csp_violations.append(message.text)

    async def _on_response(self, response: Any) -> None:
        # Printed, so a failing test's captured output shows what the API refused and why.
        if response.status >= 400 and "/api/" in response.url:
            try:
                body = await response.text()
            except Exception as exc:
                body = f"<unreadable: {exc}>"
            print(f"API {response.request.method} {urlsplit(response.url).path} -> {response.status} {body[:300]}")

    async def _on_dialog(self, dialog: Any) -> None:
        self.guard.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()


@pytest_asyncio.fixture(loop_scope="session")
async def site(browser: Any, live_server: LiveServer) -> AsyncIterator[Site]:
    """Guarded pages on the demo site. After the test: no off-machine request, script error, CSP violation or dialog."""
    opened = Site(browser, live_server)
    try:
        yield opened
    finally:
        await opened.close()
    opened.guard.check()
