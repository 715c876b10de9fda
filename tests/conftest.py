"""Shared fixtures: compiled shipped flows, a fixed clock, and a guard that keeps tests off the network."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.engine.compiled import CompiledFlow
from bot.flow.compiler import compile_flow, compile_text
from bot.flow.loader import load_flow_file
from tests.pg import postgres_or_skip

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach a non-loopback address."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1") or
                                          host.startswith("/")):
            raise RuntimeError(f"test tried to reach {host!r}; only loopback addresses are allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for this test session (SALESBOT_TEST_POSTGRES_URL overrides)."""
    configured = os.environ.get("SALESBOT_TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    server = postgres_or_skip()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def default_flow() -> CompiledFlow:
    return compile_flow(load_flow_file(FLOWS / "default.yaml"))


@pytest.fixture(scope="session")
def shipped_flows() -> list[CompiledFlow]:
    return [compile_flow(load_flow_file(path)) for path in sorted(FLOWS.glob("*.yaml"))]


def make_flow(text: str) -> CompiledFlow:
    """Compile an inline flow for a test."""
    return compile_text(text, "test.yaml")
