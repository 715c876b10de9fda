"""`salesbot serve` and `salesbot run` as real processes: start, answer, stop cleanly; fail early in one line."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import FLOWS

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("WEBCHAT_", "DATABASE_", "PORT", "HOST"))}
    return {**inherited, "DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'salesbot.db'}", "FLOWS_DIR": str(FLOWS),
            "HOST": "127.0.0.1", "TIMER_INTERVAL_SECONDS": "0.2", **extra}


@contextmanager
def salesbot(tmp_path: Path, command: str, **extra: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", command], cwd=tmp_path, text=True,
                               env=environment(tmp_path, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def wait_healthy(base: str, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate(timeout=10)
            raise AssertionError(f"salesbot exited with {process.returncode}: {err}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{base}/healthz did not answer within {timeout} s")


def test_serve_answers_then_stops_on_sigint_with_exit_0(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with salesbot(tmp_path, "serve", PORT=str(port)) as process:
        wait_healthy(base, process)
        created = httpx.post(f"{base}/api/chat/sessions", json={"source": "cli-test"}, timeout=10)
        assert created.status_code == 201
        assert httpx.get(f"{base}/readyz", timeout=5).json() == {"status": "ready", "database": "ok"}
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
    assert "Traceback" not in err
    lines = [json.loads(line) for line in err.splitlines()]  # every log line is JSON
    assert any(line["msg"] == "request" and line["path"] == "/api/chat/sessions" for line in lines)
    assert created.json()["token"] not in err
    secret = tmp_path / "db" / "webchat_secret"  # generated next to the SQLite file, private
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert (tmp_path / "db" / "salesbot.db").is_file()


def test_run_prints_the_demo_page_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    with salesbot(tmp_path, "run", PORT=str(port)) as process:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
    assert out == f"salesbot is running: open http://127.0.0.1:{port}/ (Ctrl+C to stop)\n"


@pytest.mark.parametrize(("extra", "message"), [
    ({"PORT": "abc"}, "error: PORT='abc' is not valid; set it to a whole number from 1 to 65535"),
    ({"DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db"}, "error: database postgresql+asyncpg://u:***@127.0.0.1:1/db"),
])
def test_bad_settings_stop_serve_at_startup_in_one_line(tmp_path: Path, extra: dict[str, str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=tmp_path, capture_output=True, text=True,
                          env=environment(tmp_path, **{"PORT": str(free_port()), **extra}), timeout=60,
                          check=False)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if not line.startswith("{")]  # JSON lines are logs
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(message), errors[0]
    assert "Traceback" not in done.stderr


def test_a_busy_port_stops_serve_at_startup_in_one_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=tmp_path, capture_output=True,
                              text=True, env=environment(tmp_path, PORT=str(port)), timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"error: cannot listen on 127.0.0.1:{port} (Address already in use); stop "
                                        "the program using that port or set PORT to a free one"]
