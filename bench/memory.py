"""Resident memory of `dondoc run` on the big city, with any worker process it starts: at
start, the peak during the first sweep (Monday's jobs), and after it.

Run after `python -m bench.big_city`: python -m bench.memory [--url …] [--after 20]
Starts the real bot (`bot.sandbox.node`, clock at Monday 09:30 so its first sweep does
Monday's work) on a copy of the big city against the loopback fake Bot API, samples the
process tree from /proc every 0.2 s until the sweep's log line, then `--after` seconds more.
Both RSS (what `top` shows; pages shared between processes counted in each) and PSS (shared
pages split between their users) are summed over the tree; the goal is the RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.big_city import DEFAULT_URL
from bench.startup import free_port
from bench.sweep import copy_database
from bot.sandbox import Sandbox

MONDAY = "2026-11-23T09:30"
TOKEN = "123456:MEMORY"
GOAL_MIB = 200
BEFORE_MIB = "211 MiB idle, 925 MiB peak during the first sweep (issue 14, before)"


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry))
    return tree


def _kib(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(root: int) -> tuple[float, float, int]:
    """(RSS MiB, PSS MiB, processes) of `root` and everything under it."""
    tree, pending, seen = _children(), [root], []
    while pending:
        pid = pending.pop()
        seen.append(pid)
        pending += tree.get(pid, [])
    rss = sum(_kib(f"/proc/{pid}/status", "VmRSS:") for pid in seen)
    pss = sum(_kib(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in seen)
    return rss / 1024, pss / 1024, len(seen)


async def run(source: Path, after: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "memory.db"
        copy_database(source, copy)
        sandbox = Sandbox(token=TOKEN, port=free_port())
        await sandbox.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
        env |= {
            "DONDOC_DATABASE_URL": f"sqlite+aiosqlite:///{copy}",
            "DONDOC_TELEGRAM_TOKEN": TOKEN,
            "DONDOC_TELEGRAM_API_URL": sandbox.url,
            "DONDOC_LOG_LEVEL": "INFO",
        }
        log = Path(folder) / "node.log"
        started = time.perf_counter()
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.sandbox.node", MONDAY],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        samples: list[tuple[float, float, float, int, bool]] = []  # (t, rss, pss, n, swept)
        swept_at: float | None = None
        try:
            while process.poll() is None:
                moment = time.perf_counter() - started
                if swept_at is None and "jobs at " in log.read_text(errors="replace"):
                    swept_at = moment
                rss, pss, count = tree_memory(process.pid)
                samples.append((moment, rss, pss, count, swept_at is not None))
                if swept_at is not None and moment - swept_at >= after:
                    break
                if swept_at is None and moment > 3600:
                    raise TimeoutError("the first sweep did not end within an hour")
                await asyncio.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 60)
            await sandbox.stop()
        if process.returncode not in (0, -signal.SIGTERM) or swept_at is None:
            print(log.read_text(errors="replace")[-3000:])
    start = [s for s in samples if s[0] <= 2.0] or samples[:1]
    sweep = [s for s in samples if not s[4]]
    idle = [s for s in samples if s[4] and s[0] - (swept_at or 0) >= after / 2]
    peak = max(samples, key=lambda s: s[1])
    print(f"dondoc run on the 1 M-task city, clock at {MONDAY} (the first sweep is Monday's jobs)")
    print(f"  first sweep: {swept_at:.1f} s after start; {len(samples)} samples")
    print(f"  at start (first 2 s):         RSS {max(s[1] for s in start):7.1f} MiB")
    print(
        f"  peak during the first sweep:  RSS {max(s[1] for s in sweep):7.1f} MiB   "
        f"PSS {max(s[2] for s in sweep):7.1f} MiB   processes up to {max(s[3] for s in sweep)}"
    )
    if idle:
        print(
            f"  after the sweep ({after / 2:.0f}–{after:.0f} s, the sender draining at 25/s): "
            f"RSS {max(s[1] for s in idle):7.1f} MiB   PSS {max(s[2] for s in idle):7.1f} MiB"
        )
    verdict = "met" if peak[1] <= GOAL_MIB else "missed"
    print(f"  peak RSS {peak[1]:.1f} MiB at {peak[0]:.1f} s: goal ≤ {GOAL_MIB} MiB {verdict}")
    print(f"  baseline: {BEFORE_MIB}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL, help="the big city (SQLite), only read")
    parser.add_argument("--after", type=float, default=20, help="seconds sampled after the sweep")
    args = parser.parse_args()
    asyncio.run(run(Path(args.url.split("///", 1)[1]), args.after))


if __name__ == "__main__":
    main()
