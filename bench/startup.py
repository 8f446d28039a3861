"""Start-up and shutdown of `dondoc run`, as an operator meets them.

Run: python -m bench.startup [--runs 5]
Times `dondoc --help`; then starts `dondoc run` on a fresh SQLite database against the
loopback fake Bot API, from process start to the first command answered; then SIGTERM to
exit — each as a whole process, several runs, minimum / median / maximum.

The project's modules are compiled to bytecode first, as `pip install` does for a deployment:
an editable checkout run with PYTHONDONTWRITEBYTECODE (as on the developers' machines)
would otherwise compile some 120 modules at every start, 0.1–0.3 s no operator pays.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.sandbox import Sandbox

TOKEN = "123456:STARTUP"
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "messages", "models", "paperwork", "jobs", "locales")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spread(samples: list[float]) -> str:
    return (
        f"min {min(samples):.2f} s   median {statistics.median(samples):.2f} s   "
        f"max {max(samples):.2f} s"
    )


def compile_project() -> None:
    """Bytecode for our own modules, as an installed package has it."""
    folders = [str(ROOT / name) for name in PACKAGES]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)


def help_time() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot.cli", "--help"], capture_output=True, check=True)
    return time.perf_counter() - started


async def one_run(folder: Path, user: int) -> tuple[float, float]:
    """(process start → first reply, SIGTERM → exit), in seconds."""
    sandbox = Sandbox(token=TOKEN, port=free_port())
    await sandbox.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env |= {
        "DONDOC_DATABASE_URL": f"sqlite+aiosqlite:///{folder / f'run{user}.db'}",
        "DONDOC_TELEGRAM_TOKEN": TOKEN,
        "DONDOC_TELEGRAM_API_URL": sandbox.url,
    }
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, capture_output=True, check=True
    )
    try:
        await sandbox.say(user, "/trogiup", chat_id=user)  # waiting before the bot is there
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await sandbox.wait_for_bot_messages(user, 1, timeout=60)
        answered = time.perf_counter() - started
        started = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 60)
        stopped = time.perf_counter() - started
    finally:
        await sandbox.stop()
    return answered, stopped


async def run(runs: int) -> None:
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    compile_project()
    helps = [help_time() for _ in range(runs)]
    print(f"dondoc --help:                        {spread(helps)}   (goal ≤ 0.3 s)")
    answered, stopped = [], []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(runs):
            first, stop = await one_run(Path(folder), 7000 + n)
            answered.append(first)
            stopped.append(stop)
    print(f"start to the first command answered: {spread(answered)}   (goal ≤ 1.5 s)")
    print(f"SIGTERM to exit:                      {spread(stopped)}   (goal ≤ 5 s)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
