"""The outbox: every message the system sends is first a row here, under a unique key.

A key names what the message is (`reply:telegram:update 81:0`, `blocker:task 4102:event 17`),
so enqueuing the same message twice does nothing and a restart neither loses nor repeats it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    TextClause,
    bindparam,
    case,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from models.accounts import ChatChannel
from models.base import Base, UTCDateTime, enum_column
from models.db import insert_ignoring_duplicates

# A claim older than this is taken to belong to a process that died mid-send.
CLAIM_TIMEOUT = timedelta(seconds=60)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Priority:
    """Lower goes first: a reply to a command never waits behind a digest."""

    REPLY = 0
    ALERT = 5
    BULK = 9


HOLDING = "state = 'sending' OR (state = 'pending' AND attempts > 0)"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "priority", "id"),
        # What holds a chat's next message back (per-chat order): the few rows in flight or
        # being retried, so the check stays cheap however long a chat's queue is.
        Index(
            "ix_outbox_holding",
            "channel",
            "chat_id",
            "priority",
            "id",
            sqlite_where=text(HOLDING),
            postgresql_where=text(HOLDING),
        ),
        # Whether anything is due at all, without walking what waits for the morning.
        Index("ix_outbox_waiting", "state", "channel", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[ChatChannel] = mapped_column(enum_column(ChatChannel, "chat_channel"))
    chat_id: Mapped[str] = mapped_column(String(255))
    official_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=Priority.ALERT)
    # The recipient's language: what a channel adds around the text (Zalo's typed-command
    # footer, a file's note) is written in it.
    language: Mapped[str] = mapped_column(String(8), default="vi", server_default="vi")
    text: Mapped[str] = mapped_column(Text)
    # [[label, data], …] rows of buttons; JSON so both channels can render them their way.
    buttons: Mapped[str] = mapped_column(Text, default="[]")
    # A file sent with `text` as its caption (a chart, a workbook, a letter).
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    # Set when the message replaces one the bot sent before (paging through a list).
    edit_message_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[OutboxState] = mapped_column(
        enum_column(OutboxState, "outbox_state"), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text, default="")

    @property
    def button_rows(self) -> list[list[tuple[str, str]]]:
        return [[(label, data) for label, data in row] for row in json.loads(self.buttons)]


class DeliveryAttempt(Base):
    """Every try to hand a message to a channel, with what the channel answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # sent, retry, wait, unreachable, failed
    detail: Mapped[str] = mapped_column(Text, default="")


def encode_buttons(rows: list[list[tuple[str, str]]]) -> str:
    return json.dumps([[list(button) for button in row] for row in rows], ensure_ascii=False)


@dataclass(frozen=True)
class Envelope:
    """One message about to leave, whatever made it: the one way an outbox row is built.

    A reply to a command is claimed as it is written: the process that handled the command
    sends it as soon as the transaction commits, and only if that process dies does it fall
    to the outbox sender. A push (reminder, alert, digest, a report's files) waits for it.
    """

    key: str
    channel: ChatChannel
    chat_id: str
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    language: str = "vi"
    official_id: int | None = None
    reply: bool = False
    priority: int | None = None  # a push's urgency; replies always go first
    attachment_id: int | None = None  # a file sent with `text` as its caption
    edit_message_id: str | None = None  # replaces the bot's earlier message (paging)
    not_before: datetime | None = None

    def row(self, now: datetime) -> dict[str, Any]:
        """The outbox row's values, as written by `enqueue` and by bulk inserts."""
        return {
            "key": self.key,
            "channel": self.channel,
            "chat_id": self.chat_id,
            "official_id": self.official_id,
            "priority": Priority.REPLY
            if self.reply
            else (Priority.ALERT if self.priority is None else self.priority),
            "language": self.language,
            "text": self.text,
            "buttons": encode_buttons(self.buttons),
            "edit_message_id": self.edit_message_id,
            "attachment_id": self.attachment_id,
            "state": OutboxState.SENDING if self.reply else OutboxState.PENDING,
            "attempts": 0,
            "created_at": now,
            "not_before": self.not_before or now,
            "claimed_at": now if self.reply else None,
            "error": "",
        }


async def enqueue(session: AsyncSession, envelope: Envelope, now: datetime) -> int | None:
    """Add a message unless one with its key exists; returns its id, or None if it did."""
    row = envelope.row(now)
    return await session.scalar(_insert_unless_queued(tuple(row)), row)


@cache
def _insert_unless_queued(names: tuple[str, ...]) -> TextClause:
    """`INSERT … ON CONFLICT ("key") DO NOTHING RETURNING id`, the same on SQLite and
    PostgreSQL, written out once: SQLAlchemy compiles its dialects' ON CONFLICT inserts
    afresh at every execution (they are not cacheable), a millisecond or two of every
    command's reply. The values are bound with the columns' own types."""
    table = OutboxMessage.__table__
    columns = ", ".join(f'"{name}"' for name in names)
    values = ", ".join(f":{name}" for name in names)
    return (
        text(
            f"INSERT INTO outbox ({columns}) VALUES ({values}) "
            'ON CONFLICT ("key") DO NOTHING RETURNING id'
        )
        .bindparams(*(bindparam(name, type_=table.c[name].type) for name in names))
        .columns(table.c.id)
    )


async def enqueue_many(session: AsyncSession, envelopes: Sequence[Envelope], now: datetime) -> None:
    """Add many pushes at once (a fan-out), skipping keys already queued."""
    rows = [e.row(now) for e in envelopes]
    await insert_ignoring_duplicates(session, OutboxMessage, rows, ["key"])


async def replied(session: AsyncSession, key: str) -> bool:
    """Whether a reply under this key exists: the update it answers was handled already."""
    return (
        await session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None
    )


async def mark_sent(
    session: AsyncSession, message_id: int, now: datetime, external_id: str | None = None
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            state=OutboxState.SENT,
            sent_at=now,
            external_id=external_id,
            attempts=OutboxMessage.attempts + 1,
            error="",
        )
    )


async def mark_failed(
    session: AsyncSession,
    message_id: int,
    now: datetime,
    error: str,
    *,
    retry_at: datetime | None = None,
    counted: bool = True,
) -> None:
    """Record a failed attempt: back to pending until `retry_at`, or failed for good; one
    not `counted` (a 429) adds no attempt beyond the first."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            state=OutboxState.PENDING if retry_at else OutboxState.FAILED,
            not_before=retry_at or now,
            claimed_at=None,
            # A 429 leaves the count as it was, but marks the message tried (at least 1): a
            # message being retried holds the chat's next ones back (HOLDING).
            attempts=(
                OutboxMessage.attempts + 1
                if counted
                else case((OutboxMessage.attempts > 0, OutboxMessage.attempts), else_=1)
            ),
            error=error[:2000],
        )
    )


def _earlier_in_line(besides: Sequence[int] = ()) -> Select[tuple[int]]:
    """An earlier message to the same chat at the same priority that holds the later ones
    back: in flight (claimed by someone) or being retried. One merely waiting its turn does
    not: it is claimed with them, first, and a claim sends a chat's messages in order."""
    earlier = aliased(OutboxMessage, name="earlier")
    query = select(earlier.id).where(
        earlier.channel == OutboxMessage.channel,
        earlier.chat_id == OutboxMessage.chat_id,
        earlier.priority == OutboxMessage.priority,
        earlier.id < OutboxMessage.id,
        # Written as the partial index's own condition, so the planner may use that index.
        text(
            f"({HOLDING.replace('state', 'earlier.state').replace('attempts', 'earlier.attempts')})"
        ),
    )
    return query.where(earlier.id.not_in(list(besides))) if besides else query


async def claimed_replies(
    session: AsyncSession, ids: Sequence[int], now: datetime
) -> list[OutboxMessage]:
    """The replies this process wrote and still holds, to send at once, in order. One whose
    chat has an earlier message still to go (a reply being retried) goes back to the outbox,
    to be sent after it."""
    if not ids:
        return []
    mine = (OutboxMessage.id.in_(list(ids))) & (OutboxMessage.state == OutboxState.SENDING)
    held = list(
        (
            await session.scalars(
                select(OutboxMessage.id).where(mine, _earlier_in_line(ids).exists())
            )
        ).all()
    )
    if held:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(held))
            .values(state=OutboxState.PENDING, claimed_at=None)
        )
    rows = await session.scalars(
        select(OutboxMessage).where(mine, OutboxMessage.id.not_in(held)).order_by(OutboxMessage.id)
    )
    return list(rows.all())


async def anything_due(
    session: AsyncSession, now: datetime, channels: Sequence[ChatChannel]
) -> bool:
    """Whether a claim would find anything: two index look-ups, so an idle sender with a
    night's digests held for the morning costs nothing between its polls."""
    if not channels:
        return False
    pending = select(OutboxMessage.id).where(
        OutboxMessage.state == OutboxState.PENDING,
        OutboxMessage.channel.in_(list(channels)),
        OutboxMessage.not_before <= now,
    )
    abandoned = select(OutboxMessage.id).where(
        OutboxMessage.state == OutboxState.SENDING,
        OutboxMessage.claimed_at < now - CLAIM_TIMEOUT,
    )
    found = await session.scalar(select(pending.exists() | abandoned.exists()))
    return bool(found)


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, channels: Sequence[ChatChannel]
) -> list[OutboxMessage]:
    """Take the next due messages for these channels, most urgent first, including abandoned
    claims; a channel not served by this process keeps its rows for the one that serves it.

    At most the first message of a chat at each priority is taken: the chat's next one waits
    until it is sent or given up, so a retried message is never overtaken (per-chat FIFO).
    """
    if not await anything_due(session, now, channels):
        return []
    in_line = ~_earlier_in_line().exists()
    served = OutboxMessage.channel.in_(list(channels))
    # Two queries, not one with OR: each walks its own index in order and stops at `limit`.
    abandoned = list(
        (
            await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.state == OutboxState.SENDING,
                    OutboxMessage.claimed_at < now - CLAIM_TIMEOUT,
                    served,
                    in_line,
                )
                .order_by(OutboxMessage.priority, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    due = (
        list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .with_hint(OutboxMessage, "INDEXED BY ix_outbox_due", "sqlite")
                    .where(
                        OutboxMessage.state == OutboxState.PENDING,
                        OutboxMessage.not_before <= now,
                        served,
                        in_line,
                    )
                    .order_by(OutboxMessage.priority, OutboxMessage.id)
                    .limit(limit - len(abandoned))
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        if len(abandoned) < limit
        else []
    )
    messages = sorted(abandoned + due, key=lambda m: (m.priority, m.id))
    for message in messages:
        message.state = OutboxState.SENDING
        message.claimed_at = now
    await session.flush()
    return messages


async def record_outcome(
    session: AsyncSession,
    message_id: int,
    now: datetime,
    outcome: str,
    detail: str,
    *,
    retry_at: datetime | None = None,
) -> None:
    """One attempt's result: sent (detail is the channel's message id), or retry / failed /
    unreachable with why, or wait (a 429: the channel's pace, not the message's failure, so
    it does not count towards giving up); every attempt leaves a `delivery_attempts` row."""
    if outcome == "sent":
        await mark_sent(session, message_id, now, detail)
        session.add(DeliveryAttempt(outbox_id=message_id, at=now, outcome="sent"))
        return
    await mark_failed(
        session, message_id, now, detail, retry_at=retry_at, counted=outcome != "wait"
    )
    session.add(
        DeliveryAttempt(outbox_id=message_id, at=now, outcome=outcome, detail=detail[:2000])
    )


async def release(session: AsyncSession, message_ids: Sequence[int]) -> None:
    """Claimed rows handed back untried, due now."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.state == OutboxState.SENDING)
        .values(state=OutboxState.PENDING, claimed_at=None)
    )
