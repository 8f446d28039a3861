"""`dondoc report` and `dondoc urge`: a report's files and an urging letter, to a path."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.operator.context import CliError, Context, parse_at, unit_named
from bot.operator.progress import steps
from locales import Translator
from models.calendar import load_calendar
from models.clock import local_date
from models.reports import Period, Report, TableName, build_report
from paperwork.public_list import write_public_csv, write_public_html
from paperwork.report_chart import write_chart
from paperwork.report_files import period_title
from paperwork.report_files import write_csv as write_report_csv
from paperwork.report_workbook import write_xlsx
from paperwork.urging_letter import letter_filename, urging_letter, write_docx


def _write(t: Translator, args: argparse.Namespace, output: Path, report: Report) -> None:
    try:
        writers = {
            "xlsx": write_xlsx,
            "csv": write_report_csv,
            "png": write_chart,
            "html": write_public_html,
        }
        if args.public and args.format == "csv":
            write_public_csv(output, report, t)
        elif args.format == "csv":
            write_report_csv(output, report, t, TableName(args.table))
        else:
            writers[args.format](output, report, t)
    except OSError as error:
        raise CliError(
            t._("{path}: cannot write the file ({reason})", path=output, reason=error.strerror)
        ) from None


async def cmd_report(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    moment = parse_at(args.at, ctx.clock, t)
    end = local_date(moment)
    kind = Period(args.kind)
    output = args.output or Path(f"bao-cao-{kind.value}-{end.isoformat()}.{args.format}")
    with steps(t._("Report"), [t._("counting"), t._("writing the file")]) as step:
        step(t._("counting"))
        async with ctx.sessions() as session:
            unit_id = (await unit_named(ctx, session, args.unit)).id if args.unit else None
            report = await build_report(
                session,
                kind,
                end,
                await load_calendar(session),
                due_soon_days=ctx.settings.due_soon_days,
                past=end < local_date(ctx.clock.now()),
                unit_id=unit_id,
                nagging=ctx.settings.nagging,
                formula=ctx.settings.formula,
            )
        step(t._("writing the file"))
        _write(t, args, output, report)
    total = report.total
    print(
        t._(
            "{title}: {assigned} tasks, {on_time} done on time, {late} done late, "
            "{open} in progress in time, {overdue} overdue.",
            title=period_title(t, report),
            assigned=t.number(total.assigned),
            on_time=t.number(total.done_on_time),
            late=t.number(total.done_late),
            open=t.number(total.open_in_time),
            overdue=t.number(total.overdue),
        )
    )
    print(t._("Written to {path}.", path=output))
    return 0


async def cmd_urge(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    moment = parse_at(args.at, ctx.clock, t)
    async with ctx.sessions() as session:
        unit = await unit_named(ctx, session, args.unit)
        window = await ctx.window(session, moment)
        letter = await urging_letter(session, unit, window, await load_calendar(session))
    if not letter.tasks:
        print(
            t._(
                "{unit} has no overdue task on {date}: no letter is needed.",
                unit=unit.name,
                date=t.date(window.today),
            )
        )
        return 0
    output = args.output or Path(letter_filename(letter))
    try:
        write_docx(output, letter, t)
    except OSError as error:
        raise CliError(
            t._("{path}: cannot write the file ({reason})", path=output, reason=error.strerror)
        ) from None
    print(
        t.ngettext(
            "Urging letter to {unit}: {n} overdue task, reasons due by {date}.",
            "Urging letter to {unit}: {n} overdue tasks, reasons due by {date}.",
            len(letter.tasks),
            unit=unit.name,
            date=t.date(letter.reply_by),
        )
    )
    print(t._("Written to {path}.", path=output))
    return 0
