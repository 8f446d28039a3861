"""`dondoc extract FILE`: the tasks a signed notice assigns, as JSON or as the import template."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bot.operator.context import CliError, Context
from models.calendar import load_calendar
from models.imports import all_units
from paperwork.extract import ExtractError, Notice, read_blocks, read_notice
from paperwork.extract.names import unit_names
from paperwork.extract.reading import describe
from paperwork.extract.sheet import write_sheet


async def read_file(ctx: Context, path: Path) -> Notice:
    try:
        blocks = read_blocks(path)
    except ExtractError as error:
        raise CliError(describe(error, ctx.t, str(path))) from None
    async with ctx.sessions() as session:
        units = unit_names(await all_units(session))
        working = await load_calendar(session)
    return read_notice(blocks, units, working)


def _write_atomically(output: Path, write) -> None:
    """The file appears whole or not at all."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=output.parent, suffix=output.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, output)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


async def cmd_extract(ctx: Context, args: argparse.Namespace) -> int:
    t = ctx.t
    path: Path = args.file
    notice = await read_file(ctx, path)
    if not notice.tasks:
        raise CliError(
            t._("{path}: no task was found (no sentence assigns work to a unit)", path=str(path))
        )
    output: Path | None = args.output
    if args.format == "xlsx" and output is None:
        output = path.with_name(f"{path.stem}-nhiem-vu.xlsx")
    text = json.dumps(notice.as_json(), ensure_ascii=False, indent=2) + "\n"
    try:
        if args.format == "xlsx":
            assert output is not None
            _write_atomically(output, lambda p: write_sheet(p, notice.proposal(), t))
        elif output is not None:
            _write_atomically(output, lambda p: p.write_text(text, encoding="utf-8"))
        else:
            sys.stdout.write(text)
            return 0
    except OSError as error:
        raise CliError(
            t._("{path}: cannot write the file ({reason})", path=output, reason=error.strerror)
        ) from None
    unsure = sum(1 for task in notice.tasks if task.lead_unit is None or task.deadline.vague)
    print(
        t.ngettext(
            "{document}: {n} task found, {unsure} need a person's choice.",
            "{document}: {n} tasks found, {unsure} need a person's choice.",
            len(notice.tasks),
            document=notice.number or path.name,
            unsure=t.number(unsure),
        )
    )
    print(t._("Written to {path}.", path=output))
    return 0
