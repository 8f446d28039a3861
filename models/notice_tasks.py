"""Tasks as the jobs' notices name them: plain columns with their unit, people and document.

The reminders, overdue alerts and risk flags used to load each task as an ORM object with
three or four related look-ups, on the bot's event loop; these are tuples read in bounded
batches, the people as `Recipient` columns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models.documents import Document, DocumentKind
from models.notices import Recipient, task_notice_not_done
from models.organization import Unit
from models.recipients import recipients
from models.status import StatusWindow, open_clause, overdue_clause
from models.tasks import Task

# Tasks per query: a reminder sweep's batch is queued (and committed in chunks) before the
# next is read, so the job holds a thousand tasks at most.
TASKS_PER_BATCH = 1000


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What a notice or letter names of a task's source document."""

    kind: DocumentKind
    number: str
    issued_on: date


@dataclass(frozen=True, slots=True)
class NoticeTask:
    """A task as a reminder, an alert or a flag names it, without the ORM."""

    id: int
    content: str
    deadline: date
    progress: int
    lead_unit_id: int
    unit_name: str
    leader: Recipient | None
    specialist: Recipient | None
    document: DocumentFacts | None


_COLUMNS = (
    Task.id,
    Task.content,
    Task.deadline,
    Task.progress,
    Task.lead_unit_id,
    Unit.name,
    Task.leader_id,
    Task.specialist_id,
    Document.kind,
    Document.number,
    Document.issued_on,
)


def _query(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    return (
        select(*_COLUMNS)
        .join(Unit, Unit.id == Task.lead_unit_id)
        .outerjoin(Document, Document.id == Task.document_id)
        .where(*where)
    )


async def _named(session: AsyncSession, rows: Sequence[Any]) -> list[NoticeTask]:
    """The rows with their people, looked up once per batch."""
    ids = sorted({i for row in rows for i in (row[6], row[7]) if i is not None})
    people = await recipients(session, ids)
    found = []
    for task_id, content, deadline, progress, unit_id, unit_name, leader, specialist, *doc in rows:
        kind, number, issued_on = doc
        found.append(
            NoticeTask(
                task_id,
                content,
                deadline,
                progress,
                unit_id,
                unit_name,
                people.get(leader) if leader is not None else None,
                people.get(specialist) if specialist is not None else None,
                DocumentFacts(kind, number, issued_on) if number is not None else None,
            )
        )
    return found


async def notice_tasks_in_batches(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], per_batch: int = TASKS_PER_BATCH
) -> AsyncIterator[list[NoticeTask]]:
    """The tasks matching `where`, by deadline then number, `per_batch` at a time: each batch
    one query after the last one's (deadline, number), so the caller may commit between."""
    after: tuple[date, int] | None = None
    while True:
        query = _query(where)
        if after is not None:
            query = query.where(tuple_(Task.deadline, Task.id) > tuple_(*after))
        rows = (
            (await session.execute(query.order_by(Task.deadline, Task.id).limit(per_batch)))
            .tuples()
            .all()
        )
        if not rows:
            return
        yield await _named(session, rows)
        if len(rows) < per_batch:
            return
        after = (rows[-1][2], rows[-1][0])


async def notice_tasks(
    session: AsyncSession, where: Sequence[ColumnElement[bool]]
) -> list[NoticeTask]:
    """Every task matching `where`, by deadline then number: for a job that groups them all
    per recipient (a sweep's alerts), read a batch at a time, the loop breathing between."""
    found: list[NoticeTask] = []
    async for batch in notice_tasks_in_batches(session, where):
        found += batch
        await asyncio.sleep(0)
    return found


def tasks_to_remind(
    session: AsyncSession, window: StatusWindow, kind: str, details: dict[date, str]
) -> AsyncIterator[list[NoticeTask]]:
    """Open tasks due on one of these days whose notice of `kind` with that day's detail (the
    reminder's T-n) is not done, in batches."""
    return notice_tasks_in_batches(
        session,
        [
            open_clause(window),
            Task.deadline.in_(list(details)),
            task_notice_not_done(kind, Task.id, Task.deadline, case(details, value=Task.deadline)),
        ],
    )


async def newly_overdue(
    session: AsyncSession, window: StatusWindow, days: int, kind: str
) -> list[NoticeTask]:
    """Tasks overdue for at most `days` days whose notice of `kind` (the alert) is not done
    under the deadline in force. Older ones (say, a backlog just imported) are the weekly
    urging's business."""
    return await notice_tasks(
        session,
        [
            overdue_clause(window),
            Task.deadline >= window.today - timedelta(days=days),
            task_notice_not_done(kind, Task.id, Task.deadline),
        ],
    )


async def notice_tasks_by_id(session: AsyncSession, ids: list[int]) -> list[NoticeTask]:
    """These tasks, in the order of `ids`, 500 to a query."""
    found: dict[int, NoticeTask] = {}
    for start in range(0, len(ids), 500):
        rows = (await session.execute(_query([Task.id.in_(ids[start : start + 500])]))).all()
        found.update((t.id, t) for t in await _named(session, rows))
        await asyncio.sleep(0)
    return [found[i] for i in ids if i in found]
