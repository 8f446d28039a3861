"""The monthly report on the big city: its queries, part by part, and its XLSX, written by
rustpy-xlsxwriter (what the program uses), by XlsxWriter (the writer before) and by openpyxl's
write-only mode (the baselines).

Run after `python -m bench.big_city`: python -m bench.report [--url …] [--no-openpyxl] [--kept]
Goals (issue 14): the numbers ≤ 1 s, the XLSX ≤ 2 s. Baselines in the same run: the unit
columns read from every task of the period (`statistics.scanned_by_unit`); the facts of
units, leaders and specialists in one pass over the tasks (the report before
`city_facts`), and as read before that, one pass per key and the officials' five columns
twice more; and XlsxWriter's own time for the same cells, written bare (no formats, widths
or neutralising): the floor of any XlsxWriter writer. `--kept` also times `/baocao
thang` built and kept, then sent from the kept report (it writes: use a copy of the city).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from xlsxwriter import Workbook

from bench.big_city import DEFAULT_URL
from bench.xlsx_openpyxl import write_xlsx as write_xlsx_openpyxl
from bench.xlsx_xlsxwriter import write_xlsx as write_xlsx_xlsxwriter
from locales import TIMEZONE, Translator, translator
from messages.kept_reports import keep_built, kept_answer
from messages.report_build import ReportOrder, build_report_files
from models.calendar import load_calendar
from models.city_facts import city_facts
from models.contributions import contributions_between
from models.db import create_engine, session_factory
from models.explanations import explanation_rows
from models.nagging import Nagging, quiet_before, risk_by_unit, silent_by_unit
from models.report_store import DataVersion, ReportAsk
from models.reports import (
    Period,
    Report,
    build_report,
    data_errors,
    overdue_rows,
    previous_period,
)
from models.scores import Scope, facts_by, facts_by_keys
from models.scoring import Formula
from models.statistics import (
    five_columns_by_official,
    five_columns_by_unit,
    people_by_id,
    scanned_by_unit,
)
from models.status import StatusWindow
from models.tallies import lead_unit_at
from models.tasks import Task
from paperwork.report_files import Table, tables
from paperwork.report_workbook import write_xlsx

END = date(2026, 11, 25)


def write_bare(target: Path, sheets: list[Table]) -> None:
    """The same cells as the workbook, by XlsxWriter alone: one `write_row` a row, nothing
    else (the tables are built before the clock starts)."""
    workbook = Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    for table in sheets:
        sheet = workbook.add_worksheet(table.name[:31])
        sheet.write_row(0, 0, table.header)
        for number, row in enumerate(table.rows, start=1):
            sheet.write_row(number, 0, row)
    workbook.close()


async def _small_tables(session: AsyncSession, start: date) -> None:
    first, after = (
        datetime.combine(d, time(0), TIMEZONE) for d in (start, END + timedelta(days=1))
    )
    await explanation_rows(session, first, after)
    await contributions_between(session, start, END)


async def run(url: str, openpyxl: bool, kept: bool = False) -> dict[str, float]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    figures: dict[str, float] = {}
    async with sessions() as session:
        calendar = await load_calendar(session)
        window = StatusWindow.at(END, calendar, 3)
        start = END.replace(day=1)
        before_start, before_end = previous_period(Period.MONTHLY, start)
        before = StatusWindow.at(before_end, calendar, 3, past=True)
        await five_columns_by_unit(session, window, start)  # warm the cache
        formula = Formula.load()
        scope = Scope(window, start, formula, calendar)
        keys = [lead_unit_at(window), Task.leader_id, Task.specialist_id]
        rules = Nagging()

        async def as_before() -> None:
            for key in keys:
                await facts_by(session, scope, key)
            await five_columns_by_official(session, window, start)

        parts = {
            "unit columns, this month (kept counts)": lambda: five_columns_by_unit(
                session, window, start
            ),
            "unit columns, last month (kept counts)": lambda: five_columns_by_unit(
                session, before, before_start
            ),
            "unit columns, this month (every task: baseline)": lambda: scanned_by_unit(
                session, window, start
            ),
            "unit columns, last month (every task: baseline)": lambda: scanned_by_unit(
                session, before, before_start
            ),
            "facts of units, leaders, specialists (per key, indexes)": lambda: city_facts(
                session, scope
            ),
            "the same in one pass over the tasks (baseline)": lambda: facts_by_keys(
                session, scope, keys
            ),
            "the same as before: 5 passes (baseline)": as_before,
            "names of the officials": lambda: people_by_id(session, set(range(1, 100_000))),
            "overdue list": lambda: overdue_rows(session, window),
            "data errors": lambda: data_errors(session, window),
            "not updated (chưa cập nhật)": lambda: silent_by_unit(
                session, window, quiet_before(END, calendar, rules.stale_days)
            ),
            "at risk (nguy cơ chậm)": lambda: risk_by_unit(session, window, calendar, rules),
            "explanations and coordination": lambda: _small_tables(session, start),
        }
        for name, part in parts.items():
            started = perf_counter()
            await part()
            figures[name] = perf_counter() - started
            print(f"  {name:50} {figures[name]:6.2f} s")
        started = perf_counter()
        report = await build_report(
            session, Period.MONTHLY, END, calendar, due_soon_days=3, past=False
        )
        figures["numbers"] = perf_counter() - started
    sheets = list(tables(translator("vi"), report).values())
    writers: dict[str, Callable[[Path, Report, Translator], None]] = {
        "XLSX (rustpy-xlsxwriter)": write_xlsx,
        "XLSX (XlsxWriter, the writer before: baseline)": write_xlsx_xlsxwriter,
        "XLSX, same cells bare (XlsxWriter's floor)": lambda path, _, __: write_bare(path, sheets),
    }
    if openpyxl:
        writers["XLSX (openpyxl write-only: baseline)"] = write_xlsx_openpyxl
    with tempfile.TemporaryDirectory() as folder:
        for name, writer in writers.items():
            started = perf_counter()
            writer(Path(folder) / "report.xlsx", report, translator("vi"))
            figures[name] = perf_counter() - started
    if kept:
        figures |= await _kept_asks(sessions)
    print(
        f"monthly report on {url}: numbers {figures['numbers']:.2f} s (goal 1 s), "
        + ", ".join(f"{name} {figures[name]:.2f} s" for name in writers)
        + " (goal 2 s); "
        f"{report.total.assigned} tasks in scope, {len(report.units)} units, "
        f"{len(report.officials)} official rows, {len(report.overdue)} overdue listed"
    )
    await engine.dispose()
    return figures


async def _kept_asks(sessions: async_sessionmaker[AsyncSession]) -> dict[str, float]:
    """`/baocao thang` as the handler answers it: from the kept report while the data version
    holds, else built (numbers, chart, workbook) and kept; a change is made by bumping the
    version, as the triggers do."""
    t, figures = translator("vi"), {}
    async with sessions() as session:
        calendar = await load_calendar(session)
    ask = ReportAsk("monthly", END, None, False, "vi", 3, repr(Nagging()), Formula.load())
    order = ReportOrder(Period.MONTHLY, END, nagging=Nagging(), formula=ask.formula)
    start = END.replace(day=1)

    async def answer() -> None:
        async with sessions() as session:
            if await kept_answer(session, t, ask, Period.MONTHLY, start, END):
                return
            built = await build_report_files(session, order, calendar)
            await session.commit()
            await keep_built(
                session, ask, built.version, datetime.now(UTC), built.summary, built.files
            )
            await session.commit()

    for name in ("built and kept (a change since)", "kept and fresh", "kept and fresh, again"):
        if name.startswith("built"):
            async with sessions() as session, session.begin():
                await session.execute(update(DataVersion).values(n=DataVersion.n + 1))
        started = perf_counter()
        await answer()
        figures[f"/baocao thang, {name}"] = perf_counter() - started
        print(f"  /baocao thang, {name:44} {figures[f'/baocao thang, {name}']:6.2f} s")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--no-openpyxl", action="store_true", help="skip the baseline writer")
    parser.add_argument(
        "--kept",
        action="store_true",
        help="also time /baocao thang answered from the kept report and built again "
        "(writes to the database: not on a read-only benchmark city)",
    )
    args = parser.parse_args()
    asyncio.run(run(args.url, not args.no_openpyxl, args.kept))


if __name__ == "__main__":
    main()
