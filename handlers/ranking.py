"""/xephang (/ranking): units scored by the published formula; /bangdieukhien (/dashboard):
a signed link to the read-only dashboard."""

from __future__ import annotations

from datetime import date

from handlers.arguments import syntax
from handlers.core import Request
from locales import Translator
from messages.reply import Reply
from models.dashboard import account_id_for
from models.permissions import BoardScope, board_scope
from models.reports import Period, period_bounds
from models.scores import Scope, unit_ranking
from models.scoring import Ranked

PERIODS = {
    "thang": Period.MONTHLY,
    "month": Period.MONTHLY,
    "quy": Period.QUARTERLY,
    "quarter": Period.QUARTERLY,
}
CITY_TOP = 10  # a city-wide ranking lists the best and the worst; the rest is in the report


def period_label(t: Translator, kind: Period, start: date) -> str:
    if kind is Period.QUARTERLY:
        return t._("quarter {quarter}/{year}", quarter=(start.month - 1) // 3 + 1, year=start.year)
    return t._("month {month}", month=start.strftime("%m/%Y"))


def score_line(t: Translator, row: Ranked) -> str:
    f = row.facts
    return t._(
        "{rank}. {name} — {score} points ({overdue} overdue, {late} done late, {early} done early)",
        rank=t.number(row.rank),
        name=row.name,
        score=t.number(row.score),
        overdue=t.number(f.overdue),
        late=t.number(f.done_late),
        early=t.number(f.done_early),
    )


async def ranking(req: Request) -> list[Reply]:
    """`/xephang [thang|quy]`: the city's ranking for the task force and city leaders, a
    unit leader's own unit's place and score; anyone else is told who may ask."""
    t = req.t
    word = req.args.strip().lower()
    if word and word not in PERIODS:
        return syntax(req, t._("'{word}' is not a period.", word=word[:20]))
    scope = board_scope(req.me)
    if scope is None:
        return [
            Reply(
                t._(
                    "The ranking is for the task force, city leaders and unit leaders. "
                    "Your own tasks: /viec"
                ),
                refused=True,
            )
        ]
    kind = PERIODS.get(word, Period.MONTHLY)
    start, end = period_bounds(kind, req.today)
    formula = req.settings.formula
    ranked = await unit_ranking(req.session, Scope(req.window, start, formula, req.calendar))
    label = period_label(t, kind, start)
    if scope is BoardScope.UNIT:
        mine = next((r for r in ranked if r.key == req.me.unit_id), None)
        if mine is None:
            return [
                Reply(
                    t._(
                        "Your unit has no task in {period}, so it has no score yet.",
                        period=label,
                    )
                )
            ]
        return [
            Reply(
                "\n".join(
                    [
                        t._(
                            "🏆 {name}: place {rank} of {units}, {score} points — {period} "
                            "(as of {date}; formula {version})",
                            name=mine.name,
                            rank=t.number(mine.rank),
                            units=t.number(len(ranked)),
                            score=t.number(mine.score),
                            period=label,
                            date=t.date(end),
                            version=formula.version,
                        ),
                        score_line(t, mine),
                    ]
                )
            )
        ]
    lines = [
        t._(
            "🏆 Units ranked by score — {period} (as of {date}; formula {version})",
            period=label,
            date=t.date(end),
            version=formula.version,
        )
    ]
    if not ranked:
        lines.append(t._("No task in this period."))
        return [Reply("\n".join(lines))]
    if len(ranked) <= 2 * CITY_TOP:
        lines += [score_line(t, r) for r in ranked]
    else:
        lines += [score_line(t, r) for r in ranked[:CITY_TOP]]
        lines.append(t._("…"))
        lines += [score_line(t, r) for r in ranked[-CITY_TOP:]]
        lines.append(
            t._(
                "The full ranking is in the workbook of /baocao {period}.",
                period="quy" if kind is Period.QUARTERLY else "thang",
            )
        )
    lines.append(
        t._(
            "Equal scores: fewer overdue tasks first, then fewer days overdue, fewer done late, "
            "more done on time."
        )
    )
    return [Reply("\n".join(lines))]


async def dashboard(req: Request) -> list[Reply]:
    """`/bangdieukhien`: a link valid 12 hours, bound to this chat account."""
    t = req.t
    scope = board_scope(req.me)
    if scope is None:
        return [
            Reply(
                t._(
                    "The dashboard is for the task force, city leaders and unit leaders. "
                    "Your own tasks: /viec"
                ),
                refused=True,
            )
        ]
    if req.incoming.is_group:
        return [
            Reply(
                t._("The dashboard link is personal: ask for it in a private chat with the bot."),
                refused=True,
            )
        ]
    link = req.settings.dashboard_link
    if link is None:
        return [
            Reply(
                t._(
                    "The dashboard is not set up on this server. Please contact the Office of "
                    "the People's Committee."
                )
            )
        ]
    incoming = req.incoming
    account_id = await account_id_for(req.session, incoming.channel, incoming.user_id)
    assert account_id is not None  # the account asking is linked
    url, expires = link(account_id, req.me.official.id)
    what = t._("the whole city") if scope is BoardScope.CITY else t._("your unit")
    return [
        Reply(
            t._(
                "📊 The dashboard of {what}, read-only: {url}\nThe link is yours alone and "
                "works until {time}; then ask /bangdieukhien again.",
                what=what,
                url=url,
                time=t.datetime(expires),
            )
        )
    ]
