"""`dondoc stats rebuild` beside the bot: the kept counts counted again from the tasks in a
read transaction, then put right in a short write transaction.

Counting a million tasks takes most of a minute; done under the write lock (SQLite's one
writer, or PostgreSQL's row locks on every kept row) it held every `/xong` that long. Here the
counting and the comparison with the kept rows run in a read transaction into temporary
tables; the write transaction only replaces the rows that differ, and only if the data
version (`models/report_store.py`, bumped by triggers with every change to the tasks) is
still the one read before the counting: nothing committed meanwhile, so the counts are those
of the tasks as they are. Otherwise it counts again, up to `TRIES` times; the last time, it
adds the differences it found instead, which is right whatever changed meanwhile, since the
triggers counted each of those changes in the kept rows (a rebuild mends counts gone wrong
before it, not a trigger that keeps making them wrong).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Select, Table, and_, func, select, text, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.city_tallies import city_tallies
from models.report_store import DataVersion
from models.silence_tallies import silence_tallies
from models.tallies import task_tallies
from models.tally_checks import fresh_city_counts, fresh_counts, fresh_silence_counts

TRIES = 5
LOCK_WAIT = "2s"  # PostgreSQL: the longest a try at the lock holds commands behind it
LOCK_TRIES = 10


@dataclass(frozen=True)
class Rebuilt:
    rows: int  # the kept rows after the rebuild (those of the counts as the tasks give them)
    changed: int  # the kept rows put right
    tries: int  # countings done: more than one when the tasks changed meanwhile
    added: bool  # the differences were added to rows that changed meanwhile (the last try)


def _kept_tables() -> list[tuple[Table, Any]]:
    return [
        (task_tallies, fresh_counts),
        (city_tallies, fresh_city_counts),
        (silence_tallies, fresh_silence_counts),
    ]


def _scratch(kept: Table, meta: MetaData) -> tuple[Table, Table]:
    """Temporary tables: the fresh counts, and each key whose count differs (fresh and kept)."""
    keys = [c for c in kept.columns if c.name != "n"]
    fresh = Table(
        f"rebuild_{kept.name}_fresh",
        meta,
        *[
            Column(c.name, c.type, primary_key=True) for c in keys
        ],  # what a kept row is looked up by
        Column("n", Integer),
        prefixes=["TEMPORARY"],
    )
    differ = Table(
        f"rebuild_{kept.name}_differ",
        meta,
        *[Column(c.name, c.type, primary_key=True) for c in keys],
        Column("fresh_n", Integer),
        Column("kept_n", Integer),
        prefixes=["TEMPORARY"],
    )
    return fresh, differ


def _key_match(kept: Table, other: Table) -> Any:
    return and_(*[kept.c[c.name] == other.c[c.name] for c in kept.columns if c.name != "n"])


def _differences(kept: Table, fresh: Table) -> Select[Any]:
    """Keys counted differently from the kept row, and kept rows no longer counted at all."""
    keys = [c.name for c in kept.columns if c.name != "n"]
    joined = fresh.outerjoin(kept, _key_match(kept, fresh))
    changed = (
        select(*[fresh.c[k] for k in keys], fresh.c.n, func.coalesce(kept.c.n, 0))
        .select_from(joined)
        .where(kept.c.n.is_(None) | (kept.c.n != fresh.c.n))
    )
    gone = select(*[kept.c[k] for k in keys], 0, kept.c.n).where(
        ~select(1).where(_key_match(kept, fresh)).exists()
    )
    return changed.union_all(gone)


async def _version(connection: AsyncConnection) -> int:
    total = await connection.scalar(select(func.coalesce(func.sum(DataVersion.n), 0)))
    return int(total or 0)


async def _count(
    connection: AsyncConnection, scratch: list[tuple[Table, Table, Table, Any]]
) -> int:
    """In one read transaction: the version, then the counts and their differences."""
    dialect = connection.dialect.name
    if dialect == "postgresql":  # one snapshot for every statement below
        await connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    version = await _version(connection)  # first: a change after it shows in the re-check
    for kept, fresh, differ, counted in scratch:
        await connection.execute(fresh.delete())
        await connection.execute(differ.delete())
        query = counted(dialect).subquery()
        await connection.execute(fresh.insert().from_select(list(query.c.keys()), select(query)))
        columns = [c.name for c in differ.columns]
        await connection.execute(differ.insert().from_select(columns, _differences(kept, fresh)))
    return version


async def _take_write_lock(connection: AsyncConnection) -> None:
    """Begin, and hold off every change to the tasks until the commit.

    On PostgreSQL the lock waits for the transactions already writing tasks, and every
    `/xong` after it would queue behind that wait: so it gives up after `LOCK_WAIT` and
    tries again a moment later, `LOCK_TRIES` times, before it waits as long as it takes."""
    if connection.dialect.name != "postgresql":
        await connection.begin()  # a write: the transaction is SQLite's one writer from here
        await connection.execute(text("UPDATE data_versions SET n = n WHERE 0 = 1"))
        return
    for attempt in range(LOCK_TRIES + 1):
        await connection.begin()
        if attempt < LOCK_TRIES:
            await connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
        try:
            await connection.execute(text("LOCK TABLE tasks IN SHARE MODE"))
            return
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            await connection.rollback()
            await asyncio.sleep(0.5)


async def _put_right(connection: AsyncConnection, kept: Table, differ: Table, *, add: bool) -> int:
    """Replace the rows that differ by the fresh counts; or add the differences to them."""
    keys = [c.name for c in kept.columns if c.name != "n"]
    found = _key_match(kept, differ)
    # The kept rows read by their key from the few that differ: a condition on each kept row
    # (EXISTS) made SQLite visit all 800,000 of them under the lock.
    listed = tuple_(*[kept.c[k] for k in keys]).in_(select(*[differ.c[k] for k in keys]))
    if add:
        delta = differ.c.fresh_n - differ.c.kept_n
        await connection.execute(
            kept.update()
            .where(listed)
            .values(n=kept.c.n + select(delta).where(found).scalar_subquery())
        )
        await connection.execute(
            kept.insert().from_select(
                [*keys, "n"],
                select(*[differ.c[k] for k in keys], delta).where(
                    ~select(1).where(found).exists(), delta != 0
                ),
            )
        )
    else:
        await connection.execute(kept.delete().where(listed))
        await connection.execute(
            kept.insert().from_select(
                [*keys, "n"],
                select(*[differ.c[k] for k in keys], differ.c.fresh_n).where(differ.c.fresh_n != 0),
            )
        )
    return int(await connection.scalar(select(func.count()).select_from(differ)) or 0)


async def rebuild_beside_writers(engine: AsyncEngine, tries: int = TRIES) -> Rebuilt:
    """Count the kept counts again from the tasks, holding the write lock only to put right
    the rows that differ (see the module's docstring)."""
    meta = MetaData()
    scratch = [(kept, *_scratch(kept, meta), counted) for kept, counted in _kept_tables()]
    async with engine.connect() as connection:
        await connection.run_sync(meta.create_all)
        await connection.commit()
        try:
            for attempt in range(1, tries + 1):
                await connection.begin()
                seen = await _count(connection, scratch)
                rows = 0
                for _, fresh, _, _ in scratch:
                    counted = select(func.count()).select_from(fresh)
                    rows += int(await connection.scalar(counted) or 0)
                await connection.commit()
                await _take_write_lock(connection)
                add = await _version(connection) != seen
                if add and attempt < tries:  # changed meanwhile: count again
                    await connection.rollback()
                    continue
                changed = 0
                for kept, _, differ, _ in scratch:
                    changed += await _put_right(connection, kept, differ, add=add)
                await connection.commit()
                return Rebuilt(rows, changed, attempt, add)
        finally:
            await connection.rollback()
            await connection.run_sync(meta.drop_all)
            await connection.commit()
    raise ValueError("tries must be at least 1")
