"""The quick benchmarks of issue 14 in one run: each figure beside its goal and its baseline.

Run after `python -m bench.big_city`: python -m bench.all [--url …] [--n 100] [--skip idle]
Each row names the one command that measures it alone. The long ones stay out of this run:
Monday's jobs (`python -m bench.digest`, `python -m bench.sweep`), the Matrix benches,
the process start (`python -m bench.startup`, of which `--help` is here), `/xong` through
the whole pipeline (`python -m bench.pipeline`) and Monday delivered
(`python -m bench.monday_delivered`); the fan-out here is a short `python -m bench.fanout`.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from bench import commands, fanout, idle_sender, report, startup
from bench.big_city import DEFAULT_URL

PER_PERSON = (
    "/viec (specialist)",
    "/xem N",
    "/xong N kết quả",
    "/tiendo N 50",
    "/sapden",
    "/quahan U0123 (task force)",
)


def row(what: str, figure: str, goal: str, baseline: str, command: str) -> None:
    print(f"| {what} | {figure} | {goal} | {baseline} | `{command}` |")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--n", type=int, default=100, help="calls per command")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["commands", "report", "help", "idle", "fanout"],
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {args.url}\n")
    lines: list[tuple[str, str, str, str, str]] = []
    if "commands" not in args.skip:
        measured = asyncio.run(commands.run(args.url, args.n, "FULL"))
        p99 = {name: commands.p99(samples) for name, samples in measured.items()}
        p50 = {name: sorted(samples)[len(samples) // 2] for name, samples in measured.items()}
        worst = max(PER_PERSON, key=lambda name: p99[name])
        viec = p99["/viec (specialist)"]
        thongke = p99["/thongke (task force, city)"]
        lines += [
            (
                "per-person commands, the slowest p99",
                f"{ms(p99[worst])} ({worst}; p50 {ms(max(p50[n] for n in PER_PERSON))})",
                "≤ 25 ms",
                "8–35 ms (README before)",
                "python -m bench.commands",
            ),
            (
                "`/thongke` city-wide p99",
                f"{ms(thongke)} = {thongke / viec:.1f} × `/viec` p99 ({ms(viec)}); p50 "
                f"{ms(p50['/thongke (task force, city)'])} = "
                f"{p50['/thongke (task force, city)'] / p50['/viec (specialist)']:.1f} × `/viec`",
                "≤ 25 ms and ≤ 3 × `/viec`",
                "555–728 ms (README before)",
                "python -m bench.commands",
            ),
            (
                "`/quahan` city-wide p99",
                f"{ms(p99['/quahan (task force, city)'])} "
                f"(p50 {ms(p50['/quahan (task force, city)'])})",
                "≤ 25 ms",
                "99–178 ms (README before)",
                "python -m bench.commands",
            ),
        ]
    if "report" not in args.skip:
        figures = asyncio.run(report.run(args.url, openpyxl=True))
        scanned = sum(v for k, v in figures.items() if "every task" in k)
        kept = sum(v for k, v in figures.items() if "kept counts" in k)
        lines += [
            (
                "monthly report, numbers",
                f"{figures['numbers']:.2f} s (its unit columns {kept:.2f} s)",
                "≤ 1 s",
                f"unit columns from every task {scanned:.2f} s, same run",
                "python -m bench.report",
            ),
            (
                "monthly report, XLSX written",
                f"{figures['XLSX (rustpy-xlsxwriter)']:.2f} s (rustpy-xlsxwriter)",
                "≤ 2 s",
                f"{figures['XLSX (XlsxWriter, the writer before: baseline)']:.2f} s XlsxWriter, "
                f"{figures['XLSX (openpyxl write-only: baseline)']:.2f} s openpyxl, same run",
                "python -m bench.report",
            ),
        ]
    if "help" not in args.skip:
        helps = sorted(startup.help_time() for _ in range(3))
        lines.append(
            (
                "`dondoc --help`",
                f"{helps[1]:.2f} s (median of 3)",
                "≤ 0.3 s",
                "1.8–2.8 s (issue)",
                "python -m bench.startup",
            )
        )
    if "idle" not in args.skip:
        share = asyncio.run(idle_sender.run(args.url, 200_000, 10))
        lines.append(
            (
                "the sender idle, 200,000 held",
                f"{share:.2f} % of a core",
                "< 1 %",
                "27–30 % (issue)",
                "python -m bench.idle_sender",
            )
        )
    if "fanout" not in args.skip:
        result = asyncio.run(fanout.quick())
        waits = sorted(result["waits"][False])
        lines.append(
            (
                "fan-out against Telegram's limits (950 messages)",
                f"{result['busy_rate']:.1f} msg/s, {result['pacing_429s']} × 429; a reply waits "
                f"p50 {waits[len(waits) // 2] * 1000:.0f} ms (load {result['load']:.1f})",
                "≥ 28.5/s, no 429, replies first",
                "23.5/s of a self-imposed 25 (issue)",
                "python -m bench.fanout",
            )
        )
    print("\n| what | figure | goal | baseline | alone |\n| --- | --- | --- | --- | --- |")
    for line in lines:
        row(*line)


if __name__ == "__main__":
    main()
