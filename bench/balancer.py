"""`/xong` through nginx with 1, 2 and 3 bot processes on one PostgreSQL: how many updates a
second the webhooks answer (each 200 after its change and reply are committed).

Run: python -m bench.balancer --url postgresql+asyncpg://… [--updates 1000] [--processes 1,2,3]
Each run: a fresh city (1,000 officials, a chat and an overdue task each), N `dondoc run`
processes behind nginx, `/xong` from every official at 40 connections (Telegram's webhook
default). Sending is not what is measured: the fake Bot API accepts at once, unpaced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from bench.scale_city import MONDAY, build_city, update
from bot.sandbox import Sandbox
from bot.sandbox.balancer import Balancer
from models.db import create_engine, upgrade

TOKEN = "123456:BALANCE"
SECRET = "bench-Secret_1"
ROOT = Path(__file__).parent.parent


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes used so far: unlike the wall time, barely moved by
    the other work on a shared machine."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def one_run(url: str, processes: int, updates: int) -> str:
    engine = create_engine(url)
    await upgrade(engine)
    await build_city(engine, updates)
    await engine.dispose()
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    listens = [f"127.0.0.1:{free_port()}" for _ in range(processes)]
    scratch = Path(tempfile.mkdtemp(prefix="dondoc-nginx-"))
    balancer = Balancer(scratch, free_port(), listens)
    await asyncio.to_thread(balancer.start)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(
        DONDOC_DATABASE_URL=url,
        DONDOC_TELEGRAM_TOKEN=TOKEN,
        DONDOC_TELEGRAM_API_URL=sandbox.url,
        DONDOC_WEBHOOK_URL=f"{balancer.url}/telegram",
        DONDOC_WEBHOOK_SECRET=SECRET,
        DONDOC_LOG_LEVEL="WARNING",
        DONDOC_SEND_PER_SECOND="0",  # the fake is unpaced: measure the commands
        DONDOC_SCHEDULER="0",  # no Monday fan-out competing
    )
    nodes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.sandbox.node", MONDAY.isoformat()],
            cwd=ROOT,
            env={**env, "DONDOC_WEBHOOK_LISTEN": listen},
        )
        for listen in listens
    ]
    AsyncHTTPClient.configure(None, max_clients=40)  # Telegram's webhook connections
    client = AsyncHTTPClient()
    latencies: list[float] = []
    try:
        await asyncio.sleep(1)
        while not sandbox.webhook_url:
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)  # every process listening

        async def post(update_id: int, person: int) -> None:
            body = update(update_id, person, f"/xong {2 * person} Đã hoàn thành")
            request = HTTPRequest(
                f"{balancer.url}/telegram",
                method="POST",
                body=json.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    sandbox.telegram.secret_header: SECRET,
                },
                request_timeout=300,
                connect_timeout=300,
            )
            while True:
                started = time.perf_counter()
                response = await client.fetch(request, raise_error=False)
                if response.code == 200:
                    latencies.append(time.perf_counter() - started)
                    return
                await asyncio.sleep(0.2)

        pids = [node.pid for node in nodes]
        cpu = cpu_seconds(pids)
        began = time.perf_counter()
        await asyncio.gather(*(post(n, n) for n in range(1, updates + 1)))
        elapsed = time.perf_counter() - began
        await asyncio.sleep(2)  # the last replies go
        cpu = cpu_seconds(pids) - cpu
    finally:
        for node in nodes:
            node.send_signal(signal.SIGTERM)
        for node in nodes:
            await asyncio.to_thread(node.wait, 30)
        balancer.stop()
        await sandbox.stop()
    ordered = sorted(latencies)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return (
        f"{processes} process{'es' if processes > 1 else ''}: {updates} /xong in {elapsed:.1f} s = "
        f"{updates / elapsed:.0f} updates/s; webhook answered p50 {p(0.5):.0f} ms, "
        f"p95 {p(0.95):.0f} ms (mean {statistics.mean(latencies) * 1000:.0f} ms); "
        f"the bot processes' CPU {cpu / updates * 1000:.1f} ms an update; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--processes", default="1,2,3")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for n in (int(x) for x in args.processes.split(",")):
        print(asyncio.run(one_run(args.url, n, args.updates)), flush=True)


if __name__ == "__main__":
    main()
