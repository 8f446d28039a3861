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

from sqlalchemy import Float, Integer, String, func, literal_column, select, text
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
# Held for a claim's transaction (`models/claims.claim_due`): claims one after another.
CLAIM_LOCK = 0x646F6E646F630003


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


class SendToken(Base):
    """One of the N sends a channel may have had seen by the API within any second. A send
    holds a token from its slot until a second after it was answered (the API saw it no
    later than that), so N tokens are N sends in any second as the API counts them, however
    late a process woke or however long the way there took."""

    __tablename__ = "send_tokens"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    # When the token may be used again (the database's clock): a second after its last send
    # was answered; while that send is on its way, its slot plus UNANSWERED.
    free_at: Mapped[float] = mapped_column(Float, default=0.0)


UNANSWERED = 60.0  # a send not answered by then (the HTTP client gives up far sooner) went


@dataclass(frozen=True)
class Slot:
    """A send slot: `granted` with its `token`, `wait` seconds until it; or refused, ask
    again in `wait` (`chat_busy`: the chat was written to just now or is being written to;
    otherwise no token is free within the time asked)."""

    granted: bool
    wait: float
    chat_busy: bool = False
    token: int | None = None


# The channel's row is locked first, in a statement of its own, so that this statement's
# snapshot sees every booking committed before it (one statement would read the tokens as
# they were when it began, before it waited for the lock).
_LOCK = text("SELECT next_at FROM send_budgets WHERE channel = :channel FOR UPDATE")

_BOOK_MANY = text(
    """
    WITH base AS (
        SELECT now, greatest(now, coalesce(
            (SELECT next_at FROM send_budgets WHERE channel = :channel), 0)) AS base
        FROM (SELECT extract(epoch FROM clock_timestamp()) AS now) AS clock
    ), wanted AS (
        SELECT chat, spacing, ord
        FROM unnest(CAST(:chats AS text[]), CAST(:spacings AS float8[]))
             WITH ORDINALITY AS w(chat, spacing, ord)
    ), checked AS (
        SELECT w.chat, w.spacing, w.ord, coalesce(c.next_at, 0) AS chat_next
        FROM wanted w LEFT JOIN chat_send_budgets c
             ON c.channel = :channel AND c.chat_id = w.chat
    ), eligible AS (
        SELECT checked.*, row_number() OVER (ORDER BY ord) AS rn
        FROM checked, base WHERE chat_next <= base.base
    ), tokens AS (
        SELECT t.slot AS token, t.free_at, row_number() OVER (ORDER BY t.free_at, t.slot) AS rn
        FROM send_tokens t, base
        WHERE t.channel = :channel AND t.slot < :tokens AND t.free_at <= base.now + :ahead
    ), timed AS (
        SELECT e.chat, e.spacing, t.token,
               greatest(base.base + (e.rn - 1) * :interval, t.free_at) AS at
        FROM eligible e JOIN tokens t ON t.rn = e.rn, base
    ), granted AS (
        SELECT timed.* FROM timed, base WHERE at <= base.now + :ahead
    ), booked AS (
        UPDATE send_budgets SET next_at = (SELECT max(at) FROM granted) + :interval
        WHERE channel = :channel AND EXISTS (SELECT 1 FROM granted)
        RETURNING 1
    ), held AS (
        UPDATE send_tokens t SET free_at = g.at + :unanswered
        FROM granted g WHERE t.channel = :channel AND t.slot = g.token
        RETURNING 1
    ), chats AS (
        INSERT INTO chat_send_budgets (channel, chat_id, next_at)
        SELECT :channel, chat, at + :unanswered FROM granted WHERE spacing > 0
        ON CONFLICT (channel, chat_id) DO UPDATE SET next_at = excluded.next_at
        RETURNING 1
    )
    SELECT c.chat, g.at - b.now, g.token, c.chat_next - b.now, b.base - b.now,
           (SELECT paused_until FROM send_budgets WHERE channel = :channel) - b.now,
           (SELECT min(free_at) FROM send_tokens WHERE channel = :channel
            AND slot < :tokens AND slot NOT IN (SELECT token FROM granted)) - b.now
    FROM checked c LEFT JOIN granted g ON g.chat = c.chat, base b
    """
)


async def reserve_sends(
    session: AsyncSession,
    channel: str,
    chats: list[tuple[str, float]],
    *,
    interval: float,
    tokens: int,
    window: float,
    ahead: float,
) -> tuple[dict[str, Slot], float]:
    """Slots for several sends at once (chat, its spacing), in one statement under the
    channel's lock: in order, each with a token free by then, as many as fit within `ahead`
    of now. Each chat's Slot, granted or when to ask again; and how long a 429 still stops
    every send (slots booked before it included)."""
    values = {
        "channel": channel,
        "chats": [chat for chat, _ in chats],
        "spacings": [spacing for _, spacing in chats],
        "interval": interval,
        "tokens": tokens,
        "ahead": ahead,
        "unanswered": UNANSWERED,
    }
    await session.execute(_LOCK, {"channel": channel})
    slots = {}
    spacing = dict(chats)
    rows = (await session.execute(_BOOK_MANY, values)).all()
    paused = 0.0
    for chat, wait, token, chat_wait, queue, pause, token_wait in rows:
        paused = max(paused, float(pause or 0.0))
        if wait is not None:
            slots[chat] = Slot(True, max(0.0, float(wait)), token=int(token))
        elif float(chat_wait) > float(queue):
            # Answered: its spacing is left to wait. On its way (another process's send):
            # ask again soon, it will be answered within moments.
            chat_wait = float(chat_wait)
            slots[chat] = Slot(
                False, max(0.01, chat_wait if chat_wait <= spacing[chat] else 0.1), chat_busy=True
            )
        else:  # no token or slot free within `ahead`: ask again when one may be (a token
            # whose send is on its way frees a window after its answer, so not before that)
            free = min(float(token_wait), window) if token_wait is not None else window
            slots[chat] = Slot(False, max(0.02, max(float(queue), free) - ahead + interval))
    return slots, paused


async def sends_answered(
    session: AsyncSession,
    channel: str,
    answers: list[tuple[int, str, float, float]],
    window: float,
) -> None:
    """Sends were answered (token, chat, the chat's spacing, seconds ago): each token is
    free `window` after its answer, each chat its spacing after (`bot.pacing.Limits`' rule,
    its figures handed in by the sender). The seconds ago were
    measured before this statement left, so the database's clock minus them is no earlier
    than the answer: the budget errs on the safe side, by the time the way here took."""
    await session.execute(
        text(
            """
            WITH answered AS (
                SELECT token, chat, spacing, extract(epoch FROM clock_timestamp()) - ago AS at
                FROM unnest(CAST(:tokens AS int[]), CAST(:chats AS text[]),
                            CAST(:spacings AS float8[]), CAST(:agos AS float8[]))
                     AS a(token, chat, spacing, ago)
            ), freed AS (
                UPDATE send_tokens t SET free_at = a.at + :window
                FROM answered a WHERE t.channel = :channel AND t.slot = a.token
                RETURNING 1
            )
            INSERT INTO chat_send_budgets (channel, chat_id, next_at)
            SELECT DISTINCT ON (chat) :channel, chat, at + spacing
            FROM answered
            ORDER BY chat, at + spacing DESC
            ON CONFLICT (channel, chat_id) DO UPDATE SET next_at = excluded.next_at
            """
        ),
        {
            "channel": channel,
            "window": window,
            "tokens": [token for token, _, _, _ in answers],
            "chats": [chat for _, chat, _, _ in answers],
            "spacings": [spacing for _, _, spacing, _ in answers],
            "agos": [ago for _, _, _, ago in answers],
        },
    )


async def open_budget(session: AsyncSession, channel: str, tokens: int) -> None:
    """The channel's schedule row and its `tokens` window tokens, made once."""
    insert = await dialect_insert(session, SendBudget)
    await session.execute(
        insert.values(channel=channel, next_at=0.0).on_conflict_do_nothing(
            index_elements=["channel"]
        )
    )
    insert = await dialect_insert(session, SendToken)
    await session.execute(
        insert.values(
            [{"channel": channel, "slot": n, "free_at": 0.0} for n in range(tokens)]
        ).on_conflict_do_nothing(index_elements=["channel", "slot"])
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
