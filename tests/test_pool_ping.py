"""A pooled PostgreSQL connection idle for a while is pinged before use, and replaced when
the server dropped it; one used moments ago is not pinged (models/db.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from models import db
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="DONDOC_TEST_POSTGRES_URL not set")


async def test_an_idle_connection_the_server_dropped_is_replaced_unseen(monkeypatch) -> None:
    engine = db.create_engine(POSTGRES_URL, pool_size=1)
    other = db.create_engine(POSTGRES_URL, pool_size=1)
    try:
        async with engine.connect() as connection:
            first = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with other.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({first})"))
        monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)  # as if idle for long
        async with engine.connect() as connection:
            second = await connection.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await engine.dispose()
        await other.dispose()


async def test_a_connection_used_moments_ago_is_not_pinged(monkeypatch) -> None:
    engine = db.create_engine(POSTGRES_URL, pool_size=1)
    pings = []
    adapted = AsyncAdapt_asyncpg_connection
    original = adapted.ping
    monkeypatch.setattr(adapted, "ping", lambda self: pings.append(1) or original(self))
    try:
        for _ in range(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert pings == [1]
    finally:
        await engine.dispose()
