"""Engines and sessions for SQLite (the embedded default) and PostgreSQL, and schema upgrades."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Select, event, exc, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from models.defaults import (  # noqa: F401  (re-exported: where callers look for them)
    DEFAULT_DATABASE_URL,
    DEFAULT_SQLITE_SYNCHRONOUS,
    SQLITE_SYNCHRONOUS,
)

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")
LOAD_PARTITION = 2000
SQLITE_BUSY_TIMEOUT_MS = 5000
PING_IDLE_SECONDS = 10.0  # a pooled connection idle longer is pinged before use
MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL's deadlock_detected and serialization_failure: a transaction aborted for
# another's locks, not for anything wrong with its own work.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(synchronous: str) -> Any:
    def on_connect(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return on_connect


def is_transient_conflict(error: BaseException) -> bool:
    """Whether a transaction failed only because another held what it needed, so that the
    same work, done again from the start, may well succeed: nothing of it was committed.

    On PostgreSQL the triggers' shared rows (the city's tallies, a data version slot) make
    two transactions wait on each other, and the server aborts one; on SQLite a writer can
    find the database locked when its busy timeout ran out, or at once when a write follows
    a read of a snapshot another writer has since moved past."""
    if not isinstance(error, exc.DBAPIError):
        return False
    # The asyncpg dialect copies the server's SQLSTATE onto the DB-API error it raises.
    if getattr(error.orig, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    return isinstance(error, exc.OperationalError) and "database is locked" in str(error.orig)


def create_engine(
    url: str, *, synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS, pool_size: int = 5
) -> AsyncEngine:
    """An engine with the settings each backend needs: WAL, foreign keys, a busy timeout and,
    on SQLite, how hard a commit waits for the disk (`synchronous`)."""
    if is_sqlite(url):
        if synchronous.upper() not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
        options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
        if make_url(url).get_driver_name() == "aiosqlite":
            from models.sqlite_driver import one_trip_module

            options["module"] = one_trip_module()
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(synchronous.upper()))
        return engine
    # As many again on a burst; past that a request waits for a connection.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """A pooled connection idle for more than PING_IDLE_SECONDS is pinged before use, and
    replaced if the server is gone (restarted, or a proxy dropped it). `pool_pre_ping` pings
    at every checkout, which asyncpg does in three round trips (begin, a query, rollback):
    several checkouts an update made the pings a tenth of a busy process's work. A
    connection used moments ago was alive then; if the server died meanwhile, the statement
    fails and the pool replaces all its connections, as it would between a ping and a use."""

    def fresh(dbapi_connection: Any, record: Any) -> None:
        record.info["used_at"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) > PING_IDLE_SECONDS:
            try:
                dbapi_connection.ping()
            except Exception as error:  # the pool tries another connection
                raise exc.DisconnectionError() from error
        record.info["used_at"] = time.monotonic()

    event.listen(engine.sync_engine, "connect", fresh)
    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", fresh)


def lock_engine(url: str) -> AsyncEngine:
    """Connections that hold a PostgreSQL session lock (the leader's): one each, never
    pooled, and with TCP keepalives so that the server notices a vanished holder within
    about 25 s and frees its lock for another process."""
    return create_async_engine(
        url,
        poolclass=NullPool,
        connect_args={
            "server_settings": {
                "application_name": "dondoc leader",
                "tcp_keepalives_idle": "10",
                "tcp_keepalives_interval": "5",
                "tcp_keepalives_count": "3",
            }
        },
    )


class WriteGate:
    """SQLite has a single writer: let a person's command go before bulk work.

    Commands take `urgent()` for their short transaction; jobs and the outbox sender take
    `bulk()` for each small chunk, and step aside while a command waits. On PostgreSQL,
    which locks rows, not the database, the gate lets everything through.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._lock: asyncio.Lock | None = None
        self._urgent = 0
        # Told (kind, seconds waited, seconds held) at each release: how benches see who
        # holds the gate for how long. None in the product.
        self.watch: Callable[[str, float, float], None] | None = None

    def _the_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    @asynccontextmanager
    async def urgent(self) -> AsyncIterator[None]:
        if not self.enabled:
            yield
            return
        self._urgent += 1
        try:
            async with self._held("urgent"):
                yield
        finally:
            self._urgent -= 1

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        if not self.enabled:
            yield
            return
        while self._urgent:
            await asyncio.sleep(0.002)
        async with self._held("bulk"):
            yield

    @asynccontextmanager
    async def _held(self, kind: str) -> AsyncIterator[None]:
        if self.watch is None:
            async with self._the_lock():
                yield
            return
        asked = time.perf_counter()
        async with self._the_lock():
            got = time.perf_counter()
            try:
                yield
            finally:
                self.watch(kind, got - asked, time.perf_counter() - got)


_gates: WeakKeyDictionary[AsyncEngine, WriteGate] = WeakKeyDictionary()


def write_gate(engine: AsyncEngine) -> WriteGate:
    """The gate of this engine's database, shared by everything in the process."""
    if engine not in _gates:
        _gates[engine] = WriteGate(enabled=engine.dialect.name == "sqlite")
    return _gates[engine]


async def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT, in the session's own dialect."""
    dialect = (await session.connection()).dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Any, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    """Insert the rows a unique key does not already hold, 500 to a statement."""
    for start in range(0, len(rows), 500):
        statement = (await dialect_insert(session, table)).on_conflict_do_nothing(
            index_elements=keys
        )
        await session.execute(statement, rows[start : start + 500])


async def load_all(session: AsyncSession, query: Select[tuple[T]]) -> list[T]:
    """All rows of a big query, a partition at a time, letting the event loop breathe
    between partitions: the bot answers commands in the same process meanwhile."""
    rows: list[T] = []
    result = await session.stream_scalars(query.execution_options(yield_per=LOAD_PARTITION))
    async for partition in result.partitions():
        rows.extend(partition)
        await asyncio.sleep(0)
    return rows


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    async with sessions() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # alembic loads only when the schema is looked at

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    config = alembic_config(str(connection.engine.url))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Create or upgrade the schema to the newest migration; running it again does nothing."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def head_revision() -> str | None:
    """The newest migration this code knows: the one no other revises, read from the files'
    own `revision` and `down_revision` lines. Loading alembic's script directory for it cost
    `dondoc run` a third of a second before it could answer; alembic still decides when the
    files are not one straight line."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = re.search(r"^revision\b[^=\n]*=\s*[\"']([^\"']+)[\"']", source, re.M)
        down = re.search(r"^down_revision\b[^=\n]*=(.*)$", source, re.M)
        if revision is None or down is None:
            return _alembic_head()
        revisions.add(revision.group(1))
        revised.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else _alembic_head()


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        exists = await connection.run_sync(
            lambda sync: sync.dialect.has_table(sync, "alembic_version")
        )
        if not exists:
            return None
        return await connection.scalar(text("SELECT version_num FROM alembic_version"))
