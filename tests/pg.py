"""Starts a throwaway PostgreSQL server on 127.0.0.1 for the tests (Debian's postgresql package)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory (Debian layout), or the one on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root; drop to the `postgres` user the package creates."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class PostgresServer:
    """A private cluster in a temp folder, listening on 127.0.0.1 only, trusting local connections."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # not under pytest's tmp_path: that is private to root, and the server runs as `postgres`
        self.root = Path(tempfile.mkdtemp(prefix="salesbot-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "pgdata"
        self.port = _free_port()
        self.url = f"postgresql+asyncpg://salesbot@127.0.0.1:{self.port}/salesbot"

    def start(self) -> None:
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
        run = lambda *args: subprocess.run(_as_postgres(list(args)), check=True, capture_output=True,  # noqa: E731
                                           timeout=120)
        run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "salesbot", "--auth=trust", "-E", "UTF8")
        run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.data / "log"),
            "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "salesbot", "salesbot")

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       check=False, capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_or_skip() -> PostgresServer:
    """Start a server, or skip (fail under CI=true) when PostgreSQL is not installed."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (apt-get install -y postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must run the PostgreSQL tests")
        pytest.skip(message)
    server = PostgresServer(bindir)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        server.stop()
        pytest.fail(f"could not start PostgreSQL: {exc.cmd[-1]!r} said {exc.stderr.decode(errors='replace')}")
    return server
