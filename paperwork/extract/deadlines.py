"""Deadlines and recurrences as notices write them, read as a day on the product's calendar."""

from __future__ import annotations

import calendar as months
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from models.calendar import WorkingCalendar
from paperwork.extract.names import fold_letters


@dataclass(frozen=True)
class Deadline:
    day: date | None
    text: str | None  # as written
    vague: bool = False  # "khẩn trương", "kịp thời": the task force must give a day


NONE = Deadline(None, None)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_WEEKDAYS = {"hai": 0, "ba": 1, "tư": 2, "năm": 3, "sáu": 4, "bảy": 5}
_RECURRENCE = re.compile(r"\b(?:hằng|hàng) (tuần|tháng|quý|năm)\b")
RECURRENCE_WORDS = {"tuần": "weekly", "tháng": "monthly", "quý": "quarterly", "năm": "yearly"}
_VAGUE = re.compile(r"\b(khẩn trương|sớm|kịp thời|ngay|gấp|cấp bách)\b")
_ONGOING = re.compile(r"\bthường xuyên\b")

_D = r"(\d{1,2})"
_Y = r"(\d{4})"
# A date that starts a period or names another document is not a deadline.
_NOT_A_DEADLINE = re.compile(r"(?:\btừ(?: ngày)?|\bsố [\w/.-]+ ngày)\s*$")
_FORMS: list[tuple[str, re.Pattern[str]]] = [
    ("dmy", re.compile(rf"\b{_D}[/.-]{_D}[/.-]{_Y}\b")),
    ("long", re.compile(rf"\b{_D} tháng {_D} năm {_Y}\b")),
    ("day_monthly", re.compile(rf"\bngày {_D} (?:hằng|hàng) tháng\b")),
    ("weekday", re.compile(r"\bthứ (hai|ba|tư|năm|sáu|bảy) (?:hằng|hàng) tuần\b")),
    ("weekday", re.compile(r"\b(?:hằng|hàng) tuần vào (?:ngày )?thứ (hai|ba|tư|năm|sáu|bảy)\b")),
    ("month", re.compile(rf"(?:\b(?:trong|cuối|hết) |^)tháng {_D}(?:/| năm ){_Y}\b")),
    ("month_only", re.compile(rf"\btrong tháng {_D}\b(?![/\d]| năm)")),
    ("quarter", re.compile(rf"\bquý (iv|iii|ii|i|[1-4])(?:/| năm ){_Y}\b")),
    ("year", re.compile(rf"(?:\btrong năm |^năm ){_Y}\b")),
    ("within", re.compile(r"\btrong (?:vòng |thời hạn |thời gian )?(\d{1,3}) ngày( làm việc)?")),
    ("dm", re.compile(rf"\b{_D}/{_D}\b(?![/\d])")),
    ("long_dm", re.compile(rf"\b{_D} tháng {_D}\b(?! năm)")),
]


def _on_or_after(start: date, month: int, day: int) -> date | None:
    for year in (start.year, start.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= start:
            return candidate
    return None


def _month_end(year: int, month: int) -> date | None:
    if not 1 <= month <= 12:
        return None
    return date(year, month, months.monthrange(year, month)[1])


def _read(
    form: str, m: re.Match[str], text: str, issued: date | None, working: WorkingCalendar
) -> date | None:
    g = m.groups()
    try:
        if form == "dmy":
            return date(int(g[2]), int(g[1]), int(g[0]))
        if form == "long":
            return date(int(g[2]), int(g[1]), int(g[0]))
        if form == "month":
            return _month_end(int(g[1]), int(g[0]))
        if form == "quarter":
            return _month_end(int(g[1]), _ROMAN[g[0]] * 3)
        if form == "year":
            return date(int(g[0]), 12, 31)
    except ValueError:
        return None
    if issued is None:
        return None
    if form == "dm" or form == "long_dm":
        return _on_or_after(issued, int(g[1]), int(g[0]))
    if form == "day_monthly":
        day = int(g[0])
        for month in range(12 + 1):
            year, index = divmod(issued.month - 1 + month, 12)
            end = _month_end(issued.year + year, index + 1)
            if end and day <= end.day and date(end.year, end.month, day) >= issued:
                return date(end.year, end.month, day)
        return None
    if form == "weekday":
        return issued + timedelta(days=(_WEEKDAYS[g[0]] - issued.weekday()) % 7)
    if form == "month_only":
        end = _month_end(issued.year, int(g[0]))
        if end is not None and end < issued:
            end = _month_end(issued.year + 1, int(g[0]))
        return end
    if form == "within":
        after = text[m.end() : m.end() + 40]
        if re.match(r"\s*(?:,\s*)?(?:kể từ|sau khi|đối với)", after) and not re.match(
            r"\s*(?:,\s*)?kể từ ngày (?:ký|ban hành)", after
        ):
            return None  # counted from an event, not from the notice
        count = int(g[0])
        if g[1]:
            return working.add_working_days(issued, count)
        return issued + timedelta(days=count)
    return None


def find_deadline(
    text: str, issued: date | None, working: WorkingCalendar, *, cell: bool = False
) -> Deadline:
    """The first deadline the text gives; a vague word or `thường xuyên` when it gives none."""
    text = unicodedata.normalize("NFC", text)
    folded = fold_letters(text)
    candidates: list[tuple[int, str, re.Match[str]]] = []
    for form, pattern in _FORMS:
        if form in ("dm", "long_dm") and candidates:
            continue  # a full date nearby wins over a bare day and month
        for m in pattern.finditer(folded):
            candidates.append((m.start(), form, m))
    taken: list[tuple[int, int]] = []
    for start, form, m in sorted(candidates, key=lambda c: (c[0], -len(c[2].group(0)))):
        if any(a <= start < b for a, b in taken):
            continue
        taken.append((start, m.end()))
        if _NOT_A_DEADLINE.search(folded[:start]):
            continue
        if form == "month_only" and not cell and "trong" not in folded[max(0, start - 1) : m.end()]:
            continue
        day = _read(form, m, folded, issued, working)
        if day is not None:
            return Deadline(day, _as_written(text, folded, start, m.end()))
    if match := _ONGOING.search(folded):
        return Deadline(None, _as_written(text, folded, match.start(), match.end()))
    if match := _VAGUE.search(folded):
        return Deadline(None, _as_written(text, folded, match.start(), match.end()), vague=True)
    return NONE


_CUE = re.compile(
    r"(?:(?:trước|chậm nhất(?: là)?|đến hết|đến)(?: \d{1,2}h\d{0,2}'?)?(?: ngày)?|trong)\s*$"
)


def _as_written(text: str, folded: str, start: int, end: int) -> str:
    """The words as written, with the word that makes them a deadline (`trước ngày …`)."""
    if cue := _CUE.search(folded[:start]):
        start = cue.start()
    source = text if len(text) == len(folded) else folded
    return source[start:end].strip()


def find_recurrence(text: str) -> str | None:
    match = _RECURRENCE.search(fold_letters(text))
    return RECURRENCE_WORDS[match.group(1)] if match else None
