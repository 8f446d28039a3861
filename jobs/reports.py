"""The periodic reports to city leaders and the task force: biweekly, monthly, quarterly.

The same `build_report` as `/baocao` and `dondoc report`, so the numbers agree; the chart
and the workbook go with the summary, built once per language and stored once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from jobs.context import JobContext
from locales import Translator, translator
from messages.reports import file_stem, report_files, summary_text
from models.attachments import File, FileKind
from models.db import write_gate
from models.notices import Message, Outgoing
from models.organization import Role
from models.outbox import Priority
from models.recipients import distinct, with_role
from models.report_store import ReportAsk, data_version, keep_report
from models.reports import Period, Report, build_report
from models.scoring import Formula
from paperwork.public_list import late_people, late_units, public_csv, public_html
from paperwork.report_files import period_title

log = logging.getLogger(__name__)


def _chart_and_workbook(t: Translator, report: Report) -> list[File]:
    return report_files(t, report, file_stem(report))


async def _send(
    ctx: JobContext,
    key: str,
    kind: Period,
    end: date,
    title: Callable[[Translator], str],
    make_files: Callable[[Translator, Report], list[File]] = _chart_and_workbook,
    more: Callable[[Translator, Report], str] | None = None,
) -> int:
    recipients = distinct(
        [
            *await with_role(ctx.session, Role.CITY_LEADER),
            *await with_role(ctx.session, Role.TASK_FORCE),
        ]
    )
    keys = [f"{key}:to {o.id}" for o in recipients]
    if await ctx.all_sent(keys):
        return 0  # sent already: the sweep comes by every few minutes, the report once
    version = await data_version(ctx.session)  # before the build, in its snapshot
    report = await build_report(
        ctx.session,
        kind,
        end,
        ctx.calendar,
        due_soon_days=ctx.cadence.due_soon_days,
        past=end < ctx.today,
        nagging=ctx.cadence.nagging,
        formula=ctx.cadence.formula,
    )
    # The version in the key: a rerun (its catch-up, some notices still unsent) after a change
    # stores files of its own, rather than getting the first run's back (the first stored wins).
    files = await ctx.attach(
        f"{key}:v{version}", (o.language for o in recipients), lambda t: make_files(t, report)
    )
    if make_files is _chart_and_workbook:
        try:
            await _keep_for_asks(ctx, report, version, files)
        except Exception:
            # Keeping is a cache for `/baocao`: the report still goes out.
            log.exception("could not keep the report %s for asks", key)
            await ctx.session.rollback()

    def build(t: Translator) -> Message:
        text = summary_text(t, report, title(t))
        return Message(
            f"{text}\n{more(t, report)}" if more else text,
            [[(t._("Overdue list"), "/quahan")]],
            files.get(t.language, ()),
        )

    items = [Outgoing(k, o, build) for k, o in zip(keys, recipients, strict=True)]
    return await ctx.notifier.send(items, priority=Priority.BULK, not_before=ctx.for_officials)


async def _keep_for_asks(
    ctx: JobContext, report: Report, version: int, files: dict[str, tuple[tuple[int, str], ...]]
) -> None:
    """Keep the city's report as `/baocao` would answer it, in each language built: the same
    ask then gets these files, not a build of its own, until the data changes."""
    formula = ctx.cadence.formula or Formula.load()
    async with write_gate(ctx.session.bind).bulk():
        for language, ((chart_id, _), (workbook_id, _)) in sorted(files.items()):
            t = translator(language)
            ask = ReportAsk(
                report.kind.value,
                report.end,
                None,
                report.end < ctx.today,
                language,
                ctx.cadence.due_soon_days,
                repr(ctx.cadence.nagging),
                formula,
            )
            summary = summary_text(t, report, "📊 " + period_title(t, report))
            await keep_report(ctx.session, ask, version, ctx.now, summary, chart_id, workbook_id)
        await ctx.session.commit()


async def send_biweekly_report(ctx: JobContext, week: str) -> int:
    """For the weekly briefing meeting: the last two weeks, as of today."""
    start, end = ctx.today - timedelta(days=13), ctx.today
    return await _send(
        ctx,
        f"report:biweekly:{week}",
        Period.BIWEEKLY,
        end,
        lambda t: t._(
            "📊 Report for the briefing meeting: {start} – {end}",
            start=t.date(start),
            end=t.date(end),
        ),
    )


async def send_monthly_report(ctx: JobContext) -> int:
    """To the People's Committee: the month just ended, as it stood on its last day."""
    last_day = ctx.today.replace(day=1) - timedelta(days=1)
    return await _send(
        ctx,
        f"report:monthly:{last_day.strftime('%Y-%m')}",
        Period.MONTHLY,
        last_day,
        lambda t: t._(
            "📊 Monthly report {month}: tasks as of {date}",
            month=last_day.strftime("%m/%Y"),
            date=t.date(last_day),
        ),
    )


async def send_quarterly_list(ctx: JobContext) -> int:
    """After each quarter: the public list of late units and individuals, for the portal."""
    last_day = ctx.today.replace(day=1) - timedelta(days=1)
    quarter = f"{(last_day.month - 1) // 3 + 1}/{last_day.year}"
    stem = f"cong-khai-quy-{quarter.replace('/', '-')}"

    def public_files(t: Translator, report: Report) -> list[File]:
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

    return await _send(
        ctx,
        f"report:quarterly:{quarter}",
        Period.QUARTERLY,
        last_day,
        lambda t: t._("📊 Quarterly report {quarter}", quarter=quarter),
        public_files,
        announcement,
    )
