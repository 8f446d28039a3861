"""The task force's and leaders' views: /quahan (overdue by unit) and /thongke (five columns)."""

from __future__ import annotations

from itertools import groupby

from handlers.core import Request
from locales import Translator
from messages.cards import comrade, deadline_phrase, five_columns, short, total_line
from messages.reply import Reply
from models.nagging import quiet_before, silent_count
from models.overdue import oldest_overdue, worst_units
from models.permissions import may_see_unit_lists
from models.statistics import FiveColumns, city_columns, five_columns_by_unit
from models.task_queries import unit_by_code

PER_UNIT = 3
CITY_UNITS = 20  # the worst units in a city-wide list; the others by /quahan <code>
ONE_UNIT_LIMIT = 60


async def _scope(req: Request) -> int | list[Reply] | None:
    """The unit a list may cover: None for the whole city, or one unit's id."""
    t = req.t
    me = req.me
    if not may_see_unit_lists(me):
        return [
            Reply(
                t._(
                    "Lists by unit are for the task force, city leaders and unit leaders. "
                    "Your own tasks: /viec"
                )
            )
        ]
    code = req.args.strip()
    whole_city = me.sees_everything and not req.incoming.is_group
    if not code:
        return None if whole_city else me.unit_id
    unit = await unit_by_code(req.session, code)
    if unit is None:
        return [Reply(t._("There is no unit with the code '{code}'.", code=code))]
    if not whole_city and unit.id != me.unit_id:
        if req.incoming.is_group:
            return [
                Reply(
                    t._(
                        "In a group the bot lists only your own unit's tasks; ask in a "
                        "private chat."
                    )
                )
            ]
        return [Reply(t._("You may see the lists of your own unit only."))]
    return unit.id


async def overdue(req: Request) -> list[Reply]:
    t = req.t
    scope = await _scope(req)
    if isinstance(scope, list):
        return scope
    window = req.window
    summary = await worst_units(
        req.session, window, scope, first=CITY_UNITS if scope is None else None
    )
    silent = await _silent_line(req, scope)
    if not summary.worst:
        text = t._("✅ No task is overdue ({date}).", date=t.date(req.today))
        return [Reply("\n".join([text, *silent]))]
    lines = [
        t._(
            "🔴 Overdue on {date}: {tasks} tasks at {units} units",
            date=t.date(req.today),
            tasks=t.number(summary.tasks),
            units=t.number(summary.units),
        )
    ]
    lines += silent
    one_unit = scope is not None or summary.units == 1
    shown = summary.worst
    listed = await oldest_overdue(
        req.session,
        window,
        [u.unit_id for u in shown],
        ONE_UNIT_LIMIT if one_unit else PER_UNIT,
    )
    by_unit = {code: list(rows) for code, rows in groupby(listed, key=lambda r: r.unit_code)}
    for unit in shown:
        lines.append("")
        lines.append(
            t.ngettext(
                "{name} ({code}) — {n} task, the oldest {days} days overdue",
                "{name} ({code}) — {n} tasks, the oldest {days} days overdue",
                unit.count,
                name=unit.unit_name,
                code=unit.unit_code,
                days=t.number(unit.worst_days or 0),
            )
        )
        for row in by_unit.get(unit.unit_code, []):
            lines.append(
                t._(
                    "• #{id} {content} — {deadline}; leader {leader}, specialist {specialist}",
                    id=row.task.id,
                    content=short(row.task.content, 50),
                    deadline=deadline_phrase(t, row.task, window, req.calendar),
                    leader=comrade(t, row.leader_name),
                    specialist=comrade(t, row.specialist_name),
                )
            )
        listed_here = len(by_unit.get(unit.unit_code, []))
        if unit.count > listed_here:
            lines.append(
                t._(
                    "  … and {count} more: /quahan {code}",
                    count=t.number(unit.count - listed_here),
                    code=unit.unit_code,
                )
            )
    if summary.units > len(shown):
        lines.append("")
        lines.append(
            t._(
                "… and {count} more units with overdue tasks; one unit's list: /quahan <unit code>",
                count=t.number(summary.units - len(shown)),
            )
        )
    return [Reply("\n".join(lines))]


async def _silent_line(req: Request, scope: int | None) -> list[str]:
    """The "chưa cập nhật" count: open tasks silent for DONDOC_STALE_DAYS working days."""
    days = req.settings.nagging.stale_days
    if days <= 0:
        return []
    before = quiet_before(req.today, req.calendar, days)
    count = await silent_count(req.session, req.window, before, scope)
    if not count:
        return []
    return [
        req.t._(
            "🕓 Not updated for {days} working days or more: {count} open tasks (/nguyco: at risk)",
            days=req.t.number(days),
            count=req.t.number(count),
        )
    ]


def _row(t: Translator, name: str, c: FiveColumns) -> str:
    return f"{name}: {five_columns(t, c)}"


async def stats(req: Request) -> list[Reply]:
    """/thongke: this month's five columns — for the city, its total and the worst units
    (the full table is the report's); for one unit, its row."""
    t = req.t
    scope = await _scope(req)
    if isinstance(scope, list):
        return scope
    month_start = req.today.replace(day=1)
    lines = [
        t._(
            "📊 Figures for {month} (as of {date})",
            month=req.today.strftime("%m/%Y"),
            date=t.date(req.today),
        ),
        t._("Columns: assigned · done on time · done late · in progress in time · overdue"),
    ]
    if scope is None:
        city = await city_columns(req.session, req.window, month_start, CITY_UNITS)
        if not city.total.assigned:
            lines.append(t._("No task in this period."))
            return [Reply("\n".join(lines))]
        lines.append(total_line(t, city.total))
        lines.append("")
        lines.append(
            t.ngettext(
                "Worst first, {shown} of {units} unit:",
                "Worst first, {shown} of {units} units:",
                city.units,
                shown=t.number(len(city.worst)),
                units=t.number(city.units),
            )
        )
        lines += [_row(t, r.name, r.columns) for r in city.worst]
        lines.append("")
        lines.append(t._("One unit: /thongke <unit code>; every unit: /baocao thang"))
        return [Reply("\n".join(lines))]
    rows = await five_columns_by_unit(req.session, req.window, month_start, scope)
    if not rows:
        lines.append(t._("No task in this period."))
        return [Reply("\n".join(lines))]
    lines.append(total_line(t, sum((r.columns for r in rows), FiveColumns())))
    lines += [_row(t, r.name, r.columns) for r in rows]
    return [Reply("\n".join(lines))]
