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


async def reserve_send(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    *,
    interval: float,
    chat_interval: float,
    ahead: float | None,
) -> Slot:
    """The next slot of the channel's schedule for a message to `chat_id`.

    `ahead` is how far into the future a push may book (None for a reply: it books the
    next slot whatever is booked, so a person waits behind at most `ahead` of pushes).
    A chat written to less than `chat_interval` ago is refused until then, without
    booking, so its wait costs the others nothing.
    """
    now = float(await session.scalar(text("SELECT extract(epoch FROM clock_timestamp())")))
    booked = await session.scalar(
        select(SendBudget.next_at).where(SendBudget.channel == channel).with_for_update()
    )
    if booked is None:
        insert = await dialect_insert(session, SendBudget)
        await session.execute(
            insert.values(channel=channel, next_at=0.0).on_conflict_do_nothing(
                index_elements=["channel"]
            )
        )
        booked = await session.scalar(
            select(SendBudget.next_at).where(SendBudget.channel == channel).with_for_update()
        )
    slot = max(now, float(booked or 0.0))
    if ahead is not None and slot - now > ahead:
        return Slot(False, slot - now - ahead)
    chat_next = await session.scalar(
        select(ChatSendBudget.next_at).where(
            ChatSendBudget.channel == channel, ChatSendBudget.chat_id == chat_id
        )
    )
    if chat_next is not None and chat_next > slot:
        return Slot(False, chat_next - now, chat_busy=True)
    await session.execute(
        SendBudget.__table__.update()
        .where(SendBudget.channel == channel)
        .values(next_at=slot + interval)
    )
    insert = await dialect_insert(session, ChatSendBudget)
    await session.execute(
        insert.values(
            channel=channel, chat_id=chat_id, next_at=slot + chat_interval
        ).on_conflict_do_update(
            index_elements=["channel", "chat_id"], set_={"next_at": slot + chat_interval}
        )
    )
    return Slot(True, slot - now)


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
        .values(next_at=func.greatest(SendBudget.next_at, _DATABASE_NOW + seconds))
    )


async def forget_quiet_chats(session: AsyncSession) -> None:
    """Chats not written to for a minute need no row: their next slot is any time."""
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
