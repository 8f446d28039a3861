"""Export of every task, in the import's own columns plus the status derived at a moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from locales import Translator
from models.documents import Document, DocumentKind
from models.exports import export_rows
from models.status import DerivedStatus, StatusWindow, derived_status
from paperwork.tabular import Cell, write_table

TASK_EXPORT_COLUMNS = [
    "id",
    "document_number",
    "document_date",
    "document_kind",
    "document_signer",
    "document_summary",
    "content",
    "lead_unit_code",
    "lead_unit_name",
    "coordinating_unit_codes",
    "leader_code",
    "leader_name",
    "specialist_code",
    "specialist_name",
    "assigned_date",
    "original_deadline",
    "deadline",
    "status",
    "progress",
    "completed_date",
    "result",
    "derived_status",
    "recurrence",
]


def document_kind(t: Translator, kind: DocumentKind) -> str:
    return {
        DocumentKind.CONCLUSION: t._("Conclusion"),
        DocumentKind.DIRECTIVE: t._("Directive"),
        DocumentKind.DECISION: t._("Decision"),
        DocumentKind.NOTICE: t._("Notice"),
        DocumentKind.PLAN: t._("Plan"),
        DocumentKind.LETTER: t._("Official letter"),
        DocumentKind.INSTRUCTION: t._("Instruction"),
        DocumentKind.RESOLUTION: t._("Resolution"),
        DocumentKind.OTHER: t._("Document"),
    }[kind]


def document_name(t: Translator, document: Document) -> str:
    """`Thông báo 105/TB-UBND ngày 03/10/2026`."""
    return t._(
        "{kind} {number} of {date}",
        kind=document_kind(t, document.kind),
        number=document.number,
        date=t.date(document.issued_on),
    )


def status_label(t: Translator, status: DerivedStatus) -> str:
    labels = {
        DerivedStatus.IN_TIME: t._("in time"),
        DerivedStatus.DUE_SOON: t._("due soon"),
        DerivedStatus.OVERDUE: t._("overdue"),
        DerivedStatus.DONE_ON_TIME: t._("done on time"),
        DerivedStatus.DONE_LATE: t._("done late"),
    }
    return labels[status]


async def export_tasks(
    session: AsyncSession, path: Path, window: StatusWindow, t: Translator
) -> int:
    """Write every task to a CSV or XLSX file; returns how many were written."""
    rows = await export_rows(session)

    def lines() -> Iterator[list[Cell]]:
        for row in rows:
            task, document = row.task, row.document
            doc_date: date | None = document.issued_on if document else None
            yield [
                task.id,
                document.number if document else "",
                doc_date,
                # As written, so the export imports back with the same label and kind.
                document.kind_name if document else "",
                document.signer if document else "",
                document.summary if document else "",
                task.content,
                row.lead_unit_code,
                row.lead_unit_name,
                ";".join(row.coordinating_unit_codes),
                row.leader_code,
                row.leader_name,
                row.specialist_code,
                row.specialist_name,
                task.assigned_date,
                task.original_deadline,
                task.deadline,
                task.status.value,
                task.progress,
                task.completed_date,
                task.result,
                status_label(
                    t, derived_status(task.status, task.deadline, task.completed_date, window)
                ),
                row.recurrence,
            ]

    write_table(path, TASK_EXPORT_COLUMNS, lines())
    return len(rows)
