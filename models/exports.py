"""What an export reads: every task with its document, lead unit, people and coordinating units."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.documents import Document
from models.organization import Official, Unit
from models.recurrence import Series
from models.tasks import Task, task_coordinators


@dataclass(frozen=True)
class ExportRow:
    task: Task
    document: Document | None
    lead_unit_code: str
    lead_unit_name: str
    leader_code: str
    leader_name: str
    specialist_code: str
    specialist_name: str
    coordinating_unit_codes: list[str]  # sorted
    recurrence: str = ""  # the series' rule (`monthly:20`), "" for a one-off task


async def export_rows(session: AsyncSession) -> Sequence[ExportRow]:
    """Every task in number order, in two queries whatever the size of the register."""
    coordinators: dict[int, list[str]] = defaultdict(list)
    pairs = await session.execute(
        select(task_coordinators.c.task_id, Unit.code)
        .join(Unit, Unit.id == task_coordinators.c.unit_id)
        .order_by(Unit.code)
    )
    for task_id, code in pairs.tuples():
        coordinators[task_id].append(code)

    leader, specialist, lead = aliased(Official), aliased(Official), aliased(Unit)
    query = (
        select(
            Task,
            Document,
            lead.code,
            lead.name,
            leader.code,
            leader.full_name,
            specialist.code,
            specialist.full_name,
            Series.rule,
        )
        .join(lead, lead.id == Task.lead_unit_id)
        .outerjoin(Series, Series.id == Task.series_id)
        .outerjoin(Document, Document.id == Task.document_id)
        .outerjoin(leader, leader.id == Task.leader_id)
        .outerjoin(specialist, specialist.id == Task.specialist_id)
        .order_by(Task.id)
    )
    return [
        ExportRow(
            task=task,
            document=document,
            lead_unit_code=lead_code,
            lead_unit_name=lead_name,
            leader_code=l_code or "",
            leader_name=l_name or "",
            specialist_code=s_code or "",
            specialist_name=s_name or "",
            coordinating_unit_codes=coordinators.get(task.id, []),
            recurrence=rule or "",
        )
        for task, document, lead_code, lead_name, l_code, l_name, s_code, s_name, rule in (
            await session.execute(query)
        ).tuples()
    ]
