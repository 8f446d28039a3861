"""The sender's side of the outbox: claiming what is due, a chat's messages in order, and
recording how each send went (the rows themselves are in `models/outbox.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    bindparam,
    case,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from models.accounts import ChatChannel
from models.coordination import CLAIM_LOCK
from models.outbox import (
    CLAIM_TIMEOUT,
    HOLDING,
    DeliveryAttempt,
    OutboxMessage,
    OutboxState,
)

# Built once: a statement built afresh per send pays SQLAlchemy's construction and cache key
# each time, a good part of a reply's cost.
_MARK_SENT = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.__table__.c.id == bindparam("message_id"))
    .values(
        state=OutboxState.SENT,
        sent_at=bindparam("now"),
        external_id=bindparam("external_id"),
        attempts=OutboxMessage.__table__.c.attempts + 1,
        error="",
    )
)
_ATTEMPT = insert(DeliveryAttempt.__table__)


async def mark_sent(
    session: AsyncSession | AsyncConnection,
    message_id: int,
    now: datetime,
    external_id: str | None = None,
) -> None:
    await session.execute(
        _MARK_SENT, {"message_id": message_id, "now": now, "external_id": external_id}
    )


async def mark_failed(
    session: AsyncSession | AsyncConnection,
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


_EARLIER = aliased(OutboxMessage, name="earlier")


def _earlier_in_line() -> Select[tuple[int]]:
    """An earlier message to the same chat at the same priority that holds the later ones
    back: in flight (claimed by someone) or being retried. One merely waiting its turn does
    not: it is claimed with them, first, and a claim sends a chat's messages in order."""
    earlier = _EARLIER
    return select(earlier.id).where(
        earlier.channel == OutboxMessage.channel,
        earlier.chat_id == OutboxMessage.chat_id,
        earlier.priority == OutboxMessage.priority,
        earlier.id < OutboxMessage.id,
        # Written as the partial index's own condition, so the planner may use that index.
        text(
            f"({HOLDING.replace('state', 'earlier.state').replace('attempts', 'earlier.attempts')})"
        ),
    )


def _replies_statement() -> Select[Any]:
    """The replies by id, each with whether an earlier message of its chat holds it back."""
    ids = bindparam("ids", expanding=True)
    held = _earlier_in_line().where(_EARLIER.id.not_in(ids)).exists()
    return (
        select(*REPLY_COLUMNS, held.label("held"))
        .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OutboxState.SENDING)
        .order_by(OutboxMessage.id)
    )


REPLY_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.channel,
    OutboxMessage.chat_id,
    OutboxMessage.text,
    OutboxMessage.buttons,
    OutboxMessage.edit_message_id,
    OutboxMessage.language,
    OutboxMessage.attempts,
    OutboxMessage.attachment_id,
    OutboxMessage.priority,
)
_REPLIES = _replies_statement()
_UNCLAIM = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.__table__.c.id.in_(bindparam("ids", expanding=True)))
    .values(state=OutboxState.PENDING, claimed_at=None)
)


async def claimed_replies(
    session: AsyncSession, ids: Sequence[int]
) -> tuple[list[Row[Any]], list[int]]:
    """The replies this process wrote and still holds, to send at once, in order (their
    columns, as `REPLY_COLUMNS`); and those whose chat has an earlier message still to go (a
    reply being retried), which `unclaim` hands back to the outbox, to follow it. One
    statement that only reads: the common case writes nothing."""
    if not ids:
        return [], []
    rows = (await session.execute(_REPLIES, {"ids": list(ids)})).all()
    return [row for row in rows if not row.held], [row.id for row in rows if row.held]


async def unclaim(session: AsyncSession, ids: Sequence[int]) -> None:
    """Claimed replies handed back to the outbox: pending, due now, for its sender."""
    await session.execute(_UNCLAIM, {"ids": list(ids)})


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
    if (await session.connection()).dialect.name == "postgresql":
        # One claim at a time. A row another claim has taken but not yet committed is
        # skipped (SKIP LOCKED) and still looks merely waiting, so a claim beside it would
        # take the same chat's next message and could send it first.
        await session.execute(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))
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
    session: AsyncSession | AsyncConnection,
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
        await session.execute(
            _ATTEMPT, {"outbox_id": message_id, "at": now, "outcome": "sent", "detail": ""}
        )
        return
    await mark_failed(
        session, message_id, now, detail, retry_at=retry_at, counted=outcome != "wait"
    )
    await session.execute(
        _ATTEMPT, {"outbox_id": message_id, "at": now, "outcome": outcome, "detail": detail[:2000]}
    )


async def release(session: AsyncSession, message_ids: Sequence[int]) -> None:
    """Claimed rows handed back untried, due now."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.state == OutboxState.SENDING)
        .values(state=OutboxState.PENDING, claimed_at=None)
    )
