"""The `dondoc` command line: the parser, and each command handed to its module in
`bot/operator/`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import SAMPLE_DIR, Settings
from locales import Translator, translator
from models.clock import Clock, SystemClock

if TYPE_CHECKING:
    from bot.operator.context import Context

# `dondoc --help` loads none of SQLAlchemy, the models or the commands' modules: the choices
# are written out here (tests/test_cli_startup.py holds them equal to Period and TableName).
PERIODS = ["weekly", "biweekly", "monthly", "quarterly"]
TABLES = ["summary", "overdue", "officials", "errors", "explanations", "contributions"]


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
    imp.add_argument(
        "--overwrite",
        action="store_true",
        help=t._("take the file's values even where officials changed a task in the bot since"),
    )

    exp = commands.add_parser("export", help=t._("export every task"))
    exp.add_argument("kind", choices=["tasks"])
    exp.add_argument("file", type=Path, help=t._("a .csv or .xlsx file"))
    exp.add_argument("--at", help=t._("the moment of the derived status, e.g. 2026-11-24T08:00"))

    link = commands.add_parser(
        "link",
        help=t._("one-time codes to link chat accounts: for one official, a unit or everyone"),
    )
    link.add_argument("official_code", nargs="?")
    link.add_argument("--unit", help=t._("a sheet of codes for every official of this unit"))
    link.add_argument("--all", action="store_true", help=t._("a sheet of codes for everyone"))
    link.add_argument("-o", "--output", type=Path, help=t._("the sheet: .xlsx or .csv"))

    unlink = commands.add_parser(
        "unlink", help=t._("take chat access away from an official (a lost phone, a leaver)")
    )
    unlink.add_argument("official_code")
    unlink.add_argument("--chat", help=t._("only this chat id; without it, every linked chat"))

    overdue = commands.add_parser("overdue", help=t._("overdue tasks per lead unit"))
    overdue.add_argument("--at", help=t._("the moment, e.g. 2026-11-24T08:00"))

    demo = commands.add_parser(
        "demo", help=t._("load the sample city and chat with the bot in the sandbox")
    )
    demo.add_argument("--sample-dir", type=Path, default=SAMPLE_DIR)
    demo.add_argument("--no-chat", action="store_true", help=t._("load and summarise only"))

    commands.add_parser("run", help=t._("run the bot (Telegram polling or webhook)"))

    report = commands.add_parser("report", help=t._("write a periodic report as a file"))
    report.add_argument("kind", choices=PERIODS)
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
        choices=TABLES,
        default=TABLES[0],
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

    backup = commands.add_parser(
        "backup",
        help=t._("copy the database to a file, while the bot runs (PostgreSQL: with pg_dump)"),
    )
    backup.add_argument("path", help=t._("the backup file to write"))
    backup.add_argument("--force", action="store_true", help=t._("replace an existing file"))

    restore = commands.add_parser(
        "restore", help=t._("put a backup in place of the database (stop the bot first)")
    )
    restore.add_argument("path", help=t._("a file written by `dondoc backup`"))
    restore.add_argument(
        "--force", action="store_true", help=t._("replace a database that holds data")
    )

    extract = commands.add_parser(
        "extract", help=t._("read the tasks a signed notice assigns (DOCX, PDF, TXT)")
    )
    extract.add_argument("file", type=Path, help=t._("the notice: .docx, .pdf or .txt"))
    extract.add_argument("--format", choices=["json", "xlsx"], default="json")
    extract.add_argument(
        "-o", "--output", type=Path, help=t._("the file to write (JSON: standard output)")
    )

    prune = commands.add_parser(
        "prune",
        help=t._("delete delivered messages, files and link codes past their retention"),
    )
    prune.add_argument("--at", help=t._("the moment, e.g. 2026-11-24T08:00"))

    stats = commands.add_parser(
        "stats", help=t._("check the kept task counts against the tasks (exit 1 if they differ)")
    )
    stats.add_argument(
        "action",
        choices=["verify", "rebuild"],
        help=t._("verify: compare; rebuild: count them again from the tasks"),
    )
    return parser


# Each command's module is loaded only when it runs: `dondoc --help` or `dondoc link` need
# neither the chat libraries nor matplotlib, openpyxl and python-docx.
COMMANDS: dict[str, str] = {
    "import": "bot.operator.register:cmd_import",
    "export": "bot.operator.register:cmd_export",
    "link": "bot.operator.register:cmd_link",
    "unlink": "bot.operator.register:cmd_unlink",
    "overdue": "bot.operator.register:cmd_overdue",
    "demo": "bot.operator.serving:cmd_demo",
    "run": "bot.operator.serving:cmd_run",
    "tick": "bot.operator.serving:cmd_tick",
    "report": "bot.operator.documents:cmd_report",
    "urge": "bot.operator.documents:cmd_urge",
    "backup": "bot.operator.upkeep:cmd_backup",
    "restore": "bot.operator.upkeep:cmd_restore",
    "prune": "bot.operator.upkeep:cmd_prune",
    "stats": "bot.operator.tallies:cmd_stats",
    "extract": "bot.operator.extracting:cmd_extract",
}


def command(name: str) -> Callable[[Context, argparse.Namespace], Awaitable[int]]:
    module, function = COMMANDS[name].split(":")
    return getattr(importlib.import_module(module), function)


# They work on the file as it is, whatever its schema (a restore may bring an older one).
ANY_SCHEMA = {"backup", "restore"}


async def _run(args: argparse.Namespace, settings: Settings, t: Translator, clock: Clock) -> int:
    from bot.operator.context import CliError, Context
    from models.db import create_engine, current_revision, head_revision, session_factory, upgrade

    engine = create_engine(
        settings.database_url,
        synchronous=settings.sqlite_synchronous,
        pool_size=settings.database_pool_size,
    )
    try:
        if args.command == "db":
            await upgrade(engine)
            print(t._("The database schema is up to date."))
            return 0
        if args.command == "demo":
            await upgrade(engine)
        elif args.command not in ANY_SCHEMA and await current_revision(engine) != head_revision():
            raise CliError(
                t._("The database is not set up or is out of date: run `dondoc db upgrade`.")
            )
        context = Context(engine, session_factory(engine), settings, t, clock)
        return await command(args.command)(context, args)
    finally:
        await engine.dispose()


def _configure_logging(level_name: str = "INFO") -> None:
    """Lines for operators: our own state changes at INFO (DONDOC_LOG_LEVEL), libraries
    only when they warn (httpx would log every long poll, APScheduler every sweep)."""
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        level = logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    if level != logging.getLevelName(level_name.upper()):
        logging.getLogger(__name__).warning(
            "DONDOC_LOG_LEVEL=%r is not a level (DEBUG, INFO, WARNING, ERROR): using INFO",
            level_name[:20],
        )
    for noisy in (
        "httpx",
        "httpcore",
        "telegram",
        "apscheduler",
        "tornado.access",
        "alembic",
        "nio",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    try:
        settings = Settings.from_env()
    except ValueError as error:
        _configure_logging("INFO")
        print(translator(None)._("A setting is not valid: {reason}", reason=error), file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    t = translator(settings.language)
    args = _parser(t).parse_args(argv)
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    from bot.operator.context import CliError

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
