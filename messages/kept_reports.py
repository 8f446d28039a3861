"""A report in chat sent from the kept one while nothing it was built from has changed, else
built and kept for the next ask: the same summary and files either way, with the moment its
figures were read (`models/report_store.py` says when a kept one is fresh)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from locales import Translator
from messages.reply import Reply
from messages.reports import workbook_caption
from models.attachments import File, attachments, store
from models.report_store import ReportAsk, fresh_report, keep_report
from models.reports import Period
from paperwork.report_files import period_heading


def figures_as_of(t: Translator, built_at: datetime) -> str:
    """The line that says when a report's figures were read from the register."""
    return t._("Figures as of {moment}.", moment=t.datetime(built_at))


async def kept_answer(
    session: AsyncSession, t: Translator, ask: ReportAsk, kind: Period, start: date, end: date
) -> list[Reply | File] | None:
    """The kept summary, chart and workbook for this ask, if still fresh; None otherwise."""
    kept = await fresh_report(session, ask)
    if kept is None:
        return None
    files = await attachments(session, {kept.chart_id, kept.workbook_id})
    if len(files) != 2:  # pruned meanwhile: build it again
        return None
    return [
        Reply(f"{kept.summary}\n{figures_as_of(t, kept.built_at)}"),
        replace(files[kept.chart_id], caption=period_heading(t, kind, start, end)),
        replace(files[kept.workbook_id], caption=workbook_caption(t)),
    ]


async def keep_built(
    session: AsyncSession,
    ask: ReportAsk,
    version: int,
    built_at: datetime,
    summary: str,
    files: list[File],
) -> list[File]:
    """Store a report's chart and workbook (as `report_files` made them) and keep the report
    under its ask, built from the data at `version`; the files, now with their ids. The
    caller holds the write gate and commits."""
    chart, workbook = files
    stem = f"report {ask.key}:v{version}"
    chart_id = await store(session, f"{stem}:chart", chart, built_at)
    workbook_id = await store(session, f"{stem}:xlsx", workbook, built_at)
    await keep_report(session, ask, version, built_at, summary, chart_id, workbook_id)
    return [replace(chart, id=chart_id), replace(workbook, id=workbook_id)]
