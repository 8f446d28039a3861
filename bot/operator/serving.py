"""`dondoc demo`, `run` and `tick`: the bot, the sandbox, and the jobs from cron."""

from __future__ import annotations

import argparse
import sys

from bot.leader import AlreadyRunning, claim_sqlite_file
from bot.operator.context import CliError, Context, parse_at
from bot.runtime import deliver_due, serve_forever
from models.clock import FixedClock


async def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    """Load the sample city (again: re-importing changes nothing, and never undoes what was
    done in the chat) and show where it stands."""
    # Here: the importers load openpyxl, which `dondoc run` and `tick` do not need.
    from bot.operator.register import import_file, overdue_summary, print_import

    now = ctx.clock.now()
    code = 0
    for kind in ("calendar", "units", "officials", "tasks"):
        async with ctx.sessions() as session:
            result = await import_file(
                session, kind, args.sample_dir / f"{kind}.csv", ctx.t, now, dry_run=False
            )
        print_import(ctx.t, kind, result, dry_run=False)
        if not result.ok:
            return 1
        code = max(code, result.exit_code)
    async with ctx.sessions() as session:
        await overdue_summary(ctx, session, now)
    if args.no_chat:
        return code
    print(
        ctx.t._(
            "Chat sandbox: open http://127.0.0.1:{port} in a browser, pick an official, "
            'press "Link this account", then send /viec. Ctrl+C stops.',
            port=ctx.settings.sandbox_port,
        ),
        flush=True,
    )
    from bot.demo import serve_demo  # here, so that `dondoc run` never loads the sandbox

    await serve_demo(ctx.engine, ctx.settings, ctx.clock)
    return code


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
    try:
        claimed = claim_sqlite_file(ctx.engine)
    except AlreadyRunning as error:
        raise CliError(
            ctx.t._(
                "Another `dondoc run` already uses {path}: SQLite serves one bot process. Stop "
                "it first, or use PostgreSQL (DONDOC_DATABASE_URL) to run several.",
                path=error.path,
            )
        ) from error
    print(ctx.t._("The bot is running. Ctrl+C stops."), flush=True)
    if not await serve_forever(ctx.engine, ctx.settings, ctx.clock, claimed=claimed):
        print(ctx.t._("No channel could be started: see the lines above."), file=sys.stderr)
        return 1
    return 0


async def cmd_tick(ctx: Context, args: argparse.Namespace) -> int:
    """Cron-style operation and catching up: the jobs due at the moment, then delivery."""
    from jobs.run import run_due  # here: `dondoc run` loads the jobs at its first sweep

    t = ctx.t
    moment = parse_at(args.at, ctx.clock, t)
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
        "stale": t._("not-updated nudges"),
        "risk": t._("at-risk flags"),
        "explain-missed": t._("explanations not given"),
        "recurrence": t._("new occurrences of recurring duties announced"),
    }
    # In the labels' order: the reminders first, as an operator reads them.
    names = [name for name in labels if name in counts]
    names += [name for name in counts if name not in labels]
    queued = ", ".join(f"{labels.get(name, name)} {t.number(counts[name])}" for name in names)
    print(t._("Jobs due at {moment}: {queued}.", moment=t.datetime(moment), queued=queued))
    if not (ctx.settings.telegram_token or ctx.settings.zalo_token or ctx.settings.matrix):
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
