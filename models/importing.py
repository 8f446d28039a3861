"""Import of units, officials, tasks and calendar days from the offices' CSV and XLSX files.

All or nothing: a file with any bad row writes nothing, and every bad row is reported with
its row number and the reason. Importing the same file again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from locales import Translator
from models.calendar import CalendarOverride
from models.documents import Document, DocumentKind, kind_from_number
from models.organization import Official, Role, Unit, UnitKind
from models.tabular import Table, header_key, read_table
from models.task_changes import Actor, approve_deadline, record, update_fields
from models.tasks import Channel, Task, TaskStatus

MAX_CONTENT = 4000


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _aliases(*names: str) -> frozenset[str]:
    return frozenset(header_key(n) for n in names)


UNIT_COLUMNS = {
    "code": _aliases("code", "Mã", "Mã đơn vị"),
    "name": _aliases("name", "Tên", "Tên đơn vị"),
    "kind": _aliases("kind", "Loại", "Loại đơn vị"),
    "parent_code": _aliases("parent_code", "Mã đơn vị cấp trên", "Đơn vị cấp trên", "Cấp trên"),
}
OFFICIAL_COLUMNS = {
    "code": _aliases("code", "Mã", "Mã cán bộ"),
    "full_name": _aliases("full_name", "Họ và tên", "Họ tên"),
    "position": _aliases("position", "Chức vụ"),
    "unit_code": _aliases("unit_code", "Mã đơn vị", "Đơn vị"),
    "roles": _aliases("roles", "Vai trò"),
    "phone": _aliases("phone", "Điện thoại", "Số điện thoại"),
    "email": _aliases("email", "Thư điện tử"),
    "language": _aliases("language", "Ngôn ngữ"),
}
TASK_COLUMNS = {
    "id": _aliases("id", "Số nhiệm vụ", "Mã nhiệm vụ"),
    "document_number": _aliases(
        "document_number", "Số ký hiệu", "Số ký hiệu văn bản", "Số văn bản"
    ),
    "document_date": _aliases("document_date", "Ngày văn bản", "Ngày ban hành"),
    "document_kind": _aliases("document_kind", "Loại văn bản"),
    "document_signer": _aliases("document_signer", "Người ký"),
    "document_summary": _aliases("document_summary", "Trích yếu"),
    "content": _aliases("content", "Nội dung nhiệm vụ", "Nội dung", "Nhiệm vụ"),
    "lead_unit_code": _aliases("lead_unit_code", "Đơn vị chủ trì", "Chủ trì"),
    "coordinating_unit_codes": _aliases("coordinating_unit_codes", "Đơn vị phối hợp", "Phối hợp"),
    "leader_code": _aliases("leader_code", "Lãnh đạo phụ trách"),
    "specialist_code": _aliases("specialist_code", "Chuyên viên", "Chuyên viên thực hiện"),
    "assigned_date": _aliases("assigned_date", "Ngày giao"),
    "deadline": _aliases("deadline", "Thời hạn", "Hạn xử lý", "Hạn hoàn thành"),
    "original_deadline": _aliases("original_deadline", "Thời hạn ban đầu", "Hạn ban đầu"),
    "status": _aliases("status", "Trạng thái", "Tình trạng"),
    "progress": _aliases("progress", "Tiến độ"),
    "completed_date": _aliases("completed_date", "Ngày hoàn thành"),
    "result": _aliases("result", "Kết quả"),
}
CALENDAR_COLUMNS = {
    "date": _aliases("date", "Ngày"),
    "working": _aliases("working", "Làm việc", "Ngày làm việc"),
    "note": _aliases("note", "Ghi chú"),
}
# Columns our own export writes for people to read; importing them back is a no-op.
EXPORT_ONLY = _aliases(
    "lead_unit_name", "leader_name", "specialist_name", "derived_status", "deadline_in_force"
)

UNIT_KINDS = {
    **{header_key(k): UnitKind.DEPARTMENT for k in ("department", "Sở", "Ban", "Ban ngành")},
    **{
        header_key(k): UnitKind.DISTRICT
        for k in ("district", "Quận", "Huyện", "Quận/huyện", "Thị xã")
    },
    **{
        header_key(k): UnitKind.COMMUNE
        for k in ("commune", "Xã", "Phường", "Xã/phường", "Thị trấn")
    },
    **{header_key(k): UnitKind.OFFICE for k in ("office", "Văn phòng")},
    **{header_key(k): UnitKind.OTHER for k in ("other", "Khác")},
}
ROLES = {
    **{header_key(k): Role.SPECIALIST for k in ("specialist", "Chuyên viên")},
    **{header_key(k): Role.LEADER for k in ("leader", "Lãnh đạo", "Lãnh đạo đơn vị")},
    **{header_key(k): Role.TASK_FORCE for k in ("task_force", "Tổ công tác")},
    **{
        header_key(k): Role.CITY_LEADER
        for k in ("city_leader", "Lãnh đạo thành phố", "Lãnh đạo UBND thành phố")
    },
    **{header_key(k): Role.ADMIN for k in ("admin", "Quản trị")},
}
STATUSES = {
    **{header_key(k): TaskStatus.NOT_STARTED for k in ("not_started", "Chưa thực hiện")},
    **{header_key(k): TaskStatus.IN_PROGRESS for k in ("in_progress", "Đang thực hiện")},
    **{header_key(k): TaskStatus.DONE for k in ("done", "Hoàn thành", "Đã hoàn thành")},
}
DOCUMENT_KINDS = {
    **{header_key(k.value): k for k in DocumentKind},
    **{
        header_key(vi): kind
        for vi, kind in (
            ("Kết luận", DocumentKind.CONCLUSION),
            ("Chỉ đạo", DocumentKind.DIRECTIVE),
            ("Quyết định", DocumentKind.DECISION),
            ("Thông báo", DocumentKind.NOTICE),
            ("Kế hoạch", DocumentKind.PLAN),
            ("Công văn", DocumentKind.LETTER),
            ("Chỉ thị", DocumentKind.INSTRUCTION),
            ("Khác", DocumentKind.OTHER),
        )
    },
}
TRUE_WORDS = _aliases("1", "true", "yes", "x", "có", "làm việc", "working")
FALSE_WORDS = _aliases("0", "false", "no", "không", "nghỉ", "off", "holiday")

_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(value: str) -> date | None:
    """`dd/mm/yyyy` (the Vietnamese way) or `yyyy-mm-dd`; None when it is not a real date."""
    value = value.strip()
    if match := _DMY.match(value):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.match(value):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def split_list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,\n]", value) if part.strip()]


class _Rows:
    """Rows of one file with their headers mapped to the contract's column names."""

    def __init__(self, table: Table, columns: dict[str, frozenset[str]], t: Translator) -> None:
        self.errors: list[RowError] = []
        self.ignored: list[str] = []
        self.mapping: dict[str, str] = {}
        for header in table.headers:
            key = header_key(header)
            name = next((n for n, aliases in columns.items() if key in aliases), None)
            if name is None:
                if key and key not in EXPORT_ONLY:
                    self.ignored.append(header)
                continue
            if name in self.mapping.values():
                first = next(h for h, n in self.mapping.items() if n == name)
                self.errors.append(
                    RowError(
                        1,
                        t._(
                            "columns '{first}' and '{second}' are the same column '{column}'",
                            first=first,
                            second=header,
                            column=name,
                        ),
                    )
                )
                continue
            self.mapping[header] = name
        self.rows = [
            (
                number,
                {name: values.get(header, "").strip() for header, name in self.mapping.items()},
            )
            for number, values in table.rows
        ]
        if not self.rows and not self.errors:
            self.errors.append(RowError(1, t._("the file has no data rows")))

    def header(self, name: str) -> str:
        """The column as the file names it, so a message points at what the user sees."""
        return next((h for h, n in self.mapping.items() if n == name), name)

    def require(self, t: Translator, *names: str) -> None:
        present = set(self.mapping.values())
        for name in names:
            if name not in present:
                self.errors.append(
                    RowError(1, t._("missing required column '{column}'", column=name))
                )


def _duplicates(
    rows: Iterable[tuple[int, str]], t: Translator, message: Callable[[str, int], str]
) -> list[RowError]:
    seen: dict[str, int] = {}
    errors = []
    for number, key in rows:
        if not key:
            continue
        folded = key.casefold()
        if folded in seen:
            errors.append(RowError(number, message(key, seen[folded])))
        else:
            seen[folded] = number
    return errors


async def _load(path: Path, columns: dict[str, frozenset[str]], t: Translator) -> _Rows:
    return _Rows(read_table(path), columns, t)


async def _finish(
    session: AsyncSession, result: ImportResult, rows: _Rows, dry_run: bool
) -> ImportResult:
    result.ignored_columns = rows.ignored
    if result.errors or dry_run:
        await session.rollback()
    else:
        await session.commit()
    if result.errors:
        result.created = result.updated = result.unchanged = 0
    result.errors.sort(key=lambda e: e.row)
    return result


# ---------------------------------------------------------------- units


async def import_units(
    session: AsyncSession, path: Path, t: Translator, *, dry_run: bool = False
) -> ImportResult:
    rows = await _load(path, UNIT_COLUMNS, t)
    rows.require(t, "code", "name")
    result = ImportResult(errors=list(rows.errors))
    if result.errors:
        return await _finish(session, result, rows, dry_run)

    existing = {u.code.casefold(): u for u in (await session.scalars(select(Unit))).all()}
    file_codes = {r["code"].casefold(): r["code"] for _, r in rows.rows if r.get("code")}
    result.errors += _duplicates(
        ((n, r.get("code", "")) for n, r in rows.rows),
        t,
        lambda code, first: t._(
            "unit code '{code}' appears again (first on row {first})", code=code, first=first
        ),
    )
    code_of_id = {u.id: code for code, u in existing.items()}
    parents: dict[str, str | None] = {
        code: code_of_id.get(u.parent_id) if u.parent_id else None for code, u in existing.items()
    }
    parsed: list[tuple[int, dict[str, str], UnitKind]] = []
    for number, r in rows.rows:
        problems = []
        if not r.get("code"):
            problems.append(t._("the unit code is empty"))
        if not r.get("name"):
            problems.append(t._("the unit name is empty"))
        kind = UNIT_KINDS.get(header_key(r.get("kind", "") or "other"))
        if kind is None:
            problems.append(
                t._(
                    "unknown unit kind '{kind}' (use: department, district, commune, office, other)",
                    kind=r["kind"],
                )
            )
        parent = r.get("parent_code", "")
        if parent and parent.casefold() not in existing and parent.casefold() not in file_codes:
            problems.append(t._("unknown parent unit '{code}'", code=parent))
        if parent and r.get("code") and parent.casefold() == r["code"].casefold():
            problems.append(t._("a unit cannot be its own parent"))
        if problems:
            result.errors.append(RowError(number, "; ".join(problems)))
        elif kind is not None:
            parents[r["code"].casefold()] = parent.casefold() or None
            parsed.append((number, r, kind))
    for number, r, _ in parsed:
        seen, code = set(), r["code"].casefold()
        while code is not None and code not in seen:
            seen.add(code)
            code = parents.get(code)
        if code is not None:
            result.errors.append(
                RowError(number, t._("the parent units of '{code}' form a loop", code=r["code"]))
            )
    if result.errors:
        return await _finish(session, result, rows, dry_run)

    by_code = dict(existing)
    for _, r, kind in parsed:
        if r["code"].casefold() not in by_code:
            unit = Unit(code=r["code"], name=r["name"], kind=kind)
            session.add(unit)
            by_code[r["code"].casefold()] = unit
            result.created += 1
    await session.flush()  # new units need ids before children can point at them
    for _, r, kind in parsed:
        key = r["code"].casefold()
        unit = by_code[key]
        parent_code = r.get("parent_code", "")
        values = (r["name"], kind, by_code[parent_code.casefold()].id if parent_code else None)
        if key not in existing:
            unit.parent_id = values[2]
            continue
        changed = (unit.name, unit.kind, unit.parent_id) != values
        unit.name, unit.kind, unit.parent_id = values
        result.updated += changed
        result.unchanged += not changed
    await session.flush()
    return await _finish(session, result, rows, dry_run)


# ---------------------------------------------------------------- officials


async def import_officials(
    session: AsyncSession, path: Path, t: Translator, *, dry_run: bool = False
) -> ImportResult:
    rows = await _load(path, OFFICIAL_COLUMNS, t)
    rows.require(t, "code", "full_name", "unit_code")
    result = ImportResult(errors=list(rows.errors))
    if result.errors:
        return await _finish(session, result, rows, dry_run)

    units = _unit_lookup((await session.scalars(select(Unit))).all())
    existing = {o.code.casefold(): o for o in (await session.scalars(select(Official))).all()}
    result.errors += _duplicates(
        ((n, r.get("code", "")) for n, r in rows.rows),
        t,
        lambda code, first: t._(
            "official code '{code}' appears again (first on row {first})", code=code, first=first
        ),
    )
    for number, r in rows.rows:
        problems = []
        if not r.get("code"):
            problems.append(t._("the official code is empty"))
        if not r.get("full_name"):
            problems.append(t._("the full name is empty"))
        unit = units.get(r.get("unit_code", "").casefold())
        if not r.get("unit_code"):
            problems.append(t._("the unit is empty"))
        elif unit is None:
            problems.append(t._("unknown unit '{code}'", code=r["unit_code"]))
        roles: set[Role] = set()
        for word in split_list(r.get("roles", "")):
            role = ROLES.get(header_key(word))
            if role is None:
                problems.append(
                    t._(
                        "unknown role '{role}' (use: specialist, leader, task_force, city_leader, admin)",
                        role=word,
                    )
                )
            else:
                roles.add(role)
        language = (r.get("language") or "vi").lower()
        if language not in ("vi", "en"):
            problems.append(t._("unknown language '{language}' (use: vi, en)", language=language))
        email = r.get("email", "")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            problems.append(t._("'{email}' is not an e-mail address", email=email))
        if problems:
            result.errors.append(RowError(number, "; ".join(problems)))
            continue
        if result.errors:
            continue
        assert unit is not None
        values = {
            "full_name": r["full_name"],
            "position": r.get("position", ""),
            "unit_id": unit.id,
            "phone": r.get("phone", ""),
            "email": email,
            "language": language,
        }
        wanted_roles = frozenset(roles or {Role.SPECIALIST})
        official = existing.get(r["code"].casefold())
        if official is None:
            official = Official(code=r["code"], **values)
            official.set_roles(wanted_roles)
            session.add(official)
            existing[r["code"].casefold()] = official
            result.created += 1
            continue
        changed = official.roles != wanted_roles
        for name, value in values.items():
            if getattr(official, name) != value:
                setattr(official, name, value)
                changed = True
        if official.roles != wanted_roles:
            official.set_roles(wanted_roles)
        result.updated += changed
        result.unchanged += not changed
    await session.flush()
    return await _finish(session, result, rows, dry_run)


def _unit_lookup(units: Iterable[Unit]) -> dict[str, Unit]:
    """Units by code and by exact name: the offices write either `SXD` or `Sở Xây dựng`."""
    lookup: dict[str, Unit] = {}
    for unit in units:
        lookup.setdefault(unit.name.casefold(), unit)
    for unit in units:
        lookup[unit.code.casefold()] = unit
    return lookup


# ---------------------------------------------------------------- calendar


async def import_calendar(
    session: AsyncSession, path: Path, t: Translator, *, dry_run: bool = False
) -> ImportResult:
    rows = await _load(path, CALENDAR_COLUMNS, t)
    rows.require(t, "date", "working")
    result = ImportResult(errors=list(rows.errors))
    if result.errors:
        return await _finish(session, result, rows, dry_run)
    result.errors += _duplicates(
        ((n, r.get("date", "")) for n, r in rows.rows),
        t,
        lambda day, first: t._(
            "the day '{day}' appears again (first on row {first})", day=day, first=first
        ),
    )
    parsed = []
    for number, r in rows.rows:
        day = parse_date(r.get("date", ""))
        word = header_key(r.get("working", ""))
        problems = []
        if day is None:
            problems.append(_date_problem(t, rows.header("date"), r.get("date", "")))
        if word not in TRUE_WORDS and word not in FALSE_WORDS:
            problems.append(
                t._(
                    "'working' must be 1 (a working day) or 0 (a day off), not '{value}'",
                    value=r.get("working", ""),
                )
            )
        if problems:
            result.errors.append(RowError(number, "; ".join(problems)))
        else:
            parsed.append((day, word in TRUE_WORDS, r.get("note", "")))
    if result.errors:
        return await _finish(session, result, rows, dry_run)
    for day, working, note in parsed:
        override = await session.get(CalendarOverride, day)
        if override is None:
            session.add(CalendarOverride(day=day, working=working, note=note))
            result.created += 1
        elif (override.working, override.note) != (working, note):
            override.working, override.note = working, note
            result.updated += 1
        else:
            result.unchanged += 1
    await session.flush()
    return await _finish(session, result, rows, dry_run)


def _date_problem(t: Translator, column: str, value: str) -> str:
    if not value:
        return t._("'{column}' is empty", column=column)
    return t._(
        "'{value}' in '{column}' is not a date (write dd/mm/yyyy)", value=value, column=column
    )


# ---------------------------------------------------------------- tasks


@dataclass
class _TaskRow:
    number: int
    id: int | None
    document_key: tuple[str, date] | None
    content: str
    lead_unit: Unit
    coordinating: list[Unit]
    leader: Official | None
    specialist: Official | None
    assigned_date: date
    deadline: date | None
    original_deadline: date | None
    status: TaskStatus
    progress: int
    completed_date: date | None
    result: str


@dataclass
class _DocumentRow:
    number: str
    issued_on: date
    kind: DocumentKind
    signer: str
    summary: str


async def import_tasks(
    session: AsyncSession, path: Path, t: Translator, *, now: datetime, dry_run: bool = False
) -> ImportResult:
    rows = await _load(path, TASK_COLUMNS, t)
    rows.require(t, "content", "lead_unit_code")
    result = ImportResult(errors=list(rows.errors))
    if result.errors:
        return await _finish(session, result, rows, dry_run)

    all_units = (await session.scalars(select(Unit))).all()
    units = _unit_lookup(all_units)
    parent = {u.id: u.parent_id for u in all_units}
    officials = {o.code.casefold(): o for o in (await session.scalars(select(Official))).all()}
    result.errors += _duplicates(
        ((n, r.get("id", "")) for n, r in rows.rows),
        t,
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

    documents: dict[tuple[str, date], _DocumentRow] = {}
    unnumbered: dict[tuple[tuple[str, date] | None, int, str], int] = {}
    parsed: list[_TaskRow] = []
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
                problems.append(_date_problem(t, rows.header(column), value))
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

        document_key = None
        doc_number = r.get("document_number", "")
        if doc_number:
            if dates["document_date"] is None and not r.get("document_date"):
                problems.append(t._("the document {number} has no date", number=doc_number))
            kind_text = r.get("document_kind", "")
            kind = (
                DOCUMENT_KINDS.get(header_key(kind_text))
                if kind_text
                else kind_from_number(doc_number)
            )
            if kind is None:
                problems.append(t._("unknown document kind '{value}'", value=kind_text))
            elif dates["document_date"] is not None:
                document_key = (doc_number, dates["document_date"])
                documents.setdefault(
                    document_key,
                    _DocumentRow(
                        doc_number,
                        dates["document_date"],
                        kind,
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
            result.errors.append(RowError(number, "; ".join(problems)))
            continue
        assert lead is not None and status is not None and assigned is not None
        parsed.append(
            _TaskRow(
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
            )
        )
    if result.errors:
        return await _finish(session, result, rows, dry_run)

    document_ids = await _upsert_documents(session, documents.values())
    await _upsert_tasks(session, parsed, document_ids, result, Actor(None, Channel.IMPORT, now))
    return await _finish(session, result, rows, dry_run)


async def _upsert_documents(
    session: AsyncSession, documents: Iterable[_DocumentRow]
) -> dict[tuple[str, date], int]:
    ids: dict[tuple[str, date], int] = {}
    for row in documents:
        document = await session.scalar(
            select(Document).where(
                Document.number == row.number, Document.issued_on == row.issued_on
            )
        )
        if document is None:
            document = Document(number=row.number, issued_on=row.issued_on)
            session.add(document)
        document.kind = row.kind
        # A later file that leaves these empty does not erase what an earlier one said.
        document.signer = row.signer or document.signer or ""
        document.summary = row.summary or document.summary or ""
        await session.flush()
        ids[(row.number, row.issued_on)] = document.id
    return ids


def _natural_key(
    row: _TaskRow, document_ids: dict[tuple[str, date], int]
) -> tuple[int | None, int, str]:
    document_id = document_ids.get(row.document_key) if row.document_key else None
    return (document_id, row.lead_unit.id, row.content)


async def _match_rows_without_id(
    session: AsyncSession, rows: list[_TaskRow], document_ids: dict[tuple[str, date], int]
) -> None:
    """A row without a number is the task with the same document, lead unit and content, if
    one exists: so a file without numbers can be imported again without duplicating tasks."""
    contents = sorted({row.content for row in rows if row.id is None})
    known: dict[tuple[int | None, int, str], int] = {}
    for start in range(0, len(contents), 500):
        query = (
            select(Task.document_id, Task.lead_unit_id, Task.content, Task.id)
            .where(Task.content.in_(contents[start : start + 500]))
            .order_by(Task.id.desc())
        )
        for document_id, lead_unit_id, content, task_id in await session.execute(query):
            known[(document_id, lead_unit_id, content)] = task_id
    for row in rows:
        if row.id is None:
            row.id = known.get(_natural_key(row, document_ids))


async def _upsert_tasks(
    session: AsyncSession,
    rows: list[_TaskRow],
    document_ids: dict[tuple[str, date], int],
    result: ImportResult,
    actor: Actor,
) -> None:
    await _match_rows_without_id(session, rows, document_ids)
    given = [row.id for row in rows if row.id is not None]
    existing: dict[int, Task] = {}
    for start in range(0, len(given), 500):
        chunk = given[start : start + 500]
        query = (
            select(Task).where(Task.id.in_(chunk)).options(selectinload(Task.coordinating_units))
        )
        existing.update({task.id: task for task in (await session.scalars(query)).all()})
    next_id = max([*given, (await session.scalar(select(func.max(Task.id)))) or 0]) + 1

    for row in rows:
        fields = {
            "document_id": document_ids.get(row.document_key) if row.document_key else None,
            "content": row.content,
            "lead_unit_id": row.lead_unit.id,
            "leader_id": row.leader.id if row.leader else None,
            "specialist_id": row.specialist.id if row.specialist else None,
            "assigned_date": row.assigned_date,
            "status": row.status,
            "progress": row.progress,
            "completed_date": row.completed_date,
            "result": row.result,
        }
        task = existing.get(row.id) if row.id is not None else None
        if task is None:
            if row.id is None:
                row.id, next_id = next_id, next_id + 1
            original = row.original_deadline or row.deadline
            task = Task(
                id=row.id,
                original_deadline=original,
                deadline=original,
                created_at=actor.at,
                updated_at=actor.at,
                coordinating_units=list(row.coordinating),
                **fields,
            )
            session.add(task)
            record(session, task, actor, "created")
            if row.deadline != original and row.deadline is not None:
                approve_deadline(session, task, actor, row.deadline, "")
            result.created += 1
            continue
        changed = update_fields(session, task, actor, fields)
        # Without an original deadline in the file, a new deadline is an extension of the old.
        if row.original_deadline and row.original_deadline != task.original_deadline:
            changed += update_fields(
                session, task, actor, {"original_deadline": row.original_deadline}
            )
        if row.deadline != task.deadline:
            if row.deadline is None:
                changed += update_fields(session, task, actor, {"deadline": None})
            else:
                approve_deadline(session, task, actor, row.deadline, "")
                changed.append("deadline")
        old_codes = sorted(u.code for u in task.coordinating_units)
        new_codes = sorted(u.code for u in row.coordinating)
        if old_codes != new_codes:
            task.coordinating_units = list(row.coordinating)
            record(
                session,
                task,
                actor,
                "update",
                field="coordinating_units",
                old=";".join(old_codes),
                new=";".join(new_codes),
            )
            changed.append("coordinating_units")
        result.updated += bool(changed)
        result.unchanged += not changed
    await session.flush()
    if (await session.connection()).dialect.name == "postgresql":
        # Explicit ids bypass the sequence; move it past them so new tasks get fresh numbers.
        await session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('tasks', 'id'),"
                " GREATEST((SELECT MAX(id) FROM tasks), 1))"
            )
        )
