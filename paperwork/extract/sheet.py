"""A read notice as the task import template, with what a person must still decide noted."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from locales import Translator
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


def recurring_without_day(task: dict[str, Any]) -> bool:
    """The import takes a series' day from its first deadline: a recurring task needs one."""
    return bool(task["recurrence"]) and not task["deadline"] and has_recurrence_column()


def needs_choice(task: dict[str, Any]) -> bool:
    """A person must decide something before the task can be created."""
    return task["lead_unit"] is None or bool(task.get("vague")) or recurring_without_day(task)


def needs(task: dict[str, Any], t: Translator) -> list[str]:
    """What a person must decide before the task can be created."""
    notes = []
    if task["lead_unit"] is None:
        notes.append(
            t._("no lead unit ({written}): choose one", written=task["lead_unit_text"] or "?")
        )
    if task.get("vague"):
        notes.append(
            t._(
                "vague deadline ({written}): give a date or write 'thường xuyên'",
                written=task["deadline_text"],
            )
        )
    if recurring_without_day(task):
        notes.append(
            t._(
                "recurring ({word}) with no first deadline: give the first date",
                word=task["recurrence"],
            )
        )
    return notes


def template_rows(
    content: dict[str, Any], t: Translator, *, notes: bool = True
) -> tuple[list[str], list[list[Cell]]]:
    """The rows of the import template for the tasks not dropped (`notes`: with Ghi chú)."""
    recurrence = has_recurrence_column()
    headers = [header for _, header in COLUMNS]
    if recurrence:
        headers.append("recurrence")
    if notes:
        headers.append(NOTE)
    document = content["document"]
    issued = date.fromisoformat(document["date"]) if document["date"] else None
    rows: list[list[Cell]] = []
    for task in content["tasks"]:
        if task.get("dropped"):
            continue
        deadline: Cell = date.fromisoformat(task["deadline"]) if task["deadline"] else None
        if deadline is None and task.get("vague"):
            deadline = task["deadline_text"]  # refused by the import until a person decides
        row: list[Cell] = [
            document["number"],
            issued,
            document["kind"],
            document["signer"],
            document["summary"],
            task["content"],
            task["lead_unit"] or task["lead_unit_text"] or "",
            ", ".join(task["coordinating_units"]),
            deadline,
        ]
        remarks = needs(task, t)
        if recurrence:
            row.append(task["recurrence"] or "")
        elif task["recurrence"]:
            remarks.append(t._("recurring: {word}", word=task["recurrence"]))
        if task["deadline"] is None and not task.get("vague") and task["deadline_text"]:
            remarks.append(task["deadline_text"])
        if notes:
            row.append("; ".join(remarks))
        rows.append(row)
    return headers, rows


def write_sheet(path: Path, content: dict[str, Any], t: Translator) -> None:
    headers, rows = template_rows(content, t)
    write_table(path, headers, rows)


def template_lines(content: dict[str, Any], t: Translator) -> list[list[str]]:
    """The template as the text of its cells, header first: what an import of it would read."""
    headers, rows = template_rows(content, t, notes=False)
    return [headers] + [
        [
            "" if v is None else v.strftime("%d/%m/%Y") if isinstance(v, date) else str(v)
            for v in row
        ]
        for row in rows
    ]
