"""A report built whole for `/baocao` — its numbers, summary, chart and workbook — from one
order. The periodic jobs build theirs in the rendering worker (`jobs/report_worker.py`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from locales import translator
from messages.reports import file_stem, report_files, report_title, summary_text
from models.attachments import File
from models.calendar import WorkingCalendar, load_calendar
from models.defaults import Nagging
from models.organization import Unit
from models.report_store import data_version
from models.reports import Period, build_report
from models.scoring import Formula


@dataclass(frozen=True)
class ReportOrder:
    """What to build: the period, the unit (None: the city), the reader's language and the
    settings that change the numbers."""

    kind: Period
    end: date
    unit_id: int | None = None
    past: bool = False
    language: str = "vi"
    due_soon_days: int = 3
    nagging: Nagging | None = None
    formula: Formula | None = None


@dataclass(frozen=True)
class BuiltReport:
    """The summary as sent (its title included) and the chart and workbook (`File`s holding
    their bytes), read from the data at `version` (`models/report_store.py`)."""

    version: int
    summary: str
    files: list[File]


async def build_report_files(
    session: AsyncSession,
    order: ReportOrder,
    calendar: WorkingCalendar | None = None,
) -> BuiltReport:
    """The numbers read in `session` (one snapshot with the data version), then the chart and
    workbook written in a thread (CPU work, off the loop). The caller commits or closes the
    session."""
    t = translator(order.language)
    version = await data_version(session)  # before the build, in its snapshot
    unit = await session.get(Unit, order.unit_id) if order.unit_id is not None else None
    report = await build_report(
        session,
        order.kind,
        order.end,
        calendar or await load_calendar(session),
        due_soon_days=order.due_soon_days,
        past=order.past,
        unit_id=order.unit_id,
        nagging=order.nagging,
        formula=order.formula,
    )
    stem = file_stem(report, unit)
    files = await asyncio.to_thread(report_files, t, report, stem)
    return BuiltReport(version, summary_text(t, report, report_title(t, report, unit)), files)
