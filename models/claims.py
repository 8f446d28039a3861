"""The sender's side of the outbox: claiming what is due, a chat's messages in order, and
recording how each send went (the rows themselves are in `models/outbox.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Select,
    case,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.accounts import ChatChannel
from models.outbox import (
    CLAIM_TIMEOUT,
    HOLDING,
    DeliveryAttempt,
    OutboxMessage,
    OutboxState,
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
