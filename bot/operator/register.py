"""`dondoc import`, `export`, `link`, `unlink`, `overdue`: the city's register from the terminal."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.operator.context import CliError, Context, parse_at, unit_named
from bot.operator.progress import steps
from locales import Translator
from messages.cards import stored_status
from models.accounts import LINK_CODE_VALIDITY, issue_link_code, issue_link_codes, unlink
from models.organization import official_by_code, officials_by_unit
from models.overdue import worst_units
from models.tasks import TaskStatus
from paperwork.exporting import export_tasks
from paperwork.importing import (
    STEPS,
    Conflict,
    ImportResult,
    Step,
    import_calendar,
    import_officials,
    import_tasks,
    import_units,
    no_step,
)
from paperwork.link_codes import CodeRow, write_link_codes
from paperwork.tabular import TableError


def print_import(t: Translator, kind: str, result: ImportResult, dry_run: bool) -> None:
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
    for conflict in result.conflicts:
        print(_conflict_line(t, conflict))
    if result.conflicts:
        print(
            t.ngettext(
                "{n} row was left as the bot has it: officials changed the task in the bot"
                " since the last import and the file says otherwise. Correct the file, or"
                " import it with --overwrite to take the file's values.",
                "{n} rows were left as the bot has them: officials changed the tasks in the"
                " bot since the last import and the file says otherwise. Correct the file, or"
                " import it with --overwrite to take the file's values.",
                len(result.conflicts),
            )
        )


def _conflict_line(t: Translator, conflict: Conflict) -> str:
    names = {
        "status": t._("status"),
        "progress": t._("progress"),
        "completed_date": t._("completed date"),
        "result": t._("result"),
        "deadline": t._("deadline"),
    }

    def shown(value: object) -> str:
        if value is None or value == "":
            return t._("(empty)")
        if isinstance(value, TaskStatus):
            return stored_status(t, value)
        if isinstance(value, date):
            return t.date(value)
        if isinstance(value, int):
            return f"{value}%"  # progress is the only number
        return str(value)

    differences = [
        t._(
            "{field}: bot {bot}, file {file}",
            field=names[d.field],
            bot=shown(d.in_register),
            file=shown(d.in_file),
        )
        for d in conflict.disagreements
    ]
    return t._(
        "Row {row}, task {task}: kept as in the bot ({differences}).",
        row=conflict.row,
        task=conflict.task_id,
        differences="; ".join(differences),
    )


async def import_file(
    session: AsyncSession,
    kind: str,
    path: Path,
    t: Translator,
    now: datetime,
    dry_run: bool,
    overwrite: bool = False,
    office_hours: tuple[time, time] = (time(7, 30), time(17, 0)),
    step: Step = no_step,
) -> ImportResult:
    try:
        if kind == "units":
            return await import_units(session, path, t, dry_run=dry_run, step=step)
        if kind == "officials":
            return await import_officials(session, path, t, dry_run=dry_run, step=step)
        if kind == "calendar":
            return await import_calendar(session, path, t, dry_run=dry_run, step=step)
        return await import_tasks(
            session,
            path,
            t,
            now=now,
            dry_run=dry_run,
            overwrite=overwrite,
            office_hours=office_hours,
            step=step,
        )
    except TableError as error:
        messages = {
            "suffix": t._("{path}: only .csv and .xlsx files can be read", path=error.path),
            "missing": t._("{path}: no such file", path=error.path),
            "unreadable": t._("{path}: not a readable Excel file", path=error.path),
            "encoding": t._(
                '{path}: the file is not UTF-8 text; save it as "CSV UTF-8"', path=error.path
            ),
            "quoting": t._(
                '{path}, line {line}: a quote (") opens a cell that is never closed; write'
                ' a quote inside a cell as two ("") or save the file again from Excel',
                path=error.path,
                line=error.line,
            ),
        }
        raise CliError(messages[error.kind]) from None


async def overdue_summary(ctx: Context, session: AsyncSession, moment: datetime) -> None:
    t = ctx.t
    window = await ctx.window(session, moment)
    summary = await worst_units(session, window)
    print(
        t._(
            "Overdue tasks on {date}: {total} at {units} units.",
            date=t.date(window.today, weekday=True),
            total=t.number(summary.tasks),
            units=t.number(summary.units),
        )
    )
    for unit in summary.worst:
        print(
            t.ngettext(
                "  {name} ({code}): {n} task, the oldest {days} days overdue",
                "  {name} ({code}): {n} tasks, the oldest {days} days overdue",
                unit.count,
                name=unit.unit_name,
                code=unit.unit_code,
                days=t.number(unit.worst_days or 0),
            )
        )


async def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    names = [t._("reading and checking the rows"), t._("writing"), t._("committing")]
    with steps(t._("Import"), names) as step:
        async with ctx.sessions() as session:
            result = await import_file(
                session,
                args.kind,
                args.file,
                t,
                ctx.clock.now(),
                args.dry_run,
                args.overwrite,
                office_hours=(ctx.settings.work_start, ctx.settings.work_end),
                step=lambda name: step(dict(zip(STEPS, names, strict=True))[name]),
            )
    print_import(ctx.t, args.kind, result, args.dry_run)
    return result.exit_code


async def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    moment = parse_at(args.at, ctx.clock, t)
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
    if bool(args.official_code) + bool(args.unit) + bool(args.all) != 1:
        raise CliError(
            t._("Name one official's code, or --unit CODE, or --all (with -o FILE for a sheet).")
        )
    if args.official_code:
        return await _link_one(ctx, args.official_code)
    return await _link_sheet(ctx, args.unit, args.output)


async def _link_one(ctx: Context, official_code: str) -> int:
    t = ctx.t
    async with ctx.sessions() as session:
        official = await official_by_code(session, official_code)
        if official is None:
            raise CliError(t._("No official has the code '{code}'.", code=official_code))
        if not official.active:
            raise CliError(
                t._(
                    "{name} ({code}) is no longer active in the register: no link code is "
                    "given. Import the officials file with them active first.",
                    name=official.full_name,
                    code=official.code,
                )
            )
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
    steps = _how_to_link(ctx)
    if len(steps) > 1 or ctx.settings.matrix:  # one channel, and not Matrix: said above
        print(t._("How to link:"))
        for step in steps:
            print(f"  • {step.format(code=code)}")
    return 0


async def _link_sheet(ctx: Context, unit_code: str | None, output: Path | None) -> int:
    """A fresh code for each active official of a unit (or the city), as a sheet the
    unit's office prints and hands out; earlier codes not yet used stop working."""
    t = ctx.t
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        unit = await unit_named(ctx, session, unit_code) if unit_code else None
        officials = await officials_by_unit(session, unit.id if unit else None, active_only=True)
        if not officials:
            raise CliError(t._("There is nobody to give a code to."))
        codes = await issue_link_codes(session, officials, now)
        await session.commit()
    path = output or Path(f"ma-lien-ket-{unit.code if unit else 'toan-thanh-pho'}.xlsx")
    rows = [CodeRow(o.unit.name, o.code, o.full_name, o.position, codes[o.id]) for o in officials]
    try:
        write_link_codes(path, rows, now + LINK_CODE_VALIDITY, _how_to_link(ctx), t)
    except TableError:
        raise CliError(t._("{path}: write a .xlsx or .csv file", path=path)) from None
    print(
        t.ngettext(
            "Written to {path}: {n} code, valid until {moment}.",
            "Written to {path}: {n} codes, valid until {moment}.",
            len(rows),
            path=path,
            moment=t.datetime(now + LINK_CODE_VALIDITY),
        )
    )
    return 0


async def cmd_unlink(ctx: Context, args: argparse.Namespace) -> int:
    """Take access away: every chat account of the official (and their unused codes), or
    the one chat named by --chat (a lost phone, a shared one)."""
    t = ctx.t
    async with ctx.sessions() as session:
        official = await official_by_code(session, args.official_code)
        if official is None:
            raise CliError(t._("No official has the code '{code}'.", code=args.official_code))
        removed = await unlink(session, [official.id], chat_id=args.chat)
        await session.commit()
    if args.chat and not removed:
        raise CliError(
            t._(
                "{name} ({code}) has no chat account with the chat id {chat}.",
                name=official.full_name,
                code=official.code,
                chat=args.chat,
            )
        )
    print(
        t.ngettext(
            "{name} ({code}): {n} chat account unlinked.",
            "{name} ({code}): {n} chat accounts unlinked.",
            removed,
            name=official.full_name,
            code=official.code,
        )
    )
    if not args.chat:
        print(t._("Link codes not yet used no longer work."))
    return 0


def _how_to_link(ctx: Context) -> list[str]:
    """The steps an official follows, for each channel this city runs (`{code}`: theirs)."""
    t, settings = ctx.t, ctx.settings
    steps = []
    if settings.telegram_token or not (settings.zalo_token or settings.matrix):
        steps.append(t._("Telegram: open the city's bot and send /start {code}"))
    if settings.zalo_token:
        steps.append(t._("Zalo: open the city's bot in Zalo and send /start {code}"))
    if settings.matrix:
        steps.append(
            t._(
                "Element (Matrix): start a chat with {bot} and send /start {code} "
                "(if Element says the command is unknown, send //start {code})",
                bot=settings.matrix_user,
                code="{code}",  # left for each official's own code
            )
        )
    return steps


async def cmd_overdue(ctx: Context, args: argparse.Namespace) -> int:
    moment = parse_at(args.at, ctx.clock, ctx.t)
    async with ctx.sessions() as session:
        await overdue_summary(ctx, session, moment)
    return 0
