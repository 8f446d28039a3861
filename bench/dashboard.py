"""The dashboard's city view on the big city: how long the server takes to answer it.

Run after `python -m bench.big_city`: python -m bench.dashboard [--url …] [--calls 30]
Starts the real web server with the dashboard, gets a signed link for a task-force member,
and times GET requests of the city view (whole answer, loopback) and of its parts: the
ranking snapshot built from the tasks (what a reader waits for only on the very first
request, and what is rebuilt in the background every minute), and the trend chart.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import time
from datetime import datetime

import httpx
from sqlalchemy import select

from bench.big_city import DEFAULT_URL, NOW
from bot.channels import dashboard_board
from bot.config import Settings
from bot.files import FileLinks
from bot.web import start_web_server
from models import Official, OfficialRole, Role
from models.accounts import ChatAccount
from models.clock import FixedClock
from models.db import create_engine, session_factory
from models.reports import Period


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {1000 * statistics.median(ordered):.1f} ms, p95 {1000 * p95:.1f} ms, max {1000 * ordered[-1]:.1f} ms"


async def run(url: str, calls: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = FixedClock(datetime.fromisoformat(NOW.isoformat()))
    port = _port()
    settings = Settings(
        database_url=url,
        files_url=f"http://127.0.0.1:{port}/files",
        files_listen=f"127.0.0.1:{port}",
        files_secret="bench",
    )
    board = dashboard_board(settings, sessions, clock)
    links = FileLinks(settings.files_url, settings.files_secret, clock)
    server = await start_web_server(links, sessions, settings.files_listen, board)
    async with sessions() as session:
        official_id, account_id = (
            await session.execute(
                select(Official.id, ChatAccount.id)
                .join(ChatAccount, ChatAccount.official_id == Official.id)
                .join(OfficialRole, OfficialRole.official_id == Official.id)
                .where(OfficialRole.role == Role.TASK_FORCE)
                .limit(1)
            )
        ).one()
    link, _ = board.links.url(account_id, official_id)
    started = time.perf_counter()
    snapshot = await board.city(Period.MONTHLY)
    built = time.perf_counter() - started
    started = time.perf_counter()
    assert board._warming is not None  # the day's city chart, drawn after the first snapshot
    await board._warming
    first_chart = time.perf_counter() - started
    timings: list[float] = []
    async with httpx.AsyncClient(timeout=60) as client:
        for n in range(calls):
            query = {} if n % 3 else {"sx": "score", "chieu": "giam", "mau": "red"}
            started = time.perf_counter()
            page = await client.get(link, params=query)
            timings.append(time.perf_counter() - started)
            assert page.status_code == 200 and "data-code" in page.text
        chart = await client.get(link + "chart.svg")
        assert chart.status_code == 200
    print(
        f"city view on {url}: {len(snapshot.rows)} units; ranking snapshot built in "
        f"{built:.2f} s (first request, then every {60} s in the background); "
        f"{calls} GETs of the city view: {_ms(timings)} (the first {1000 * timings[0]:.0f} ms); the city's trend chart, drawn once a day: "
        f"{first_chart:.2f} s ({len(chart.content) // 1024} KB SVG)"
    )
    server.stop()
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.calls))


if __name__ == "__main__":
    main()
