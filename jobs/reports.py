"""The periodic reports to city leaders and the task force: biweekly, monthly, quarterly.

The same `build_report` as `/baocao` and `dondoc report`, so the numbers agree; the chart
and the workbook go with the summary, built once per language and stored once. The report
is built in the rendering worker (`jobs/report_worker.py`), numbers and files alike: the
bot's loop only awaits its texts and bytes, stores them and queues the messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from jobs.context import JobContext
from jobs.rendering import renderer
from jobs.report_worker import (
    BuiltReport,
    ReportOrder,
    announcement,
    biweekly_title,
    build,
    chart_and_workbook,
    monthly_title,
    public_files,
    quarterly_title,
)
from locales import Translator
from models.attachments import File
from models.db import write_gate
from models.notices import Message, Outgoing
from models.organization import Role
from models.outbox import Priority
from models.recipients import distinct, with_role
from models.report_store import ReportAsk, keep_report
from models.reports import Period, Report
from models.scoring import Formula

log = logging.getLogger(__name__)

# The numbers and an 89,000-row workbook take 10–40 s on the big city, more on a busy
# machine: a build still running after ten minutes is hung, and holds every later sweep.
REPORT_TIMEOUT = 600.0


async def _send(
    ctx: JobContext,
    key: str,
    kind: Period,
    end: date,
    title: Callable[[Translator], str],
    make_files: Callable[[Translator, Report], list[File]] = chart_and_workbook,
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
    keep = make_files is chart_and_workbook
    order = ReportOrder(
        url=ctx.session.bind.url.render_as_string(hide_password=False),
        kind=kind,
        end=end,
        past=end < ctx.today,
        calendar=ctx.calendar,
        due_soon_days=ctx.cadence.due_soon_days,
        nagging=ctx.cadence.nagging,
        formula=ctx.cadence.formula,
        languages=tuple(sorted({o.language for o in recipients})),
        title=title,
        files=make_files,
        more=more,
        keep=keep,
    )
    async with renderer(tasks_per_worker=1, timeout=REPORT_TIMEOUT) as render:
        built = await render(build, order)
    # The version in the key: a rerun (its catch-up, some notices still unsent) after a change
    # stores files of its own, rather than getting the first run's back (the first stored wins).
    files = await ctx.store_files(f"{key}:v{built.version}", built.files)
    if keep:
        try:
            await _keep_for_asks(ctx, kind, end, built, files)
        except Exception:
            # Keeping is a cache for `/baocao`: the report still goes out.
            log.exception("could not keep the report %s for asks", key)
            await ctx.session.rollback()

    def message(t: Translator) -> Message:
        return Message(
            built.texts[t.language],
            [[(t._("Overdue list"), "/quahan")]],
            files.get(t.language, ()),
        )

    items = [Outgoing(k, o, message) for k, o in zip(keys, recipients, strict=True)]
    return await ctx.notifier.send(items, priority=Priority.BULK, not_before=ctx.for_officials)


async def _keep_for_asks(
    ctx: JobContext,
    kind: Period,
    end: date,
    built: BuiltReport,
    files: dict[str, tuple[tuple[int, str], ...]],
) -> None:
    """Keep the city's report as `/baocao` would answer it, in each language built: the same
    ask then gets these files, not a build of its own, until the data changes."""
    formula = ctx.cadence.formula or Formula.load()
    async with write_gate(ctx.session.bind).bulk():
        for language, ((chart_id, _), (workbook_id, _)) in sorted(files.items()):
            ask = ReportAsk(
                kind.value,
                end,
                None,
                end < ctx.today,
                language,
                ctx.cadence.due_soon_days,
                repr(ctx.cadence.nagging),
                formula,
            )
            summary = built.kept[language]
            await keep_report(
                ctx.session, ask, built.version, ctx.now, summary, chart_id, workbook_id
            )
        await ctx.session.commit()


async def send_biweekly_report(ctx: JobContext, week: str) -> int:
    """For the weekly briefing meeting: the last two weeks, as of today."""
    start, end = ctx.today - timedelta(days=13), ctx.today
    return await _send(
        ctx, f"report:biweekly:{week}", Period.BIWEEKLY, end, partial(biweekly_title, start, end)
    )


async def send_monthly_report(ctx: JobContext) -> int:
    """To the People's Committee: the month just ended, as it stood on its last day."""
    last_day = ctx.today.replace(day=1) - timedelta(days=1)
    return await _send(
        ctx,
        f"report:monthly:{last_day.strftime('%Y-%m')}",
        Period.MONTHLY,
        last_day,
        partial(monthly_title, last_day),
    )


async def send_quarterly_list(ctx: JobContext) -> int:
    """After each quarter: the public list of late units and individuals, for the portal."""
    last_day = ctx.today.replace(day=1) - timedelta(days=1)
    quarter = f"{(last_day.month - 1) // 3 + 1}/{last_day.year}"
    stem = f"cong-khai-quy-{quarter.replace('/', '-')}"
    return await _send(
        ctx,
        f"report:quarterly:{quarter}",
        Period.QUARTERLY,
        last_day,
        partial(quarterly_title, quarter),
        partial(public_files, stem),
        announcement,
    )
