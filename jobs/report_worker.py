"""A periodic report built whole in the rendering worker: its numbers, texts and files.

The biweekly report on a city of a million tasks is seconds of Python (the numbers, the
chart, an 89,000-row workbook) and a few hundred MiB of rows. In a thread of the bot it held
the interpreter lock, so every `/xong` waited behind it, and its rows stayed in the bot's
heap after it. Here the worker (`jobs/rendering.py`) opens its own engine on the bot's
database, builds the report as `/baocao` does, and answers with what the bot sends: each
language's text and files, and the summary `/baocao` keeps. The `Report` never crosses.

Everything in a `ReportOrder` pickles by reference or by value: the titles and file makers
are this module's functions, with their arguments bound by `functools.partial`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from locales import Translator, translator
from messages.reports import file_stem, report_files, summary_text
from models.attachments import File, FileKind
from models.calendar import WorkingCalendar
from models.db import create_engine, session_factory
from models.nagging import Nagging
from models.report_store import data_version
from models.reports import Period, Report, build_report
from models.scoring import Formula
from paperwork.public_list import late_people, late_units, public_csv, public_html


@dataclass(frozen=True)
class ReportOrder:
    """What the worker needs to build a report as the bot's job would have."""

    url: str = field(repr=False)  # the bot's database, password included: crosses a pipe
    kind: Period
    end: date
    past: bool
    calendar: WorkingCalendar
    due_soon_days: int
    nagging: Nagging
    formula: Formula | None
    languages: tuple[str, ...]
    title: Callable[[Translator], str]
    files: Callable[[Translator, Report], list[File]]
    more: Callable[[Translator, Report], str] | None = None
    keep: bool = False  # also the summary `/baocao` keeps for the same ask


@dataclass(frozen=True)
class BuiltReport:
    """The report as the bot sends it, by language (`Translator.language`)."""

    version: int  # the data version read before the build, in its snapshot
    texts: dict[str, str]
    files: dict[str, list[File]]
    kept: dict[str, str]  # the summary `/baocao` answers with; empty unless `keep`


def build(order: ReportOrder) -> BuiltReport:
    """Run in the worker: a loop and an engine of its own, closed before it answers."""
    return asyncio.run(_build(order))


async def _build(order: ReportOrder) -> BuiltReport:
    engine = create_engine(order.url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            version = await data_version(session)  # before the build, in its snapshot
            report = await build_report(
                session,
                order.kind,
                order.end,
                order.calendar,
                due_soon_days=order.due_soon_days,
                past=order.past,
                nagging=order.nagging,
                formula=order.formula,
            )
    finally:
        await engine.dispose()
    texts, files, kept = {}, {}, {}
    for language in order.languages:
        t = translator(language)
        text = summary_text(t, report, order.title(t))
        texts[t.language] = f"{text}\n{order.more(t, report)}" if order.more else text
        files[t.language] = order.files(t, report)
        if order.keep:
            kept[t.language] = summary_text(t, report)
    return BuiltReport(version, texts, files, kept)


def chart_and_workbook(t: Translator, report: Report) -> list[File]:
    """The chart and the workbook, as `/baocao` sends them."""
    return report_files(t, report, file_stem(report))


def public_files(stem: str, t: Translator, report: Report) -> list[File]:
    """The quarter's public list, for the portal: a web page and a table."""
    return [
        File(FileKind.DOCUMENT, f"{stem}.html", public_html(report, t).encode()),
        File(FileKind.DOCUMENT, f"{stem}.csv", public_csv(report, t).encode("utf-8-sig")),
    ]


def announcement(t: Translator, report: Report) -> str:
    return t._(
        "📢 Attached for publication on the portal: the public list of late units ({units}) "
        "and individuals ({people}), as a web page and a table.",
        units=t.number(len(late_units(report))),
        people=t.number(len(late_people(report, t))),
    )


def biweekly_title(start: date, end: date, t: Translator) -> str:
    return t._(
        "📊 Report for the briefing meeting: {start} – {end}",
        start=t.date(start),
        end=t.date(end),
    )


def monthly_title(last_day: date, t: Translator) -> str:
    return t._(
        "📊 Monthly report {month}: tasks as of {date}",
        month=last_day.strftime("%m/%Y"),
        date=t.date(last_day),
    )


def quarterly_title(quarter: str, t: Translator) -> str:
    return t._("📊 Quarterly report {quarter}", quarter=quarter)
