"""The `dondoc` command line: schema, import and export, link codes, the demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import SAMPLE_DIR, Settings
from bot.demo import serve_demo
from bot.runtime import deliver_due, serve_forever
from jobs.run import run_due
from locales import Translator, translator
from models.accounts import LINK_CODE_VALIDITY, issue_link_code
from models.calendar import load_calendar
from models.clock import Clock, FixedClock, SystemClock, local_date, parse_moment
from models.db import create_engine, current_revision, head_revision, session_factory, upgrade
from models.exporting import export_tasks
from models.importing import (
    ImportResult,
    import_calendar,
    import_officials,
    import_tasks,
    import_units,
)
from models.organization import Official, Unit
from models.overdue import overdue_by_unit
from models.public_list import write_public_csv, write_public_html
from models.report_chart import write_chart
from models.report_files import TableName, period_title, write_xlsx
from models.report_files import write_csv as write_report_csv
from models.reports import Period, build_report
from models.status import StatusWindow
from models.tabular import TableError
from models.task_queries import unit_by_code
from models.urging_letter import letter_filename, urging_letter, write_docx


class CliError(Exception):
    """A user mistake: printed as it is, exit status 2, never a traceback."""


def _parser(t: Translator) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dondoc", description=t._("Task tracking and urging system (Đôn Đốc).")
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help=t._("database schema"))
    db.add_argument("action", choices=["upgrade"], help=t._("create or upgrade the schema"))

    imp = commands.add_parser("import", help=t._("import units, officials, tasks or calendar days"))
    imp.add_argument("kind", choices=["units", "officials", "tasks", "calendar"])
    imp.add_argument("file", type=Path, help=t._("a .csv or .xlsx file"))
    imp.add_argument("--dry-run", action="store_true", help=t._("check the file, write nothing"))

    exp = commands.add_parser("export", help=t._("export every task"))
    exp.add_argument("kind", choices=["tasks"])
    exp.add_argument("file", type=Path, help=t._("a .csv or .xlsx file"))
    exp.add_argument("--at", help=t._("the moment of the derived status, e.g. 2026-11-24T08:00"))

    link = commands.add_parser("link", help=t._("print a one-time code to link a chat account"))
    link.add_argument("official_code")

    overdue = commands.add_parser("overdue", help=t._("overdue tasks per lead unit"))
    overdue.add_argument("--at", help=t._("the moment, e.g. 2026-11-24T08:00"))

    demo = commands.add_parser(
        "demo", help=t._("load the sample city and chat with the bot in the sandbox")
    )
    demo.add_argument("--sample-dir", type=Path, default=SAMPLE_DIR)
    demo.add_argument("--no-chat", action="store_true", help=t._("load and summarise only"))

    commands.add_parser("run", help=t._("run the bot (Telegram polling or webhook)"))

    report = commands.add_parser("report", help=t._("write a periodic report as a file"))
    report.add_argument("kind", choices=[p.value for p in Period])
    report.add_argument("--at", help=t._("the last day of the period, e.g. 2026-11-30"))
    report.add_argument("--unit", help=t._("one unit's report, by its code"))
    report.add_argument("--format", choices=["xlsx", "csv", "png", "html"], default="xlsx")
    report.add_argument(
        "--public",
        action="store_true",
        help=t._("the public list of late units and individuals (html or csv)"),
    )
    report.add_argument(
        "--table",
        choices=[name.value for name in TableName],
        default=TableName.SUMMARY.value,
        help=t._("with --format csv: which table (the workbook has all four)"),
    )
    report.add_argument("-o", "--output", type=Path, help=t._("the file to write"))

    urge = commands.add_parser(
        "urge", help=t._("write the urging letter to a unit with overdue tasks (DOCX)")
    )
    urge.add_argument("unit", help=t._("the unit's code"))
    urge.add_argument("--at", help=t._("the day of the letter, e.g. 2026-11-30"))
    urge.add_argument("-o", "--output", type=Path, help=t._("the file to write"))

    tick = commands.add_parser(
        "tick", help=t._("run once everything due at a moment, and send the queued messages")
    )
    tick.add_argument("--at", help=t._("the moment, e.g. 2026-11-24T08:00"))
    return parser


def _moment(value: str | None, clock: Clock, t: Translator) -> datetime:
    if not value:
        return clock.now()
    try:
        return parse_moment(value)
    except ValueError:
        raise CliError(
            t._(
                "'{value}' is not a moment; write it as 2026-11-24 or 2026-11-24T08:00", value=value
            )
        ) from None


def _print_import(t: Translator, kind: str, result: ImportResult, dry_run: bool) -> None:
    for error in result.errors:
        print(t._("Row {row}: {message}", row=error.row, message=error.message), file=sys.stderr)
    if result.ignored_columns:
        print(t._("Columns not used: {columns}", columns=", ".join(result.ignored_columns)))
    if result.errors:
        print(
            t.ngettext(
                "Nothing was imported: {n} row has errors.",
                "Nothing was imported: {n} rows have errors.",
                len({e.row for e in result.errors}),
            ),
            file=sys.stderr,
        )
        return
    kinds = {
        "units": t._("units"),
        "officials": t._("officials"),
        "tasks": t._("tasks"),
        "calendar": t._("calendar days"),
    }
    summary = t._(
        "{created} new, {updated} updated, {unchanged} unchanged.",
        created=t.number(result.created),
        updated=t.number(result.updated),
        unchanged=t.number(result.unchanged),
    )
    if dry_run:
        print(t._("Checked, nothing written: {summary}", summary=summary))
    else:
        print(t._("Imported {kind}: {summary}", kind=kinds[kind], summary=summary))


async def _import(
    session: AsyncSession, kind: str, path: Path, t: Translator, now: datetime, dry_run: bool
) -> ImportResult:
    try:
        if kind == "units":
            return await import_units(session, path, t, dry_run=dry_run)
        if kind == "officials":
            return await import_officials(session, path, t, dry_run=dry_run)
        if kind == "calendar":
            return await import_calendar(session, path, t, dry_run=dry_run)
        return await import_tasks(session, path, t, now=now, dry_run=dry_run)
    except TableError as error:
        messages = {
            "suffix": t._("{path}: only .csv and .xlsx files can be read", path=error.path),
            "missing": t._("{path}: no such file", path=error.path),
            "unreadable": t._("{path}: not a readable Excel file", path=error.path),
            "encoding": t._(
                '{path}: the file is not UTF-8 text; save it as "CSV UTF-8"', path=error.path
            ),
        }
        raise CliError(messages[error.kind]) from None


@dataclass(frozen=True)
class Context:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    t: Translator
    clock: Clock

    async def window(self, session: AsyncSession, moment: datetime) -> StatusWindow:
        calendar = await load_calendar(session)
        today = local_date(moment)
        past = today < local_date(self.clock.now())
        return StatusWindow.at(today, calendar, self.settings.due_soon_days, past=past)


async def _overdue_summary(ctx: Context, session: AsyncSession, moment: datetime) -> None:
    t = ctx.t
    window = await ctx.window(session, moment)
    units = await overdue_by_unit(session, window)
    total = sum(u.count for u in units)
    print(
        t._(
            "Overdue tasks on {date}: {total} at {units} units.",
            date=t.date(window.today, weekday=True),
            total=t.number(total),
            units=t.number(len(units)),
        )
    )
    for unit in units:
        print(
            t.ngettext(
                "  {name} ({code}): {n} task, the oldest {days} days overdue",
                "  {name} ({code}): {n} tasks, the oldest {days} days overdue",
                unit.count,
                name=unit.unit_name,
                code=unit.unit_code,
                days=t.number(unit.worst_days),
            )
        )


async def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    async with ctx.sessions() as session:
        result = await _import(session, args.kind, args.file, ctx.t, ctx.clock.now(), args.dry_run)
    _print_import(ctx.t, args.kind, result, args.dry_run)
    return 0 if result.ok else 1


async def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    moment = _moment(args.at, ctx.clock, t)
    async with ctx.sessions() as session:
        window = await ctx.window(session, moment)
        try:
            count = await export_tasks(session, args.file, window, t)
        except TableError:
            raise CliError(
                t._("{path}: only .csv and .xlsx files can be written", path=args.file)
            ) from None
        except OSError as error:
            raise CliError(
                t._(
                    "{path}: cannot write the file ({reason})",
                    path=args.file,
                    reason=error.strerror,
                )
            ) from None
    print(t._("Exported {count} tasks to {path}.", count=t.number(count), path=args.file))
    return 0


async def cmd_link(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    async with ctx.sessions() as session:
        official = await session.scalar(select(Official).where(Official.code == args.official_code))
        if official is None:
            raise CliError(t._("No official has the code '{code}'.", code=args.official_code))
        now = ctx.clock.now()
        code = await issue_link_code(session, official, now)
        await session.commit()
    print(
        t._(
            "Link code for {name} ({code}): {link_code}",
            name=official.full_name,
            code=official.code,
            link_code=code,
        )
    )
    print(
        t._(
            "Valid until {moment}. In the bot, send: /start {link_code}",
            moment=t.datetime(now + LINK_CODE_VALIDITY),
            link_code=code,
        )
    )
    return 0


async def cmd_overdue(ctx: Context, args: argparse.Namespace) -> int:
    moment = _moment(args.at, ctx.clock, ctx.t)
    async with ctx.sessions() as session:
        await _overdue_summary(ctx, session, moment)
    return 0


async def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    """Load the sample city (again: re-importing changes nothing) and show where it stands."""
    now = ctx.clock.now()
    for kind in ("calendar", "units", "officials", "tasks"):
        async with ctx.sessions() as session:
            result = await _import(
                session, kind, args.sample_dir / f"{kind}.csv", ctx.t, now, dry_run=False
            )
        _print_import(ctx.t, kind, result, dry_run=False)
        if not result.ok:
            return 1
    async with ctx.sessions() as session:
        await _overdue_summary(ctx, session, now)
    if args.no_chat:
        return 0
    print(
        ctx.t._(
            "Chat sandbox: open http://127.0.0.1:{port} in a browser, pick an official, "
            'press "Link this account", then send /viec. Ctrl+C stops.',
            port=ctx.settings.sandbox_port,
        ),
        flush=True,
    )
    await serve_demo(ctx.engine, ctx.settings, ctx.clock)
    return 0


async def cmd_run(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    if not (settings.telegram_token or settings.zalo_token or settings.matrix):
        raise CliError(
            ctx.t._(
                "No channel is configured: set DONDOC_TELEGRAM_TOKEN (the bot's token from "
                "@BotFather), DONDOC_ZALO_TOKEN (from Zalo's bot creator), or "
                "DONDOC_MATRIX_HOMESERVER with DONDOC_MATRIX_USER and DONDOC_MATRIX_PASSWORD "
                "(or DONDOC_MATRIX_TOKEN) for the city's own Matrix server; any of them or several."
            )
        )
    print(ctx.t._("The bot is running. Ctrl+C stops."), flush=True)
    await serve_forever(ctx.engine, ctx.settings, ctx.clock)
    return 0


async def _unit(ctx: Context, session: AsyncSession, code: str) -> Unit:
    """The unit with this code, or the error that says there is none."""
    unit = await unit_by_code(session, code)
    if unit is None:
        raise CliError(ctx.t._("There is no unit with the code '{code}'.", code=code))
    return unit


async def cmd_report(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    moment = _moment(args.at, ctx.clock, t)
    end = local_date(moment)
    kind = Period(args.kind)
    output = args.output or Path(f"bao-cao-{kind.value}-{end.isoformat()}.{args.format}")
    async with ctx.sessions() as session:
        unit_id = (await _unit(ctx, session, args.unit)).id if args.unit else None
        report = await build_report(
            session,
            kind,
            end,
            await load_calendar(session),
            due_soon_days=ctx.settings.due_soon_days,
            past=end < local_date(ctx.clock.now()),
            unit_id=unit_id,
        )
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
    moment = _moment(args.at, ctx.clock, t)
    async with ctx.sessions() as session:
        unit = await _unit(ctx, session, args.unit)
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


async def cmd_tick(ctx: Context, args: argparse.Namespace) -> int:
    """Cron-style operation and catching up: the jobs due at the moment, then delivery."""
    t = ctx.t
    moment = _moment(args.at, ctx.clock, t)
    counts = await run_due(ctx.sessions, moment, ctx.settings.cadence)
    labels = {
        "reminders": t._("deadline reminders"),
        "overdue": t._("overdue alerts"),
        "digest": t._("weekly digests"),
        "urging": t._("urgings"),
        "biweekly": t._("biweekly reports"),
        "monthly": t._("monthly reports"),
        "quarterly": t._("quarterly public lists"),
        "unreachable": t._("unreachable officials"),
    }
    queued = ", ".join(f"{labels[name]} {t.number(n)}" for name, n in counts.items())
    print(t._("Jobs due at {moment}: {queued}.", moment=t.datetime(moment), queued=queued))
    if not (ctx.settings.telegram_token or ctx.settings.zalo_token):
        print(t._("No channel is configured: the messages stay in the outbox until the bot runs."))
        return 0
    sent = await deliver_due(ctx.settings, ctx.sessions, FixedClock(moment))
    print(
        t._(
            "Sent {count} messages; the rest wait for working hours or a retry.",
            count=t.number(sent),
        )
    )
    return 0


COMMANDS: dict[str, Callable[[Context, argparse.Namespace], Awaitable[int]]] = {
    "import": cmd_import,
    "export": cmd_export,
    "link": cmd_link,
    "overdue": cmd_overdue,
    "demo": cmd_demo,
    "run": cmd_run,
    "tick": cmd_tick,
    "report": cmd_report,
    "urge": cmd_urge,
}


async def _run(args: argparse.Namespace, settings: Settings, t: Translator, clock: Clock) -> int:
    engine = create_engine(settings.database_url)
    try:
        if args.command == "db":
            await upgrade(engine)
            print(t._("The database schema is up to date."))
            return 0
        if args.command == "demo":
            await upgrade(engine)
        elif await current_revision(engine) != head_revision():
            raise CliError(
                t._("The database is not set up or is out of date: run `dondoc db upgrade`.")
            )
        context = Context(engine, session_factory(engine), settings, t, clock)
        return await COMMANDS[args.command](context, args)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    settings = Settings.from_env()
    t = translator(settings.language)
    args = _parser(t).parse_args(argv)
    try:
        return asyncio.run(_run(args, settings, t, clock or SystemClock()))
    except CliError as error:
        print(error, file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError) as error:
        print(
            t._("The database cannot be used: {reason}", reason=str(error).splitlines()[0]),
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
