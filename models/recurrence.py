"""Recurring duties (định kỳ): a series of tasks, its rule, and the next occurrence it owes.

Each occurrence is a task of its own (own deadline, status, reminders, counts in reports).
The series keeps the rule; an occurrence keeps its series and its nominal date (the rule's
day before any move off a non-working day), and a unique index on (series, nominal date)
makes sure no occurrence is ever created twice, whoever sweeps.
"""

from __future__ import annotations

import calendar as months
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, selectinload

from models.base import Base, UTCDateTime
from models.calendar import WorkingCalendar
from models.clock import local_date
from models.defaults import Shift
from models.task_changes import Actor, record
from models.tasks import Task, TaskStatus

LAST = 0  # "the last day of the month" in a rule's day


class Kind(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Rule:
    """`monthly:20`: the kind and its day (weekday 0–6, day 1–31 or LAST, or (day, month))."""

    kind: Kind
    day: int
    month: int = 0  # yearly only

    @property
    def text(self) -> str:
        if self.kind is Kind.WEEKLY:
            return f"weekly:{WEEKDAYS[self.day]}"
        if self.kind is Kind.YEARLY:
            return f"yearly:{self.day:02d}/{self.month:02d}"
        return f"{self.kind.value}:{'last' if self.day == LAST else self.day}"

    def first_on_or_after(self, day: date) -> date:
        """The rule's first date not before `day` (the first occurrence after a gap)."""
        candidate = self._in_period(day)
        return candidate if candidate >= day else self.after(candidate)

    def after(self, nominal: date) -> date:
        """The rule's date in the period after the one holding `nominal`."""
        if self.kind is Kind.WEEKLY:
            return self._in_period(nominal + timedelta(days=7))
        if self.kind is Kind.MONTHLY:
            return self._in_period(_add_months(nominal, 1))
        if self.kind is Kind.QUARTERLY:
            return self._in_period(_add_months(nominal, 3))
        return self._in_period(nominal.replace(day=1, year=nominal.year + 1))

    def _in_period(self, day: date) -> date:
        """The rule's date in the week, month, quarter or year holding `day`."""
        if self.kind is Kind.WEEKLY:
            return day - timedelta(days=day.weekday()) + timedelta(days=self.day)
        if self.kind is Kind.YEARLY:
            return _day_of(day.year, self.month, self.day)
        month = day.month
        if self.kind is Kind.QUARTERLY:
            month = (month - 1) // 3 * 3 + 3  # the quarter's last month
        return _day_of(day.year, month, self.day)


def _add_months(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _day_of(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or its last day (LAST, or a 31 in a 30-day month)."""
    last = months.monthrange(year, month)[1]
    return date(year, month, last if day == LAST else min(day, last))


def shifted(day: date, calendar: WorkingCalendar, shift: Shift) -> date:
    """An occurrence's deadline: its nominal date, or the nearest working day on `shift`'s side."""
    step = timedelta(days=-1 if shift is Shift.PREVIOUS else 1)
    while not calendar.is_working_day(day):
        day += step
    return day


def _plain(text: str) -> str:
    """Lower case, no diacritics, `đ` as `d`: `Hằng tháng` → `hang thang`."""
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


_WORDS = {
    "tuan": Kind.WEEKLY,
    "thang": Kind.MONTHLY,
    "quy": Kind.QUARTERLY,
    "nam": Kind.YEARLY,
}
_VI_WEEKDAYS = {
    "thu hai": 0,
    "thu 2": 0,
    "thu ba": 1,
    "thu 3": 1,
    "thu tu": 2,
    "thu 4": 2,
    "thu nam": 3,
    "thu 5": 3,
    "thu sau": 4,
    "thu 6": 4,
    "thu bay": 5,
    "thu 7": 5,
    "chu nhat": 6,
}


def parse_rule(text: str, first_deadline: date | None) -> Rule | None:
    """A rule as written in a file: `monthly:20`, `weekly:fri`, `quarterly:last`,
    `yearly:15/12`, the bare word (the day from the first deadline), or Vietnamese words
    (`hằng tháng, trước ngày 20`, `hàng tuần`, `hang quy`). None: not a rule we read."""
    plain = _plain(text)
    if not plain:
        return None
    word, _, day = plain.partition(":")
    kind = next((k for k in Kind if k.value == word.strip()), None)
    if kind is not None:
        return _rule(kind, day.strip(), first_deadline)
    found = re.search(r"\b(?:hang|moi|dinh ky)\s+(tuan|thang|quy|nam)\b", plain)
    if found is None:
        return None
    kind = _WORDS[found.group(1)]
    rest = plain[: found.start()] + " " + plain[found.end() :]
    return _vietnamese_day(kind, rest, first_deadline)


def _rule(kind: Kind, day: str, first: date | None) -> Rule | None:
    if not day:
        return _from_deadline(kind, first)
    if kind is Kind.WEEKLY:
        return Rule(kind, WEEKDAYS.index(day)) if day in WEEKDAYS else None
    if kind is Kind.YEARLY:
        found = re.fullmatch(r"(\d{1,2})/(\d{1,2})", day)
        return _yearly(int(found.group(1)), int(found.group(2))) if found else None
    if day == "last":
        return Rule(kind, LAST)
    return Rule(kind, int(day)) if re.fullmatch(r"\d{1,2}", day) and 1 <= int(day) <= 31 else None


def _yearly(day: int, month: int) -> Rule | None:
    if not 1 <= month <= 12 or not 1 <= day <= months.monthrange(2024, month)[1]:
        return None
    return Rule(Kind.YEARLY, day, month)


def _from_deadline(kind: Kind, first: date | None) -> Rule | None:
    """The bare word: the day is the first deadline's."""
    if first is None:
        return None
    if kind is Kind.WEEKLY:
        return Rule(kind, first.weekday())
    if kind is Kind.YEARLY:
        return Rule(kind, first.day, first.month)
    if kind is Kind.QUARTERLY and first.month % 3:
        return None  # the quarter's day is in its last month; say which in the rule
    last = months.monthrange(first.year, first.month)[1]
    return Rule(kind, LAST if first.day == last and first.day < 31 else first.day)


def _vietnamese_day(kind: Kind, rest: str, first: date | None) -> Rule | None:
    """`trước ngày 20`, `ngày cuối tháng`, `thứ Sáu`, `ngày 15/12`: or the first deadline's day."""
    if kind is Kind.WEEKLY:
        for words, weekday in _VI_WEEKDAYS.items():
            if re.search(rf"\b{words}\b", rest):
                return Rule(kind, weekday)
        return _from_deadline(kind, first)
    if re.search(r"\bcuoi (?:thang|quy|nam)\b|\bngay cuoi\b", rest):
        return Rule(kind, LAST) if kind is not Kind.YEARLY else None
    if kind is Kind.YEARLY:
        found = re.search(r"\b(\d{1,2})\s*(?:/|thang)\s*(\d{1,2})\b", rest)
        return (
            _yearly(int(found.group(1)), int(found.group(2)))
            if found
            else _from_deadline(kind, first)
        )
    found = re.search(r"\bngay\s+(\d{1,2})\b", rest)
    if found:
        return _rule(kind, found.group(1), first)
    return _from_deadline(kind, first)


class Series(Base):
    """A recurring duty: its rule, and whether the task force ended it."""

    __tablename__ = "task_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))

    @property
    def parsed(self) -> Rule:
        rule = parse_rule(self.rule, None)
        assert rule is not None, self.rule
        return rule


async def set_rule(session: AsyncSession, task: Task, rule: Rule, actor: Actor) -> bool:
    """An import's recurrence cell: `task` starts a new series (its deadline the first
    date), or its series takes the rule as written now. True: something changed."""
    series = await series_of(session, task)
    if series is not None and series.rule == rule.text:
        return False
    record(
        session,
        task,
        actor,
        "update",
        field="recurrence",
        old=series.rule if series else None,
        new=rule.text,
    )
    if series is not None:
        series.rule = rule.text
        return True
    series = Series(rule=rule.text, created_at=actor.at)
    session.add(series)
    await session.flush()
    task.series_id = series.id
    task.series_date = task.deadline
    return True


async def series_of(session: AsyncSession, task: Task) -> Series | None:
    if task.series_id is None:
        return None
    return await session.get(Series, task.series_id)


def end_series(session: AsyncSession, series: Series, task: Task, actor: Actor) -> None:
    """No occurrence after those already created; the past ones stay as they are."""
    series.ended_at = actor.at
    series.ended_by_id = actor.official_id
    record(session, task, actor, "series_ended", note=series.rule)


async def latest_occurrences(session: AsyncSession) -> list[Task]:
    """The latest occurrence of every series still running, with what a copy needs."""
    latest = (
        select(Task.series_id, func.max(Task.series_date).label("last"))
        .join(Series, Series.id == Task.series_id)
        .where(Series.ended_at.is_(None))
        .group_by(Task.series_id)
        .subquery()
    )
    query = (
        select(Task)
        .join(latest, (latest.c.series_id == Task.series_id) & (latest.c.last == Task.series_date))
        .options(
            selectinload(Task.series),
            selectinload(Task.coordinating_units),
            selectinload(Task.leader),
            selectinload(Task.specialist),
        )
        .order_by(Task.id)
    )
    return list((await session.scalars(query)).all())


def next_due(
    previous: Task, today: date, calendar: WorkingCalendar, shift: Shift, lead_days: int
) -> tuple[date, date] | None:
    """(nominal date, deadline) of the occurrence after `previous`, if it is time to create it:
    the previous one is done, or the new deadline is `lead_days` working days away or less.

    Dates whose deadline is already past are passed over (a series imported from an old
    sheet, a bot stopped for weeks): the next occurrence is the first still ahead, never a
    string of tasks born overdue."""
    assert previous.series is not None and previous.series_date is not None
    rule = previous.series.parsed
    nominal = rule.after(previous.series_date)
    deadline = shifted(nominal, calendar, shift)
    if deadline < today:
        nominal = rule.first_on_or_after(today)
        while (deadline := shifted(nominal, calendar, shift)) < today:
            nominal = rule.after(nominal)
    if previous.status is TaskStatus.DONE:
        return nominal, deadline
    if calendar.working_days_between(today, deadline) <= lead_days:
        return nominal, deadline
    return None


async def create_occurrence(
    session: AsyncSession, previous: Task, nominal: date, deadline: date, actor: Actor
) -> Task | None:
    """The next task of the series, a copy of `previous` with its own deadline and a fresh
    status; None if another sweep created it first (the unique index says so)."""
    task = Task(
        document_id=previous.document_id,
        content=previous.content,
        lead_unit_id=previous.lead_unit_id,
        leader_id=previous.leader_id,
        specialist_id=previous.specialist_id,
        assigned_date=min(local_date(actor.at), deadline),
        original_deadline=deadline,
        deadline=deadline,
        status=TaskStatus.NOT_STARTED,
        progress=0,
        result="",
        created_at=actor.at,
        updated_at=actor.at,
        series_id=previous.series_id,
        series_date=nominal,
        coordinating_units=list(previous.coordinating_units),
    )
    try:
        async with session.begin_nested():
            session.add(task)
            await session.flush()
    except IntegrityError:
        return None
    record(session, task, actor, "created", note=f"#{previous.id}")
    task.leader, task.specialist = previous.leader, previous.specialist
    return task
