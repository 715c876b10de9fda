"""WAL checkpoints on a worker thread, so that no request waits for one.

In WAL mode a commit appends its pages to the `-wal` file, and a checkpoint copies them back into the database
file. SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1000 pages: that commit
copies the pages and syncs the file, several milliseconds during which the event loop (where the store runs
SQLite, see inline.py) serves nobody. At a web-chat pace that is about one request in a hundred, which is
what set the p99 latency.

The store's connections turn the automatic checkpoint off (`wal_autocheckpoint=0`), and this runs PASSIVE
checkpoints on its own connection in one worker thread instead: after every `commits` commits, and after
`idle` seconds when fewer came. The sqlite3 module releases the GIL while SQLite works, so the event loop
goes on meanwhile. A PASSIVE checkpoint never waits for a lock and never blocks a reader or the writer.

SQLite starts the WAL over (writes it from its beginning again) only when a write transaction begins after a
checkpoint copied all of it. Under steady load, transactions commit while the checkpoint copies, so it never
copies all of it and the WAL would grow for as long as the load lasts. So once the WAL is `restart_pages`
long and commits came during a checkpoint, a second pass copies just their pages while this process's
transactions wait (`hold_writers`): a millisecond or two of waiting for the next turns, during which the
event loop still serves everything else.
Several processes on one database file each run their own; SQLite lets one checkpoint at a time, and a
write by another process during the second pass only postpones the restart to a later checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("salesbot.storage")

# A web-chat turn writes about ten pages, so a checkpoint every hundred commits keeps the WAL near SQLite's
# own threshold of 1000 pages.
CHECKPOINT_COMMITS = 100
CHECKPOINT_IDLE = 1.0  # seconds: what fewer commits wrote is copied back this long after
RESTART_PAGES = 4000  # a WAL this long (16 MB) is copied whole with writers held, so that it starts over


@dataclass(frozen=True)
class Checkpointed:
    """What `PRAGMA wal_checkpoint(PASSIVE)` reported: the pages in the WAL, and how many of them are now in the
    database file (fewer while a reader still uses older ones: the next checkpoint copies the rest)."""

    wal_pages: int
    copied_pages: int


class WalCheckpointer:
    """Checkpoints one SQLite database file off the event loop. Tell it of each commit with `committed()`."""

    def __init__(self, path: Path, *, hold_writers: Callable[[], AbstractAsyncContextManager[None]] | None = None,
                 commits: int = CHECKPOINT_COMMITS, idle: float = CHECKPOINT_IDLE,
                 restart_pages: int = RESTART_PAGES) -> None:
        self._path = path
        self._restart = restart_pages
        self._hold_writers = hold_writers
        self._every = commits
        self._idle = idle
        self._pending = 0  # commits since the last checkpoint began
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
        self._connection: sqlite3.Connection | None = None  # opened, used and closed on the executor's thread
        self._closed = False
        self.runs = 0  # checkpoints completed
        self.last: Checkpointed | None = None

    def committed(self) -> None:
        """A transaction committed on this database (called on the event loop, after the commit)."""
        self._pending += 1
        if self._task is None:
            if self._closed:
                return
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sqlite-checkpoint")
        if self._pending >= self._every:
            self._wake.set()

    async def checkpoint(self) -> Checkpointed | None:
        """Copy the WAL into the database file now, on the worker thread; then, if the WAL is long, what was
        committed meanwhile, with writers held. None if it failed (the failure is logged; the next one tries
        again, and SQLite's WAL keeps every page until then)."""
        self._pending = 0
        run = asyncio.get_running_loop().run_in_executor
        try:
            result = await run(self._executor, self._checkpoint)
            if self._pending and self._hold_writers is not None and result.wal_pages >= self._restart:
                async with self._hold_writers():
                    result = await run(self._executor, self._checkpoint)
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint of %s failed: %s; retrying after the next commits", self._path, exc)
            return None
        self.runs += 1
        self.last = result
        return result

    async def close(self) -> None:
        """Stop checkpointing and close the connection. If it is the database's last connection, SQLite
        checkpoints the whole WAL and removes it then, on the worker thread. Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)
        except sqlite3.Error as exc:
            log.warning("closing the checkpoint connection of %s failed: %s", self._path, exc)
        finally:
            self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle)
            self._wake.clear()
            if self._pending:
                try:
                    await self.checkpoint()
                except Exception:  # never let one failure end checkpointing: the WAL would grow from then on
                    log.exception("WAL checkpoint of %s failed", self._path)

    # On the worker thread:

    def _checkpoint(self) -> Checkpointed:
        if self._connection is None:
            self._connection = sqlite3.connect(self._path, isolation_level=None)
            # As the store's connections: the WAL is synced before a checkpoint, the database file after it.
            self._connection.execute("PRAGMA synchronous=NORMAL")
        _busy, wal_pages, copied_pages = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return Checkpointed(wal_pages=wal_pages, copied_pages=copied_pages)

    def _disconnect(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()
