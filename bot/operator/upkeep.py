"""`dondoc backup`, `restore` and `prune`: the data kept safe, and kept no longer than needed."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.operator.context import CliError, Context, parse_at
from bot.operator.progress import steps
from locales import Translator
from models.backup import (
    Copied,
    Problem,
    Refused,
    backup_sqlite,
    known_revisions,
    other_connections,
    pg_dump_command,
    pg_restore_command,
    postgres_connection,
    restore_sqlite,
    sqlite_file,
)
from models.db import current_revision, head_revision, is_sqlite
from models.retention import prune


def _refusal(t: Translator, refused: Refused, path: object) -> CliError:
    messages = {
        Problem.MISSING: t._("There is no file {path}.", path=path),
        Problem.NOT_A_DATABASE: t._(
            "{path} is not an SQLite database: nothing was changed.", path=path
        ),
        Problem.DAMAGED: t._(
            "{path} is damaged ({detail}): nothing was changed.", path=path, detail=refused.detail
        ),
        Problem.NOT_OURS: t._(
            "{path} is an SQLite database, but not one of Đôn Đốc: nothing was changed.",
            path=path,
        ),
        Problem.NEWER: t._(
            "{path} was written by a newer version of Đôn Đốc (schema {revision}): "
            "install that version first. Nothing was changed.",
            path=path,
            revision=refused.detail,
        ),
        Problem.IN_USE: t._(
            "The database {path} is in use (the bot, or another dondoc command): stop it "
            "first. Nothing was changed.",
            path=path,
        ),
        Problem.EXISTS: t._(
            "The database {path} already holds data: add --force to replace it (take a "
            "backup of it first). Nothing was changed.",
            path=path,
        ),
    }
    return CliError(messages[refused.problem])


def _sqlite_path(ctx: Context) -> Path:
    path = sqlite_file(ctx.settings.database_url)
    if path is None:
        raise CliError(ctx.t._("An in-memory database cannot be backed up or restored."))
    return path


def _tool(ctx: Context, name: str, recipe: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise CliError(
            ctx.t._(
                "{tool} is not installed (Debian, Ubuntu: apt-get install postgresql-client, "
                "the version of the server or newer). By hand: {recipe}",
                tool=name,
                recipe=recipe,
            )
        )
    return found


async def _run_tool(ctx: Context, command: list[str]) -> subprocess.CompletedProcess[str]:
    _, password = postgres_connection(ctx.settings.database_url)
    return await asyncio.to_thread(
        subprocess.run,
        command,
        env={**os.environ, **password},
        capture_output=True,
        text=True,
        check=False,
    )


def _report(ctx: Context, done: str, copied: Copied) -> None:
    t = ctx.t
    print(done, t._("Size: {size} bytes.", size=t.number(copied.size)))
    if copied.revision != head_revision():
        print(t._("The schema is older than this program's: run `dondoc db upgrade`."))


async def cmd_backup(ctx: Context, args: argparse.Namespace) -> int:
    t, target = ctx.t, Path(args.path)
    if target.exists() and not args.force:
        raise CliError(
            t._("{path} exists already: choose another name, or add --force.", path=target)
        )
    if not target.parent.is_dir():
        raise CliError(t._("There is no folder {folder}.", folder=target.parent))
    url = ctx.settings.database_url
    if is_sqlite(url):
        source = _sqlite_path(ctx)
        names = {
            "copy": t._("copying"),
            "check": t._("checking the copy"),
            "sync": t._("writing it to the disk"),
        }
        try:
            with steps(t._("Backup"), list(names.values())) as step:
                copied = await asyncio.to_thread(
                    backup_sqlite, source, target, lambda name: step(names[name])
                )
        except Refused as refused:
            raise _refusal(t, refused, source) from None
        _report(ctx, t._("Backed up {source} to {path}.", source=source, path=target), copied)
        return 0
    _tool(ctx, "pg_dump", " ".join(pg_dump_command(url, target)))
    part = target.with_name(target.name + ".part")
    done = await _run_tool(ctx, pg_dump_command(url, part))
    if done.returncode != 0:
        part.unlink(missing_ok=True)
        print(t._("pg_dump failed: {reason}", reason=done.stderr.strip()), file=sys.stderr)
        return 1
    os.replace(part, target)
    print(
        t._("Backed up the PostgreSQL database to {path} (pg_dump, custom format).", path=target),
        t._("Size: {size} bytes.", size=t.number(target.stat().st_size)),
    )
    return 0


async def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    t, backup = ctx.t, Path(args.path)
    url = ctx.settings.database_url
    if is_sqlite(url):
        target = _sqlite_path(ctx)
        try:
            copied = await asyncio.to_thread(restore_sqlite, backup, target, force=args.force)
        except Refused as refused:
            raise _refusal(t, refused, target if refused.problem in _TARGET else backup) from None
        _report(
            ctx,
            t._(
                "Restored {path} into {target}; its integrity is checked.",
                path=backup,
                target=target,
            ),
            copied,
        )
        return 0
    if not backup.is_file():
        raise CliError(t._("There is no file {path}.", path=backup))
    _tool(ctx, "pg_restore", " ".join(pg_restore_command(url, backup)))
    listed = await _run_tool(ctx, ["pg_restore", "--list", str(backup)])
    if listed.returncode != 0:
        raise CliError(t._("{path} is not a pg_dump archive: nothing was changed.", path=backup))
    database = make_url(url).database
    if await other_connections(ctx.engine):
        raise _refusal(t, Refused(Problem.IN_USE), database)
    if not args.force and await current_revision(ctx.engine) is not None:
        raise _refusal(t, Refused(Problem.EXISTS), database)
    await ctx.engine.dispose()
    done = await _run_tool(ctx, pg_restore_command(url, backup))
    if done.returncode != 0:
        print(
            t._("pg_restore failed, nothing was changed: {reason}", reason=done.stderr.strip()),
            file=sys.stderr,
        )
        return 1
    revision = await current_revision(ctx.engine)
    print(t._("Restored {path} into the PostgreSQL database.", path=backup))
    if revision is not None and revision not in known_revisions():
        print(t._("The backup was written by a newer version of Đôn Đốc: install it."))
    elif revision != head_revision():
        print(t._("The schema is older than this program's: run `dondoc db upgrade`."))
    return 0


_TARGET = {Problem.IN_USE, Problem.EXISTS}


async def cmd_prune(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    moment = parse_at(args.at, ctx.clock, t)
    pruned = await prune(ctx.sessions, moment, ctx.settings.retention)
    print(
        t._(
            "Deleted {outbox} delivered messages, {attempts} delivery attempts, {files} files, "
            "{codes} link codes, {throttles} passed throttles and {reports} kept reports. "
            "Tasks, their history, notices and urgings are kept.",
            outbox=t.number(pruned.outbox),
            attempts=t.number(pruned.attempts),
            files=t.number(pruned.attachments),
            codes=t.number(pruned.link_codes),
            throttles=t.number(pruned.throttles),
            reports=t.number(pruned.reports),
        )
    )
    return 0
