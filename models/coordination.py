"""What several bot processes on one PostgreSQL agree through the database: who leads (the
scheduler and the polling receivers), who runs a sweep, and one flood budget for the bot.

Leadership and the job lock are PostgreSQL session-level advisory locks, held on a
connection of their own: a process that dies loses its connection and, with it, the lock.
The flood budget is a row per channel (the next free send slot, in the database's clock)
and a row per chat (when that chat may next be written to), taken under the channel row's
lock, so every process's sends fall into one schedule.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, String, func, literal_column, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.db import dialect_insert
from models.outbox import OutboxMessage, OutboxState

_DATABASE_NOW = literal_column("extract(epoch FROM clock_timestamp())", Float)

# Advisory lock keys: "dondoc" in ASCII, then what the lock is for.
LEADER_LOCK = 0x646F6E646F630001
JOBS_LOCK = 0x646F6E646F630002


class SendBudget(Base):
    """A channel's next free send slot (seconds since the epoch, the database's clock)."""

    __tablename__ = "send_budgets"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)
    # Until when a 429 stops every send, those already booked included.
    paused_until: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class ChatSendBudget(Base):
    """When a chat may next be written to: Telegram's one a second per chat."""

    __tablename__ = "chat_send_budgets"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)


# ---------------------------------------------------------------- leadership and job lock


async def try_lead(connection: AsyncConnection) -> bool:
    """Take the leader's lock if nobody holds it; kept until the connection closes."""
    return bool(await connection.scalar(text(f"SELECT pg_try_advisory_lock({LEADER_LOCK})")))


async def still_connected(connection: AsyncConnection) -> None:
    """Raises when the connection holding a lock is gone (and with it the lock)."""
    await connection.scalar(text("SELECT 1"))


@asynccontextmanager
async def jobs_locked(engine: AsyncEngine) -> AsyncIterator[None]:
    """One sweep at a time across processes: wait for the one running (a leader's, or a
    `dondoc tick`), then hold the lock while this one runs. PostgreSQL: an advisory lock
    on a connection kept for the sweep; SQLite: a lock on a file beside the database. Both
    are freed by the kernel if the process dies."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text(f"SELECT pg_advisory_lock({JOBS_LOCK})"))
            await connection.commit()
            try:
                yield
            finally:
                await connection.execute(text(f"SELECT pg_advisory_unlock({JOBS_LOCK})"))
                await connection.commit()
        return
    database = make_url(str(engine.url)).database
    if database in (None, "", ":memory:"):
        yield
        return
    with open(f"{database}.jobs.lock", "a") as handle:
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- the shared flood budget


@dataclass(frozen=True)
class Slot:
    """A send slot: `granted` and `wait` seconds until it; or refused, ask again in `wait`
    (`chat_busy`: the chat was written to just now, the schedule itself has room)."""

    granted: bool
    wait: float
    chat_busy: bool = False


_BOOK_MANY = text(
    """
    WITH budget AS (
        SELECT next_at FROM send_budgets WHERE channel = :channel FOR UPDATE
    ), base AS (
        SELECT now, greatest(now, coalesce((SELECT next_at FROM budget), 0)) AS base
        FROM (SELECT extract(epoch FROM clock_timestamp()) AS now) AS clock
    ), wanted AS (
        SELECT chat, spacing, ord
        FROM unnest(CAST(:chats AS text[]), CAST(:spacings AS float8[]))
             WITH ORDINALITY AS w(chat, spacing, ord)
    ), checked AS (
        SELECT w.chat, w.spacing, w.ord, coalesce(c.next_at, 0) AS chat_next
        FROM wanted w LEFT JOIN chat_send_budgets c
             ON c.channel = :channel AND c.chat_id = w.chat
    ), room AS (
        SELECT now, base,
               greatest(0, floor((:ahead - (base - now)) / :interval) + 1) AS n
        FROM base
    ), eligible AS (
        SELECT checked.*, row_number() OVER (ORDER BY ord) AS rn
        FROM checked, base WHERE chat_next <= base.base
    ), granted AS (
        SELECT e.chat, e.spacing, room.base + (e.rn - 1) * :interval AS slot
        FROM eligible e, room WHERE e.rn <= room.n
    ), booked AS (
        UPDATE send_budgets SET next_at = (SELECT max(slot) FROM granted) + :interval
        WHERE channel = :channel AND EXISTS (SELECT 1 FROM granted)
        RETURNING 1
    ), chats AS (
        INSERT INTO chat_send_budgets (channel, chat_id, next_at)
        SELECT :channel, chat, slot + spacing FROM granted
        ON CONFLICT (channel, chat_id) DO UPDATE SET next_at = excluded.next_at
        RETURNING 1
    )
    SELECT c.chat, g.slot - b.now, c.chat_next - b.now, b.base - b.now
    FROM checked c LEFT JOIN granted g ON g.chat = c.chat, base b
    """
)


async def reserve_sends(
    session: AsyncSession,
    channel: str,
    chats: list[tuple[str, float]],
    *,
    interval: float,
    ahead: float,
) -> dict[str, Slot]:
    """Slots for several pushes at once (chat, its spacing), in one statement: as many as
    fit within `ahead` of now, in order; each chat's Slot, granted or when to ask again."""
    values = {
        "channel": channel,
        "chats": [chat for chat, _ in chats],
        "spacings": [spacing for _, spacing in chats],
        "interval": interval,
        "ahead": ahead,
    }
    slots = {}
    for chat, wait, chat_wait, queue in (await session.execute(_BOOK_MANY, values)).all():
        if wait is not None:
            slots[chat] = Slot(True, max(0.0, float(wait)))
        elif float(chat_wait) > float(queue):
            slots[chat] = Slot(False, max(0.01, float(chat_wait)), chat_busy=True)
        else:  # no room within `ahead`: ask again when there is
            slots[chat] = Slot(False, max(0.01, float(queue) - ahead + interval))
    return slots


async def open_budget(session: AsyncSession, channel: str) -> None:
    """The channel's schedule row, made once."""
    insert = await dialect_insert(session, SendBudget)
    await session.execute(
        insert.values(channel=channel, next_at=0.0).on_conflict_do_nothing(
            index_elements=["channel"]
        )
    )


async def chat_answered(session: AsyncSession, channel: str, chat_id: str, spacing: float) -> None:
    """A send to the chat was answered just now: its next one waits `spacing` from now."""
    now = _DATABASE_NOW
    insert = await dialect_insert(session, ChatSendBudget)
    await session.execute(
        insert.values(
            channel=channel, chat_id=chat_id, next_at=now + spacing
        ).on_conflict_do_update(
            index_elements=["channel", "chat_id"],
            set_={"next_at": func.greatest(ChatSendBudget.next_at, now + spacing)},
        )
    )


async def pause_sending(session: AsyncSession, channel: str, seconds: float) -> None:
    """A 429 is about the whole bot: no process books a slot before it has passed."""
    await session.execute(
        SendBudget.__table__.update()
        .where(SendBudget.channel == channel)
        .values(
            paused_until=func.greatest(SendBudget.paused_until, _DATABASE_NOW + seconds),
            next_at=func.greatest(SendBudget.next_at, _DATABASE_NOW + seconds),
        )
    )


async def paused_for(session: AsyncSession, channel: str) -> float:
    """Seconds until a 429's pause ends for the channel (0 when sending may go on)."""
    left = await session.scalar(
        select(SendBudget.paused_until - _DATABASE_NOW).where(SendBudget.channel == channel)
    )
    return max(0.0, float(left or 0.0))


async def forget_quiet_chats(session: AsyncSession) -> None:
    """Chats not written to for a minute need no row: their next slot is any time (the
    shared budget is PostgreSQL's; on SQLite the table stays empty)."""
    if session.bind.dialect.name != "postgresql":
        return
    await session.execute(
        ChatSendBudget.__table__.delete().where(
            ChatSendBudget.next_at < text("extract(epoch FROM clock_timestamp()) - 60")
        )
    )


# ---------------------------------------------------------------- health


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest: datetime | None  # the oldest message due and not yet sent


async def outbox_backlog(session: AsyncSession, now: datetime) -> Backlog:
    """Messages due now and not sent (pending or in flight), and since when the oldest waits."""
    waiting = (OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING])) & (
        OutboxMessage.not_before <= now
    )
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxMessage.not_before)).where(waiting)
        )
    ).one()
    return Backlog(int(count or 0), oldest)
