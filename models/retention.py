"""What is deleted when it is no longer needed, and what is kept forever.

Deleted, each after its own number of days: delivered outbox rows with their delivery
attempts, stored files once no link to them is still valid and no message waiting to leave
carries them (and the kept reports built as long ago), and link codes that were used, revoked or have expired; and the per-person
throttles whose schedule has passed (such a key counts as one never seen).

Never deleted: tasks, their events (the history), deadline changes, and the notices and
urgings — the records of what was already sent and how often a task was urged, which keep
reminders from repeating and drive escalation.

Deletes go in batches, each its own short transaction taken through the write gate, so a
running bot's commands never wait long for SQLite's one writer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.accounts import LinkCode
from models.attachments import Attachment
from models.db import write_gate
from models.outbox import DeliveryAttempt, OutboxMessage, OutboxState
from models.report_store import StoredReport
from models.throttles import forget_passed

BATCH = 5000
# Files are few but large: fewer to a transaction.
FILE_BATCH = 100
WAITING = (OutboxState.PENDING, OutboxState.SENDING)
# One batch: (session, after id, size) -> (last id looked at or None when done, rows, extra rows)
Batch = Callable[[AsyncSession, int, int], Awaitable[tuple[int | None, int, int]]]


@dataclass(frozen=True)
class Retention:
    """How many days each kind of row is kept; 0 keeps it forever."""

    sent_days: int = 90  # delivered outbox rows and their delivery attempts
    attachment_days: int = 30  # stored files: the life of a file link (bot/files.py)
    link_code_days: int = 30  # used, revoked or expired link codes


@dataclass(frozen=True)
class Pruned:
    outbox: int = 0
    attempts: int = 0
    attachments: int = 0
    link_codes: int = 0
    throttles: int = 0
    reports: int = 0

    @property
    def total(self) -> int:
        return (
            self.outbox
            + self.attempts
            + self.attachments
            + self.link_codes
            + self.throttles
            + self.reports
        )


async def _in_batches(
    sessions: async_sessionmaker[AsyncSession], work: Batch, batch: int
) -> tuple[int, int]:
    """Run `work` in short gated transactions until it finds nothing: a walk along the
    primary key, so the whole run reads each table once however many batches it takes."""
    after, total, extra = 0, 0, 0
    while True:
        async with sessions() as session:
            async with write_gate(session.bind).bulk(), session.begin():
                last, deleted, more = await work(session, after, batch)
            total, extra = total + deleted, extra + more
        if last is None:
            return total, extra
        after = last


def _before(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


async def _sent_batch(
    session: AsyncSession, after: int, batch: int, cutoff: datetime
) -> tuple[int | None, int, int]:
    ids = list(
        (
            await session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.id > after,
                    OutboxMessage.state == OutboxState.SENT,
                    OutboxMessage.sent_at < cutoff,
                )
                .order_by(OutboxMessage.id)
                .limit(batch)
            )
        ).all()
    )
    if not ids:
        return None, 0, 0
    attempts = await session.execute(
        delete(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(ids))
    )
    await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return ids[-1], len(ids), attempts.rowcount or 0


async def _attachment_batch(
    session: AsyncSession, after: int, batch: int, cutoff: datetime
) -> tuple[int | None, int, int]:
    carried_by = OutboxMessage.attachment_id == Attachment.id
    still_needed = or_(
        exists().where(carried_by, OutboxMessage.state.in_(WAITING)),
        # A message sent since the cutoff carries a link that is still valid.
        exists().where(carried_by, OutboxMessage.sent_at >= cutoff),
    )
    ids = list(
        (
            await session.scalars(
                select(Attachment.id)
                .where(Attachment.id > after, Attachment.created_at < cutoff, ~still_needed)
                .order_by(Attachment.id)
                .limit(batch)
            )
        ).all()
    )
    if not ids:
        return None, 0, 0
    # The messages that carried the file stay (until their own time): they forget the file
    # rather than going with it (the foreign key would cascade).
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.attachment_id.in_(ids)).values(attachment_id=None)
    )
    await session.execute(delete(Attachment).where(Attachment.id.in_(ids)))
    return ids[-1], len(ids), 0


async def _link_code_batch(
    session: AsyncSession, after: int, batch: int, cutoff: datetime
) -> tuple[int | None, int, int]:
    ids = list(
        (
            await session.scalars(
                select(LinkCode.id)
                .where(
                    LinkCode.id > after,
                    or_(
                        LinkCode.used_at < cutoff,
                        LinkCode.revoked_at < cutoff,
                        LinkCode.expires_at < cutoff,
                    ),
                )
                .order_by(LinkCode.id)
                .limit(batch)
            )
        ).all()
    )
    if not ids:
        return None, 0, 0
    await session.execute(delete(LinkCode).where(LinkCode.id.in_(ids)))
    return ids[-1], len(ids), 0


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    retention: Retention,
    *,
    batch: int = BATCH,
) -> Pruned:
    """Delete what `retention` no longer keeps at `now`; running it again deletes nothing new."""
    outbox = attempts = files = codes = reports = 0
    if retention.sent_days:
        cutoff = _before(now, retention.sent_days)
        outbox, attempts = await _in_batches(
            sessions, lambda s, after, n: _sent_batch(s, after, n, cutoff), batch
        )
    if retention.attachment_days:
        cutoff = _before(now, retention.attachment_days)
        # A kept report goes with its files' time: it would otherwise point at deleted ones.
        async with sessions() as session, write_gate(session.bind).bulk(), session.begin():
            old = await session.execute(delete(StoredReport).where(StoredReport.built_at < cutoff))
            reports = old.rowcount or 0
        files, _ = await _in_batches(
            sessions,
            lambda s, after, n: _attachment_batch(s, after, n, cutoff),
            min(batch, FILE_BATCH),
        )
    if retention.link_code_days:
        cutoff = _before(now, retention.link_code_days)
        codes, _ = await _in_batches(
            sessions, lambda s, after, n: _link_code_batch(s, after, n, cutoff), batch
        )
    async with sessions() as session, write_gate(session.bind).bulk(), session.begin():
        throttles = await forget_passed(session, now)
    return Pruned(
        outbox=outbox,
        attempts=attempts,
        attachments=files,
        link_codes=codes,
        throttles=throttles,
        reports=reports,
    )
