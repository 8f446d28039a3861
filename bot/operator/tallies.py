"""`dondoc stats verify` and `rebuild`: the kept task counts checked against the tasks."""

from __future__ import annotations

import argparse

from bot.operator.context import Context
from locales import Translator
from models.tally_checks import Difference, verify
from models.tally_rebuild import rebuild_beside_writers


async def cmd_stats(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    if args.action == "rebuild":
        # Counted beside the bot: the write lock is held only to put the differences right.
        rows = (await rebuild_beside_writers(ctx.engine)).rows
        print(
            t._(
                "The kept task counts were counted again from the tasks ({rows} rows).",
                rows=t.number(rows),
            )
        )
        return 0
    async with ctx.sessions() as session, session.begin():
        differences = await verify(session)
    if not differences:
        print(t._("The kept task counts agree with the tasks."))
        return 0
    print(t._("The kept task counts differ from the tasks, for example:"))
    for d in differences:
        print(
            t._(
                "  unit {unit}, {state} on {day} ({grain}): kept {kept}, counted {fresh}",
                unit=d.unit_id,
                state=_state(t, d),
                day=t.date(d.day),
                grain={"d": t._("day"), "m": t._("month"), "y": t._("year")}[d.grain],
                kept=t.number(d.kept),
                fresh=t.number(d.fresh),
            )
        )
    print(t._("Count them again from the tasks with `dondoc stats rebuild`."))
    return 1


def _state(t: Translator, d: Difference) -> str:
    if d.silence:
        return t._("open, last updated")
    return t._("done late") if d.late else (t._("done") if d.done else t._("open"))
