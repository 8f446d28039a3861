"""/baocao (/report): the periodic report in chat — summary, chart and workbook.

The same report as `dondoc report` and the report jobs: one `build_report`, so the counts
agree everywhere. Building it for a whole big city takes seconds, so the command answers at
once and the report follows from the core's slow lane (`Request.later`).
"""

from __future__ import annotations

import logging
import re
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.arguments import LAST_DAY, read_date, syntax
from handlers.core import Request
from locales import Translator
from messages.kept_reports import figures_as_of, keep_built, kept_answer
from messages.reply import Reply
from messages.report_build import ReportOrder, build_report_files
from models.attachments import File
from models.db import write_gate
from models.organization import Unit
from models.permissions import may_see_unit_lists
from models.report_store import ReportAsk
from models.reports import Period, last_day, period_bounds
from models.task_queries import unit_by_code
from models.throttles import refused_until, take

log = logging.getLogger(__name__)

PERIODS = {
    "tuan": Period.WEEKLY,
    "week": Period.WEEKLY,
    "2tuan": Period.BIWEEKLY,
    "giaoban": Period.BIWEEKLY,
    "biweekly": Period.BIWEEKLY,
    "thang": Period.MONTHLY,
    "month": Period.MONTHLY,
    "quy": Period.QUARTERLY,
    "quarter": Period.QUARTERLY,
}


async def report(req: Request) -> list[Reply]:
    """`/baocao [tuan|2tuan|thang|quy] [UNIT]`: the city's for the task force and city leaders,
    a unit leader's own unit's; anyone else is told who may ask."""
    t, me = req.t, req.me
    words = req.args.lower().split()
    kind = Period.WEEKLY
    if words and words[0] in PERIODS:
        kind = PERIODS[words.pop(0)]
    end = req.today
    if words and any(c.isdigit() for c in words[0]):
        chosen = _period_end(req, kind, words.pop(0))
        if isinstance(chosen, list):
            return chosen
        end = chosen
    if len(words) > 1:
        return syntax(
            req, t._("'{words}' is not a period and a unit code.", words=" ".join(words)[:40])
        )
    if not may_see_unit_lists(me):
        return [
            Reply(
                t._(
                    "Reports are for the task force, city leaders and unit leaders. Your own "
                    "tasks: /viec"
                ),
                refused=True,
            )
        ]
    if req.incoming.is_group:
        return [Reply(t._("Reports are sent in a private chat with the bot only."), refused=True)]
    unit: Unit | None = None
    if words:
        unit = await unit_by_code(req.session, words[0])
        if unit is None:
            return [
                Reply(
                    t._(
                        "There is no unit with the code '{code}'. Write for example: "
                        "/report month SXD",
                        code=words[0][:32],
                    ),
                    refused=True,
                )
            ]
        if not me.sees_everything and unit.id != me.unit_id:
            return [Reply(t._("You may see your own unit's report only."), refused=True)]
    elif not me.sees_everything:
        unit = await req.session.get(Unit, me.unit_id)
    calendar, due_soon, past = req.calendar, req.settings.due_soon_days, end < req.today
    unit_id = unit.id if unit else None
    limits, person = req.limits, me.official.id
    same = (kind, end, unit_id, past, t.language)  # identical asks share one build
    if (person, same) in limits.waiting:
        return [
            Reply(
                t._(
                    "Your {period} is already being prepared; it follows in a moment.",
                    period=period_name(t, kind),
                ),
                refused=True,
            )
        ]
    limits.waiting.add((person, same))  # before the count: the same ask meanwhile waits
    try:
        allowed = await take(req.session, limits.reports, str(person), req.now)
    except BaseException:
        limits.waiting.discard((person, same))
        raise
    if not allowed:
        limits.waiting.discard((person, same))
        until = await refused_until(req.session, limits.reports, str(person), req.now)
        return [
            Reply(
                t._(
                    "You have asked for many reports in the last few minutes. Please try "
                    "again after {time}.",
                    time=t.datetime(until or req.now),
                ),
                refused=True,
            )
        ]

    settings = req.settings
    order = ReportOrder(
        kind=kind,
        end=end,
        unit_id=unit_id,
        past=past,
        language=t.language,
        due_soon_days=due_soon,
        nagging=settings.nagging,
        formula=settings.formula,
    )
    ask = ReportAsk(
        kind.value,
        end,
        unit_id,
        past,
        t.language,
        due_soon,
        repr(settings.nagging),
        settings.formula,
    )

    async def produce(session: AsyncSession) -> list[Reply | File]:
        async def build() -> list[Reply | File]:
            # Sent again while nothing it was built from has changed: never stale.
            start = period_bounds(kind, end)[0]
            if kept := await kept_answer(session, t, ask, kind, start, end):
                return kept
            built = await build_report_files(session, order, calendar)
            await session.commit()  # the reading done: keeping it is a short write of its own
            try:
                async with write_gate(session.bind).urgent():
                    files = await keep_built(
                        session, ask, built.version, req.now, built.summary, built.files
                    )
                    await session.commit()
            except Exception:
                # Keeping is a cache: the person still gets the report just built.
                log.exception("could not keep the report %s", ask.key)
                await session.rollback()
                files = built.files
            return [Reply(f"{built.summary}\n{figures_as_of(t, req.now)}"), *files]

        try:
            return list(await limits.builds.run(same, build))
        finally:
            limits.waiting.discard((person, same))

    req.later.append(produce)
    scope = unit.name if unit else t._("the whole city")
    return [
        Reply(
            t._(
                "⏳ Preparing the {period} for {scope}: the summary, the chart and the workbook "
                "follow in a moment.",
                period=period_name(t, kind),
                scope=scope,
            )
        )
    ]


def _period_end(req: Request, kind: Period, word: str) -> date | list[Reply]:
    """The last day of the period the person named: `11/2026` (a month), `3/2026` (a
    quarter) or a day, `20/11/2026`; a period still running ends today."""
    t = req.t
    if match := re.fullmatch(r"([0-9]{1,2})/([0-9]{4})", word):
        number, year = int(match[1]), int(match[2])
        if kind not in (Period.MONTHLY, Period.QUARTERLY):
            return syntax(req, t._("A week is named by its last day, e.g. 20/11/2026."))
        top = 12 if kind is Period.MONTHLY else 4
        if not 1 <= number <= top or not 2000 <= year <= LAST_DAY.year:
            return syntax(req, t._("'{value}' is not a month or a quarter.", value=word))
        end = last_day(kind, year, number)
    else:
        day = read_date(word)
        if day is None:
            return syntax(req, t._("'{value}' is not a period or a day.", value=word[:20]))
        end = day
    if period_bounds(kind, end)[0] > req.today:
        return [
            Reply(t._("That period has not begun yet: there is nothing to report."), refused=True)
        ]
    return min(end, req.today)


def period_name(t: Translator, kind: Period) -> str:
    return {
        Period.WEEKLY: t._("weekly report"),
        Period.BIWEEKLY: t._("report for the briefing meeting"),
        Period.MONTHLY: t._("monthly report"),
        Period.QUARTERLY: t._("quarterly report"),
    }[kind]
