"""What each import wrote, read from the task events, so an import never undoes what officials did in chat.

Every change to a task is a task event with its channel (models/task_changes.py): the import's
own changes carry `Channel.IMPORT`, an official's the chat's channel. So no separate record is
kept of what each import wrote: for each field the officials report in chat (status, progress,
completion date, result, and the deadline an approved extension moved), the newest change to it
says who wrote it last. When that is not the import (the task was created or last written by an
import and changed since, in the bot or from the command line), and the file now says otherwise,
the file is behind the register: the row is a conflict, left as the register has it.

A file that agrees with the register on those fields is no conflict, whatever it says elsewhere.
An `--overwrite` import writes the file's values, and its events make the import the last
writer again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tasks import Channel, Task, TaskEvent

# The fields officials change in chat: /xong, /tiendo, and an approved /giahan.
REPORTED_FIELDS = ("status", "progress", "completed_date", "result", "deadline")
_CHANGES = ("update", "extension_approved")  # not a request or a refusal: they change nothing
CHUNK = 500


@dataclass(frozen=True)
class Disagreement:
    field: str
    in_register: object  # as the bot has it
    in_file: object


@dataclass(frozen=True)
class Conflict:
    """A row of the file left as the register has it: officials changed the task since."""

    row: int
    task_id: int
    disagreements: list[Disagreement]


async def changed_since_import(
    session: AsyncSession, task_ids: Iterable[int]
) -> dict[int, set[str]]:
    """For each task, the reported fields last written by someone other than an import."""
    ids = sorted(set(task_ids))
    last: dict[tuple[int, str], dict[bool, int]] = defaultdict(dict)
    for start in range(0, len(ids), CHUNK):
        query = (
            select(TaskEvent.task_id, TaskEvent.field, TaskEvent.channel, func.max(TaskEvent.id))
            .where(
                TaskEvent.task_id.in_(ids[start : start + CHUNK]),
                TaskEvent.field.in_(REPORTED_FIELDS),
                TaskEvent.action.in_(_CHANGES),
            )
            .group_by(TaskEvent.task_id, TaskEvent.field, TaskEvent.channel)
        )
        for task_id, field, channel, newest in (await session.execute(query)).tuples():
            by_import = channel is Channel.IMPORT or channel == Channel.IMPORT.value
            mine = last[(task_id, field)]
            mine[by_import] = max(mine.get(by_import, 0), newest)
    changed: dict[int, set[str]] = defaultdict(set)
    for (task_id, field), newest in last.items():
        if newest.get(False, 0) > newest.get(True, 0):
            changed[task_id].add(field)
    return changed


def disagreements(task: Task, fields: set[str], from_file: dict[str, object]) -> list[Disagreement]:
    """Where the file says otherwise than the register on a field changed since the import."""
    return [
        Disagreement(field, getattr(task, field), from_file[field])
        for field in REPORTED_FIELDS
        if field in fields and getattr(task, field) != from_file[field]
    ]
