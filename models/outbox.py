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
    String,
    Text,
    TextClause,
    bindparam,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.accounts import ChatChannel
from models.base import Base, UTCDateTime, enum_column

# A claim older than this is taken to belong to a process that died mid-send.
CLAIM_TIMEOUT = timedelta(seconds=60)
# The message text one bulk write carries at most (characters): SQLite has one writer, and a
# command waits for the whole write. Fifty notices of a unit's 11,000-character letter were
# half a megabyte and a /xong's tail of 200-400 ms.
WRITE_TEXT = 128_000


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
        return decode_buttons(self.buttons)


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


def decode_buttons(stored: str) -> list[list[tuple[str, str]]]:
    return [[(label, data) for label, data in row] for row in json.loads(stored)]


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


def pieces(
    parts: Sequence[tuple[list[str], list[Envelope]]], budget: int | None = None
) -> list[tuple[list[str], list[Envelope]]]:
    """Notices with the outbox rows that carry them, merged in order into writes of at most
    `budget` characters of text (a part bigger than that is a write of its own): each notice
    stays in the transaction of its rows, so a resumed job queues nothing twice."""
    budget = WRITE_TEXT if budget is None else budget
    merged: list[tuple[list[str], list[Envelope]]] = []
    size = 0
    for keys, envelopes in parts:
        weight = sum(len(e.text) for e in envelopes)
        if not merged or size + weight > budget:
            merged.append(([], []))
            size = 0
        merged[-1][0].extend(keys)
        merged[-1][1].extend(envelopes)
        size += weight
    return merged


async def enqueue_many(session: AsyncSession, envelopes: Sequence[Envelope], now: datetime) -> None:
    """Add many pushes at once (a fan-out), skipping keys already queued.

    Each statement is an `INSERT … SELECT` over a JSON array of 500 rows, the values every
    row shares (priority, state, the moments) bound once: the ORM's bulk insert processed
    every row's nine parameters in Python, a fifth of a job's time on the bot's loop."""
    dialect = (await session.connection()).dialect.name
    groups: dict[tuple[int, bool, datetime], list[list[object]]] = {}
    for e in envelopes:
        row = e.row(now)
        shared = (row["priority"], e.reply, row["not_before"])
        groups.setdefault(shared, []).append([row[name] for name in _PER_ROW])
    statement = _insert_many(dialect)
    for (priority, reply, not_before), rows in groups.items():
        shared_values = {
            "priority": priority,
            "state": (OutboxState.SENDING if reply else OutboxState.PENDING).value,
            "created_at": now,
            "not_before": not_before,
            "claimed_at": now if reply else None,
        }
        for start in range(0, len(rows), 500):
            chunk = json.dumps(rows[start : start + 500], ensure_ascii=False)
            await session.execute(statement, {"rows": chunk, **shared_values})


# What differs from row to row of a fan-out, in the order of the JSON arrays.
_PER_ROW = (
    "key",
    "channel",
    "chat_id",
    "official_id",
    "language",
    "text",
    "buttons",
    "edit_message_id",
    "attachment_id",
)


@cache
def _insert_many(dialect: str) -> TextClause:
    """The fan-out's `INSERT … SELECT` from a JSON array, in the dialect's own words."""
    names = ", ".join(f'"{name}"' for name in _PER_ROW)
    if dialect == "postgresql":
        integers = {"official_id", "attachment_id"}
        values = ", ".join(
            f"CAST(r->>{n} AS INTEGER)" if name in integers else f"r->>{n}"
            for n, name in enumerate(_PER_ROW)
        )
        source = "json_array_elements(CAST(:rows AS json)) AS r"
        shared = (
            "CAST(:priority AS INTEGER), CAST(:state AS VARCHAR), 0, "
            "CAST(:created_at AS TIMESTAMP), CAST(:not_before AS TIMESTAMP), "
            "CAST(:claimed_at AS TIMESTAMP), ''"
        )
    else:
        values = ", ".join(f"value->>{n}" for n in range(len(_PER_ROW)))
        # SQLite: a WHERE before ON CONFLICT, or the parser takes it for a join's ON.
        source = "json_each(:rows) WHERE true"
        shared = ":priority, :state, 0, :created_at, :not_before, :claimed_at, ''"
    table = OutboxMessage.__table__
    return text(
        f"INSERT INTO outbox ({names}, priority, state, attempts, created_at, not_before, "
        f'claimed_at, error) SELECT {values}, {shared} FROM {source} ON CONFLICT ("key") DO NOTHING'
    ).bindparams(
        bindparam("rows", type_=Text()),
        bindparam("priority", type_=Integer()),
        bindparam("state", type_=String()),
        *(bindparam(name, type_=table.c[name].type) for name in _MOMENTS),
    )


_MOMENTS = ("created_at", "not_before", "claimed_at")


async def record_notices(session: AsyncSession, keys: Sequence[str], at: datetime) -> None:
    """The notices (models/notices.py) not recorded yet, 500 to an `INSERT … SELECT` over a
    JSON array of their keys, the moment bound once (the ORM's bulk insert processed it
    again for every row)."""
    statement = _insert_notices((await session.connection()).dialect.name)
    for start in range(0, len(keys), 500):
        chunk = json.dumps(list(keys[start : start + 500]), ensure_ascii=False)
        await session.execute(statement, {"keys": chunk, "at": at})


@cache
def _insert_notices(dialect: str) -> TextClause:
    """The notices' `INSERT … SELECT` from a JSON array, in the dialect's own words."""
    if dialect == "postgresql":
        chosen = (
            "SELECT k, CAST(:at AS TIMESTAMP) "
            "FROM json_array_elements_text(CAST(:keys AS json)) AS k"
        )
    else:  # SQLite: a WHERE before ON CONFLICT, or the parser takes it for a join's ON
        chosen = "SELECT value, :at FROM json_each(:keys) WHERE true"
    return text(
        f'INSERT INTO notices ("key", created_at) {chosen} ON CONFLICT ("key") DO NOTHING'
    ).bindparams(bindparam("keys", type_=Text()), bindparam("at", type_=UTCDateTime()))


async def replied(session: AsyncSession, key: str) -> bool:
    """Whether a reply under this key exists: the update it answers was handled already."""
    return (
        await session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None
    )
