"""The monthly report on the big city: its queries, part by part, and its XLSX, written by
XlsxWriter (what the program uses) and by openpyxl's write-only mode (the baseline).

Run after `python -m bench.big_city`: python -m bench.report [--url …] [--no-openpyxl]
Goals (issue 14): the numbers ≤ 1 s, the XLSX ≤ 2 s. The baseline of the unit columns is the
same figures read from every task of the period (`statistics.scanned_by_unit`), in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.big_city import DEFAULT_URL
from bench.xlsx_openpyxl import write_xlsx as write_xlsx_openpyxl
from locales import translator
from models.calendar import load_calendar
from models.db import create_engine, session_factory
from models.reports import Period, build_report, data_errors, overdue_rows, previous_period
from models.statistics import five_columns_by_official, five_columns_by_unit, scanned_by_unit
from models.status import StatusWindow
from paperwork.report_files import write_xlsx

END = date(2026, 11, 25)


async def run(url: str, openpyxl: bool) -> dict[str, float]:
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
            "per official (leader, specialist)": lambda: five_columns_by_official(
                session, window, start
            ),
            "overdue list": lambda: overdue_rows(session, window),
            "data errors": lambda: data_errors(session, window),
        }
        for name, part in parts.items():
            started = time.perf_counter()
            await part()
            figures[name] = time.perf_counter() - started
            print(f"  {name:50} {figures[name]:6.2f} s")
        started = time.perf_counter()
        report = await build_report(
            session, Period.MONTHLY, END, calendar, due_soon_days=3, past=False
        )
        figures["numbers"] = time.perf_counter() - started
    writers = {"XLSX (XlsxWriter)": write_xlsx}
    if openpyxl:
        writers["XLSX (openpyxl write-only: baseline)"] = write_xlsx_openpyxl
    with tempfile.TemporaryDirectory() as folder:
        for name, writer in writers.items():
            started = time.perf_counter()
            writer(Path(folder) / "report.xlsx", report, translator("vi"))
            figures[name] = time.perf_counter() - started
    print(
        f"monthly report on {url}: numbers {figures['numbers']:.2f} s (goal 1 s), "
        + ", ".join(f"{name} {figures[name]:.2f} s" for name in writers)
        + " (goal 2 s); "
        f"{report.total.assigned} tasks in scope, {len(report.units)} units, "
        f"{len(report.officials)} official rows, {len(report.overdue)} overdue listed"
    )
    await engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--no-openpyxl", action="store_true", help="skip the baseline writer")
    args = parser.parse_args()
    asyncio.run(run(args.url, not args.no_openpyxl))


if __name__ == "__main__":
    main()
