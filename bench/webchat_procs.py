"""Server subprocesses for bench/webchat.py: start pinned with a raised fd limit, wait for health, measure, stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.webchat_http import HOST, Connection, HttpError, get

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def raise_fd_limit() -> int:
    """Raise this process's open-files soft limit to the hard limit; returns the new limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def pin(cpu: int | None) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def cpu_plan() -> tuple[int | None, int | None]:
    """(server CPU, generator CPU): two different CPUs when this process may use at least two, else no pinning."""
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)


class ServerProcess:
    """A server started as a subprocess, pinned to `cpu`, with the open-files limit raised, logging to a file."""

    def __init__(self, *, name: str, argv: Sequence[str], env: dict[str, str], port: int, cwd: Path, log: Path,
                 cpu: int | None) -> None:
        self.name = name
        self.port = port
        self.log = log

        with log.open("wb") as out:
            self.process = subprocess.Popen(list(argv), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        # Set from outside (no preexec_fn): the child is still importing, long before it opens its sockets.
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.prlimit(self.process.pid, resource.RLIMIT_NOFILE, (hard, hard))
        if cpu is not None:
            os.sched_setaffinity(self.process.pid, {cpu})

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_healthy(self, timeout: float = 60.0) -> None:
        """Poll GET /healthz until it answers 200; raise with the log's tail if the server dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, HttpError, asyncio.IncompleteReadError):
                connection = await Connection.open(self.port)
                try:
                    if (await connection.request(get(self.port, "/healthz"))).status == 200:
                        return
                finally:
                    connection.close()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def rss_bytes(self) -> int:
        """Resident memory (VmRSS) of the server process."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS in /proc/{self.pid}/status")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime and stime (fields 14 and 15)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM (a graceful drain), then SIGKILL after `grace` seconds."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


class CpuMeter:
    """CPU used by the server and by this process (the load generator) between start() and stop()."""

    def __init__(self, server: ServerProcess, clock: Callable[[], float] = time.perf_counter) -> None:
        self._server = server
        self._clock = clock
        self.server = self.generator = 0.0

    def start(self) -> None:
        self._t = self._clock()
        self._s = self._server.cpu_seconds()
        self._g = time.process_time()

    def stop(self) -> None:
        wall = max(self._clock() - self._t, 1e-9)
        self.server = (self._server.cpu_seconds() - self._s) / wall
        self.generator = (time.process_time() - self._g) / wall
