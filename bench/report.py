"""The monthly report on the big city: how long the queries and the XLSX take.

Run after `python -m bench.big_city`: python -m bench.report [--url …]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.big_city import DEFAULT_URL
from locales import translator
from models.calendar import load_calendar
from models.db import create_engine, session_factory
from models.reports import Period, build_report
from paperwork.report_files import write_xlsx


async def run(url: str) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session:
        calendar = await load_calendar(session)
        started = time.perf_counter()
        report = await build_report(
            session, Period.MONTHLY, date(2026, 11, 25), calendar, due_soon_days=3, past=False
        )
        queries = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        write_xlsx(Path(folder) / "report.xlsx", report, translator("vi"))
        xlsx = time.perf_counter() - started
    print(
        f"monthly report on {url}: queries {queries:.1f} s, XLSX {xlsx:.1f} s; "
        f"{report.total.assigned} tasks in scope, {len(report.units)} units, "
        f"{len(report.officials)} official rows, {len(report.overdue)} overdue listed"
    )
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    asyncio.run(run(parser.parse_args().url))


if __name__ == "__main__":
    main()
