"""Checking the rows of the tasks file, with the documents they come from, before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from locales import Translator
from models.imports import DocumentRow, TaskRow
from models.organization import Official, Unit
from models.recurrence import parse_rule
from models.tasks import TaskStatus
from paperwork.cells import STATUSES, date_problem, duplicates, parse_date, split_list
from paperwork.headers import MappedRows, RowError
from paperwork.organization_rows import unit_lookup
from paperwork.tabular import header_key

MAX_CONTENT = 4000


def check_tasks(
    rows: MappedRows,
    stored_units: Sequence[Unit],
    stored_officials: Sequence[Official],
    t: Translator,
    *,
    now: datetime,
) -> tuple[list[DocumentRow], list[TaskRow], list[RowError]]:
    """The documents and tasks to write, or the reasons the file is refused."""
    units = unit_lookup(stored_units)
    parent = {u.id: u.parent_id for u in stored_units}
    officials = {o.code.casefold(): o for o in stored_officials}
    errors = duplicates(
        ((n, r.get("id", "")) for n, r in rows.rows),
        lambda task_id, first: t._(
            "task {id} appears again (first on row {first})", id=task_id, first=first
        ),
    )

    def within(unit_id: int, lead_id: int) -> bool:
        seen: set[int] = set()
        current: int | None = unit_id
        while current is not None and current not in seen:
            if current == lead_id:
                return True
            seen.add(current)
            current = parent.get(current)
        return False

    documents: dict[tuple[str, date], DocumentRow] = {}
    unnumbered: dict[tuple[tuple[str, date] | None, int, str], int] = {}
    parsed: list[TaskRow] = []
    for number, r in rows.rows:
        problems: list[str] = []
        task_id = None
        if r.get("id"):
            if r["id"].isdigit() and 0 < int(r["id"]) < 2**31:
                task_id = int(r["id"])
            else:
                problems.append(
                    t._("the task number '{value}' is not a positive whole number", value=r["id"])
                )
        content = r.get("content", "")
        if not content:
            problems.append(t._("the task content is empty"))
        elif len(content) > MAX_CONTENT:
            problems.append(
                t._("the task content is longer than {limit} characters", limit=MAX_CONTENT)
            )

        lead_text = r.get("lead_unit_code", "")
        lead = units.get(lead_text.casefold())
        if not lead_text:
            problems.append(t._("the task has no lead unit"))
        elif len(split_list(lead_text)) > 1:
            problems.append(t._("a task has exactly one lead unit, not '{value}'", value=lead_text))
        elif lead is None:
            problems.append(t._("unknown unit '{code}'", code=lead_text))

        coordinating: list[Unit] = []
        for code in split_list(r.get("coordinating_unit_codes", "")):
            unit = units.get(code.casefold())
            if unit is None:
                problems.append(t._("unknown coordinating unit '{code}'", code=code))
            elif lead is not None and unit.id == lead.id:
                problems.append(t._("the lead unit '{code}' cannot also coordinate", code=code))
            elif unit not in coordinating:
                coordinating.append(unit)

        people: dict[str, Official | None] = {}
        for column, label in (("leader_code", "leader"), ("specialist_code", "specialist")):
            code = r.get(column, "")
            person = officials.get(code.casefold()) if code else None
            people[label] = person
            if code and person is None:
                problems.append(t._("unknown official '{code}'", code=code))
            elif person is not None and lead is not None and not within(person.unit_id, lead.id):
                if label == "leader":
                    problems.append(
                        t._(
                            "the leader '{code}' does not belong to the lead unit {unit}",
                            code=code,
                            unit=lead.code,
                        )
                    )
                else:
                    problems.append(
                        t._(
                            "the specialist '{code}' does not belong to the lead unit {unit}",
                            code=code,
                            unit=lead.code,
                        )
                    )

        dates: dict[str, date | None] = {}
        for column in (
            "document_date",
            "assigned_date",
            "deadline",
            "original_deadline",
            "completed_date",
        ):
            value = r.get(column, "")
            dates[column] = parse_date(value) if value else None
            if value and dates[column] is None:
                problems.append(date_problem(t, rows.header(column), value))
        assigned = dates["assigned_date"] or dates["document_date"]
        if assigned is None and not r.get("assigned_date") and not r.get("document_date"):
            problems.append(t._("the assigned date is empty (give assigned_date or document_date)"))
        deadline, original = dates["deadline"], dates["original_deadline"]
        if original and not deadline:
            problems.append(t._("an original deadline is given but no deadline in force"))
        for name, day in (("deadline", deadline), ("original_deadline", original)):
            if day and assigned and day < assigned:
                problems.append(
                    t._(
                        "the {column} {deadline} is before the assigned date {assigned}",
                        column=rows.header(name),
                        deadline=t.date(day),
                        assigned=t.date(assigned),
                    )
                )

        status = STATUSES.get(header_key(r.get("status", "") or "not_started"))
        if status is None:
            problems.append(
                t._(
                    "unknown status '{value}' (use: chưa thực hiện, đang thực hiện, hoàn thành)",
                    value=r["status"],
                )
            )
        completed = dates["completed_date"]
        if status is TaskStatus.DONE and completed is None and not r.get("completed_date"):
            problems.append(t._("the task is done but has no completed date"))
        if status is not None and status is not TaskStatus.DONE and completed:
            problems.append(t._("a completed date is given but the task is not done"))
        if completed and assigned and completed < assigned:
            problems.append(
                t._(
                    "the completed date {completed} is before the assigned date",
                    completed=t.date(completed),
                )
            )
        if completed and completed > now.date():
            problems.append(
                t._("the completed date {completed} is in the future", completed=t.date(completed))
            )

        progress_text = r.get("progress", "")
        progress = 100 if status is TaskStatus.DONE else 0
        if progress_text:
            if progress_text.isdigit() and int(progress_text) <= 100:
                progress = int(progress_text)
            else:
                problems.append(
                    t._(
                        "the progress '{value}' is not a whole number from 0 to 100",
                        value=progress_text,
                    )
                )

        recurrence = None
        if rule_text := r.get("recurrence", ""):
            recurrence = parse_rule(rule_text, deadline)
            if recurrence is None and deadline is None:
                problems.append(
                    t._(
                        "a recurring task needs a deadline (the first occurrence's): '{value}'",
                        value=rule_text,
                    )
                )
            elif recurrence is None:
                problems.append(
                    t._(
                        "the recurrence '{value}' cannot be read; write e.g. monthly:20, "
                        "weekly:fri, quarterly:last, yearly:15/12, monthly, or hằng tháng, "
                        "trước ngày 20",
                        value=rule_text,
                    )
                )
        document_key = None
        doc_number = r.get("document_number", "")
        if doc_number:
            if dates["document_date"] is None and not r.get("document_date"):
                problems.append(t._("the document {number} has no date", number=doc_number))
            # Never refused for its kind: the label is kept as written and mapped when stored.
            if dates["document_date"] is not None:
                document_key = (doc_number, dates["document_date"])
                documents.setdefault(
                    document_key,
                    DocumentRow(
                        doc_number,
                        dates["document_date"],
                        r.get("document_kind", ""),
                        r.get("document_signer", ""),
                        r.get("document_summary", ""),
                    ),
                )

        if task_id is None and lead is not None and content:
            same = (document_key, lead.id, content)
            if same in unnumbered:
                problems.append(
                    t._(
                        "the same task as row {first} (same document, lead unit and content)",
                        first=unnumbered[same],
                    )
                )
            unnumbered.setdefault(same, number)
        if problems:
            errors.append(RowError(number, "; ".join(problems)))
            continue
        assert lead is not None and status is not None and assigned is not None
        parsed.append(
            TaskRow(
                number=number,
                id=task_id,
                document_key=document_key,
                content=content,
                lead_unit=lead,
                coordinating=coordinating,
                leader=people["leader"],
                specialist=people["specialist"],
                assigned_date=assigned,
                deadline=deadline,
                original_deadline=original,
                status=status,
                progress=progress,
                completed_date=completed,
                result=r.get("result", ""),
                recurrence=recurrence,
            )
        )
    return list(documents.values()), parsed, errors
