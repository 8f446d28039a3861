"""What the offices write in a cell — dates, lists, unit kinds, roles, statuses — read as our values."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

from locales import Translator
from models.organization import Role, UnitKind
from models.tasks import TaskStatus
from paperwork.headers import RowError, aliases
from paperwork.tabular import header_key

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
TRUE_WORDS = aliases("1", "true", "yes", "x", "có", "làm việc", "working")
FALSE_WORDS = aliases("0", "false", "no", "không", "nghỉ", "off", "holiday")

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


def date_problem(t: Translator, column: str, value: str) -> str:
    if not value:
        return t._("'{column}' is empty", column=column)
    return t._(
        "'{value}' in '{column}' is not a date (write dd/mm/yyyy)", value=value, column=column
    )


def duplicates(
    rows: Iterable[tuple[int, str]], message: Callable[[str, int], str]
) -> list[RowError]:
    """A key seen again (ignoring case) is an error on the later row, naming the first."""
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
