"""Per-person throttles kept in the database, so every bot process sharing it counts together.

Each (kind, key) is one row holding when its next event is "due" (the generic cell rate
algorithm): a rate of `limit` per `window` lets `limit` events come at once and then one
every `window / limit`, `limit` per window on average however the events are spread. Taking
an event is one conditional UPDATE (or the first INSERT), so two processes at the same moment
cannot both take the last one, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Float, String, Update, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.db import dialect_insert


class ThrottleState(Base):
    __tablename__ = "throttles"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # When the key's schedule is next due, in seconds since the epoch (a float: SQLite and
    # PostgreSQL do the same arithmetic on it). A key is refused while this is more than
    # the burst ahead of now.
    due_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Rate:
    """`limit` events per `window`, for the keys of one `kind`."""

    kind: str
    limit: int
    window: timedelta

    @property
    def interval(self) -> float:
        return self.window.total_seconds() / self.limit

    @property
    def burst(self) -> float:
        """How far ahead of now a key's schedule may run: `limit` events at once."""
        return self.window.total_seconds() - self.interval


def _mine(rate: Rate, key: str) -> ColumnElement[bool]:
    return (ThrottleState.kind == rate.kind) & (ThrottleState.key == key[:200])


def _advance(rate: Rate, key: str, moment: float) -> Update:
    """Move the key's schedule on by one event, if it is not more than the burst ahead."""
    return (
        update(ThrottleState)
        .where(_mine(rate, key), ThrottleState.due_at <= moment + rate.burst)
        .values(
            due_at=case((ThrottleState.due_at > moment, ThrottleState.due_at), else_=moment)
            + rate.interval
        )
    )


async def take(session: AsyncSession, rate: Rate, key: str, now: datetime) -> bool:
    """Count one event for `key` if the rate allows it now; False (nothing counted) if not."""
    moment = now.timestamp()
    if (await session.execute(_advance(rate, key, moment))).rowcount:  # type: ignore[attr-defined]
        return True
    row = {"kind": rate.kind, "key": key[:200], "due_at": moment + rate.interval}
    first = (
        (await dialect_insert(session, ThrottleState))
        .values(**row)
        .on_conflict_do_nothing(index_elements=["kind", "key"])
    )
    if (await session.execute(first)).rowcount:  # type: ignore[attr-defined]
        return True
    # Another process wrote the first row meanwhile, or the key is refused: ask once more.
    return bool((await session.execute(_advance(rate, key, moment))).rowcount)  # type: ignore[attr-defined]


async def give_back(session: AsyncSession, rate: Rate, key: str) -> None:
    """Uncount the event just taken (it turned out not to be one that counts)."""
    await session.execute(
        update(ThrottleState)
        .where(_mine(rate, key))
        .values(due_at=ThrottleState.due_at - rate.interval)
    )


async def refused_until(
    session: AsyncSession, rate: Rate, key: str, now: datetime
) -> datetime | None:
    """When `key` may have its next event, if not now."""
    due_at = await session.scalar(select(ThrottleState.due_at).where(_mine(rate, key)))
    if due_at is None or due_at <= now.timestamp() + rate.burst:
        return None
    return datetime.fromtimestamp(due_at - rate.burst, UTC)
