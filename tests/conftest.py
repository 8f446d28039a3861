"""Fixtures: a fresh database per test on SQLite, and on PostgreSQL when DONDOC_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main
from locales import TIMEZONE, Translator, translator
from models import Base
from models.clock import FixedClock
from models.db import create_engine, session_factory, upgrade
from tests.city import City, build_city
from tests.synapse import Homeserver, scratch_directory

POSTGRES_URL = os.environ.get("DONDOC_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=TIMEZONE)  # a Wednesday


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "only_on(*channels, reason): an end-to-end scenario about what only these channels have",
    )


async def _fresh_postgres() -> None:
    engine = create_engine(POSTGRES_URL)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    await engine.dispose()


async def _truncate_postgres() -> None:
    engine = create_engine(POSTGRES_URL)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test copies the file, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def make() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        await engine.dispose()

    asyncio.run(make())
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> bool:
    if POSTGRES_URL:
        asyncio.run(_fresh_postgres())
    return bool(POSTGRES_URL)


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_schema: bool
) -> Iterator[str]:
    """The URL of an empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "dondoc.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        asyncio.run(_truncate_postgres())
        yield POSTGRES_URL


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
async def city(sessions: async_sessionmaker[AsyncSession]) -> City:
    async with sessions() as session:
        city = await build_city(session)
        await session.commit()
    return city


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    """One Synapse for the session, started by the first test that needs it; every test
    registers its own bot and officials on it."""
    directory, remove = scratch_directory(tmp_path_factory.mktemp("synapse"))
    server = Homeserver(directory, remove=remove)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def t() -> Translator:
    return translator("vi")


@pytest.fixture
def dondoc(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`dondoc` in-process on the test database: (exit code, stdout, stderr), no traceback."""
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    monkeypatch.delenv("DONDOC_LANGUAGE", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv), clock=FixedClock(NOW))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return run
