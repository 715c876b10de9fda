"""Fixtures for the HTTP server tests: settings, a controllable clock, the app in-process, and a chat driver."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.channels.events import EventHub
from bot.flow.registry import FlowRegistry
from bot.http.fastpath import FastPathApp
from bot.server import create_app
from bot.service import ConversationService
from bot.settings import Settings
from storage.memory import InMemoryStore
from tests.conftest import FLOWS, NOW

SECRET = "s3cret-for-tests-only-0123456789abcdef"
BASE_URL = "http://127.0.0.1:8000"
API = "/api/chat/sessions"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def make_settings(**changes: Any) -> Settings:
    """Settings for tests: a fixed secret (no file written), the shipped flows, generous limits."""
    base = Settings(webchat_secret=SECRET, flows_dir=FLOWS, webchat_session_rate=10_000, webchat_ip_rate=100_000,
                    timer_interval=3600.0)
    return dataclasses.replace(base, **changes)


@functools.cache
def registry() -> FlowRegistry:
    """Compiled once per test run: compiling the shipped flows takes a while."""
    return FlowRegistry.from_paths([FLOWS], "default")


@dataclass(kw_only=True)
class Server:
    """The app under test and what it was built on."""

    app: FastPathApp
    service: ConversationService
    store: InMemoryStore
    clock: Clock
    hub: EventHub
    settings: Settings


def build(*, ping_interval: float = 15.0, static_dir: Path | None = None, **changes: Any) -> Server:
    settings = make_settings(**changes)
    clock = Clock()
    store = InMemoryStore()
    service = ConversationService(store=store, flows=registry(), clock=clock)
    hub = EventHub()
    extra: dict[str, Any] = {"static_dir": static_dir} if static_dir is not None else {}
    app = create_app(settings, service=service, hub=hub, ping_interval=ping_interval, **extra)
    return Server(app=app, service=service, store=store, clock=clock, hub=hub, settings=settings)


def client_for(app: FastAPI, *, client_ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50_000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@pytest.fixture
def server() -> Server:
    return build()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(server.app) as http:
        yield http


class Chat:
    """One web-chat session driven through the API, like the widget does it."""

    def __init__(self, http: httpx.AsyncClient, created: dict[str, Any]) -> None:
        self.http = http
        self.session_id: str = created["session_id"]
        self.token: str = created["token"]
        self.first: list[dict[str, Any]] = created["messages"]
        self._counter = 0

    @classmethod
    async def open(cls, http: httpx.AsyncClient, **body: Any) -> Chat:
        response = await http.post(API, json=body)
        assert response.status_code == 201, response.text
        return cls(http, response.json())

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    @property
    def url(self) -> str:
        return f"{API}/{self.session_id}"

    async def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return await self.http.post(f"{self.url}/messages", json=body, headers={**self.auth, **headers})

    async def say(self, text: str, client_message_id: str | None = None) -> dict[str, Any]:
        """Send text; returns the 200 body."""
        response = await self.post({"text": text, "client_message_id": client_message_id or self._next_id()})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def choose(self, option: str) -> dict[str, Any]:
        response = await self.post({"choice": option, "client_message_id": self._next_id()})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def history(self, after: int | None = None) -> list[dict[str, Any]]:
        params = {"after": str(after)} if after is not None else {}
        response = await self.http.get(f"{self.url}/messages", params=params, headers=self.auth)
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    def _next_id(self) -> str:
        self._counter += 1
        return f"c-{self._counter}"


@dataclass(frozen=True, kw_only=True)
class Event:
    id: int
    event: str
    data: dict[str, Any]


def parse_stream(text: str) -> tuple[list[Event], list[str]]:
    """Server-Sent Events text -> (events, comment lines and `retry:` fields, in order)."""
    events: list[Event] = []
    other: list[str] = []
    for block in text.split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":") and ": " in line)
        if "data" in fields:
            events.append(Event(id=int(fields["id"]), event=fields["event"], data=json.loads(fields["data"])))
        else:
            other.append(block)
    return events, other


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `condition()` holds; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)
