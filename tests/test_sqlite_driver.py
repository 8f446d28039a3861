"""The SQLite driver: each statement one trip to aiosqlite's thread, and what a cursor tells
(rows, row counts, new ids, errors) the same as through SQLAlchemy's own adapter."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from models.db import create_engine
from models.held_writes import WITH_NEXT


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls into aiosqlite's worker thread, by what they ran."""
    counted: Counter[str] = Counter()
    original = aiosqlite.Connection._execute

    async def counting(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        counted[getattr(fn, "__name__", "?")] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counted


async def test_a_statement_is_one_trip_and_an_idle_connection_ends_without_one(
    tmp_path: Path, trips: Counter[str]
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    async with engine.connect() as connection:  # connected: from here on, count
        trips.clear()
        assert (await connection.execute(text("SELECT 1, 2"))).all() == [(1, 2)]
        assert sum(trips.values()) == 1
        await connection.rollback()  # only read: sqlite3 opened no transaction
        assert sum(trips.values()) == 1
        trips.clear()
        async with connection.begin():
            added = await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
            assert (added.rowcount, added.lastrowid) == (1, 1)
            many = await connection.execute(
                text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}]
            )
            assert many.rowcount == 2
        assert trips == Counter(_execute=1, _execute_many=1, commit=1)
    async with engine.connect() as connection:
        changed = await connection.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
        assert changed.rowcount == 2
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
        await connection.rollback()
        rows = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
        assert rows == ["a", "b", "c"]  # the update rolled back with the failed insert
    await engine.dispose()


async def test_a_streamed_query_still_reads_a_partition_at_a_time(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'stream.db'}")
    async with engine.connect() as connection:
        result = await connection.stream(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5)"
                " SELECT i FROM n"
            )
        )
        assert [row[0] async for row in result] == [1, 2, 3, 4, 5]
    await engine.dispose()


async def test_a_held_write_goes_with_the_next_trip_in_order(
    tmp_path: Path, trips: Counter[str]
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'held.db'}")
    held = text(f"INSERT {WITH_NEXT} INTO t (v) VALUES (:v)")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    async with engine.connect() as connection:
        trips.clear()
        async with connection.begin():
            written = await connection.execute(held, [{"v": "a"}, {"v": "b"}])
            assert written.rowcount == 2 and sum(trips.values()) == 0  # not yet sent
            seen = await connection.execute(text("SELECT count(*) FROM t"))
            assert seen.scalar() == 2  # ran first, in the same trip
            assert trips == Counter(_after_pending=1)
            await connection.execute(held, [{"v": "c"}, {"v": "d"}])
        assert trips == Counter(_after_pending=2)  # the commit took the last ones along
        async with connection.begin():
            await connection.execute(held, [{"v": "e"}, {"v": "f"}])
            await connection.rollback()  # dropped, never sent
        assert trips == Counter(_after_pending=2)
        with pytest.raises(IntegrityError):
            async with connection.begin():
                await connection.execute(held, [{"v": "g"}, {"v": "a"}])  # "a" is taken
                with pytest.raises(IntegrityError):  # its failure fails the next statement
                    await connection.execute(text("SELECT 1"))
                # Caught and ignored, as a savepoint's `except IntegrityError` would: every
                # later statement fails too, and so does the commit, so "g" is never kept.
                with pytest.raises(IntegrityError):
                    await connection.execute(text("SELECT 2"))
    async with engine.connect() as connection:  # the pool rolled the spoiled one back
        rows = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
        assert rows == ["a", "b", "c", "d"]
    await engine.dispose()


async def test_a_held_write_failing_at_a_savepoint_spoils_the_transaction(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'held.db'}")
    held = text(f"INSERT {WITH_NEXT} INTO t (v) VALUES (:v)")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
    async with engine.connect() as connection:
        await connection.begin()
        await connection.execute(text("UPDATE t SET v = 'changed' WHERE v = 'a'"))
        await connection.execute(held, [{"v": "x"}, {"v": "x"}])  # the second "x" fails
        try:
            async with connection.begin_nested():
                await connection.execute(text("SELECT 1"))
        except IntegrityError:
            pass  # a duplicate ignored, as code around a savepoint does
        with pytest.raises(IntegrityError):
            await connection.commit()
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT v FROM t"))).scalars().all()
        assert rows == ["a"]  # neither the update nor any trail row was kept
    await engine.dispose()
