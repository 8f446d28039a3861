"""A read notice as the task import template, with what a person must still decide noted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from locales import Translator
from paperwork.extract.notice import Notice
from paperwork.extract.tasks import ProposedTask
from paperwork.headers import TASK_COLUMNS
from paperwork.tabular import Cell, write_table

# The headers the import reads (paperwork/headers.py), in the words the offices use.
COLUMNS = [
    ("document_number", "Số ký hiệu"),
    ("document_date", "Ngày ban hành"),
    ("document_kind", "Loại văn bản"),
    ("document_signer", "Người ký"),
    ("document_summary", "Trích yếu"),
    ("content", "Nội dung nhiệm vụ"),
    ("lead_unit_code", "Đơn vị chủ trì"),
    ("coordinating_unit_codes", "Đơn vị phối hợp"),
    ("deadline", "Thời hạn"),
]
NOTE = "Ghi chú"


def has_recurrence_column() -> bool:
    """The import reads `recurrence` only once the nag work has landed: written only then."""
    return "recurrence" in TASK_COLUMNS


def needs(task: ProposedTask, t: Translator) -> list[str]:
    """What a person must decide before the task can be created."""
    notes = []
    if task.lead_unit is None:
        notes.append(
            t._("no lead unit ({written}): choose one", written=task.lead_unit_text or "?")
        )
    if task.deadline.vague:
        notes.append(
            t._(
                "vague deadline ({written}): give a date or write 'thường xuyên'",
                written=task.deadline.text,
            )
        )
    return notes


def sheet_rows(notice: Notice, t: Translator) -> tuple[list[str], list[Sequence[Cell]]]:
    recurrence = has_recurrence_column()
    headers = [header for _, header in COLUMNS]
    if recurrence:
        headers.append("recurrence")
    headers.append(NOTE)
    rows: list[Sequence[Cell]] = []
    for task in notice.tasks:
        deadline: Cell = task.deadline.day
        if deadline is None and task.deadline.vague:
            deadline = task.deadline.text  # refused by the import until a person decides
        row: list[Cell] = [
            notice.number,
            notice.date,
            notice.kind,
            notice.signer,
            notice.summary,
            task.content,
            task.lead_unit or task.lead_unit_text or "",
            ", ".join(task.coordinating_units),
            deadline,
        ]
        notes = needs(task, t)
        if recurrence:
            row.append(task.recurrence or "")
        elif task.recurrence:
            notes.append(t._("recurring: {word}", word=task.recurrence))
        if task.deadline.day is None and not task.deadline.vague and task.deadline.text:
            notes.append(task.deadline.text)
        row.append("; ".join(notes))
        rows.append(row)
    return headers, rows


def write_sheet(path: Path, notice: Notice, t: Translator) -> None:
    headers, rows = sheet_rows(notice, t)
    write_table(path, headers, rows)
