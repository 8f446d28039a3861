"""One leader among the bot processes: it runs the scheduled sweeps and the polling receivers.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own
(with TCP keepalives, so the server frees the lock of a leader whose machine vanished
within about 25 s); the others try again every few seconds and one takes over. On SQLite
only one `dondoc run` may use a file (a second is refused), so that one leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.coordination import still_connected, try_lead
from models.db import lock_engine

log = logging.getLogger("dondoc.leader")

RETRY_SECONDS = 5.0  # a follower asks again this often: a dead leader is replaced within 30 s


class AlreadyRunning(RuntimeError):
    """Another `dondoc run` uses this SQLite file."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"another `dondoc run` already uses {path}")
        self.path = path


def sqlite_file(engine: AsyncEngine) -> Path | None:
    url = make_url(str(engine.url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def claim_sqlite_file(engine: AsyncEngine) -> IO[str] | None:
    """Hold `<database>.run.lock` for the life of the process, or refuse: two bots on one
    SQLite file would both run the jobs and both poll the channels. The kernel frees the
    lock when the process ends, however it ends."""
    path = sqlite_file(engine)
    if path is None:
        return None
    handle = open(f"{path}.run.lock", "a+")  # noqa: SIM115 (held until the process ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(path) from None
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


class Leadership:
    """Whether this process leads; `on_lead` runs when it becomes the leader, `on_lost`
    when a leader's lock connection fails (its lock is gone: another may already lead)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        candidate: bool = True,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.engine = engine
        self.candidate = candidate
        self.retry_seconds = retry_seconds
        self.shared = engine.dialect.name == "postgresql"
        self.leading = False
        self.became = asyncio.Event()
        self._lock_engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._on_lead: list[Callable[[], Awaitable[None]]] = []
        self._on_lost: list[Callable[[], Awaitable[None]]] = []

    def when_leading(self, call: Callable[[], Awaitable[None]]) -> None:
        self._on_lead.append(call)

    def when_lost(self, call: Callable[[], Awaitable[None]]) -> None:
        self._on_lost.append(call)

    async def start(self) -> None:
        """Try once at once (so a lone process leads before its channels start), then keep
        trying, or keep checking the lock, in the background."""
        if not self.candidate:
            return
        if not self.shared:
            await self._lead()
            return
        self._lock_engine = lock_engine(str(self.engine.url))
        await self._try()
        self._task = asyncio.create_task(self._watch(), name="leadership")

    async def _try(self) -> None:
        try:
            assert self._lock_engine is not None
            if self._connection is None:
                self._connection = await self._lock_engine.connect()
            if await try_lead(self._connection):
                await self._lead()
        except Exception as error:  # the database is away: try again later
            log.warning("leadership: cannot ask the database (%s)", error)
            await self._drop_connection()

    async def _lead(self) -> None:
        self.leading = True
        self.became.set()
        log.info(
            "leader: this process runs the jobs%s", " (PostgreSQL lock)" if self.shared else ""
        )
        for call in self._on_lead:
            await call()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            if not self.leading:
                await self._try()
                continue
            try:
                assert self._connection is not None
                await still_connected(self._connection)
            except Exception as error:
                log.error("leader: lost the database connection holding the lock (%s)", error)
                self.leading = False
                self.became.clear()
                await self._drop_connection()
                for call in self._on_lost:
                    await call()

    async def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.invalidate()
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    async def stop(self) -> None:
        """Give the lead up (closing its connection frees the lock at once)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._drop_connection()
        if self._lock_engine is not None:
            await self._lock_engine.dispose()
        self.leading = False
