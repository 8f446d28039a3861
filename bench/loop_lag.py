"""How long the event loop is held, and by what: a beat on the loop and a watch beside it.

A task on the loop sleeps `interval` again and again; how late each wake-up is, is what any
other callback (a `/xong` reply) waited at that moment. A thread looks at the beat every few
milliseconds, and while the loop is late by more than `threshold` it takes the loop thread's
stack: the time since the previous look is charged to the code that held the loop (the
innermost frame of this project's code, and the library frame under it).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType

ROOT = str(Path(__file__).resolve().parents[1])
OWN = tuple(
    f"{ROOT}/{room}/"
    for room in ("jobs", "models", "messages", "paperwork", "handlers", "bot", "locales")
)


def _where(frame: FrameType | None) -> str:
    """The innermost frame of the project's code, and the innermost frame of all."""
    inner = frame
    own = None
    while frame is not None:
        if frame.f_code.co_filename.startswith(OWN) and own is None:
            own = frame
        frame = frame.f_back
    if inner is None:
        return "?"

    def name(f: FrameType) -> str:
        file = f.f_code.co_filename
        short = file[len(ROOT) + 1 :] if file.startswith(ROOT) else "/".join(file.split("/")[-2:])
        return f"{short}:{f.f_lineno} {f.f_code.co_name}"

    return name(own) + ("" if own is inner else f"  ⟶ {name(inner)}") if own else name(inner)


class LoopWatch:
    """Start it on the running loop; `stop()`, then `summary()`."""

    def __init__(
        self,
        phase: Callable[[], str] = lambda: "",
        interval: float = 0.005,
        threshold: float = 0.02,
        every: float = 0.005,
    ) -> None:
        self.phase, self.interval, self.threshold, self.every = phase, interval, threshold, every
        self.lags: list[float] = []
        self.sites: Counter[tuple[str, str]] = Counter()  # (phase, where) -> seconds
        self._last = time.perf_counter()
        self._running = True
        self._loop_thread = threading.get_ident()
        self._beat = asyncio.get_running_loop().create_task(self._beating())
        self._watch = threading.Thread(target=self._watching, daemon=True)
        self._watch.start()
        self.collections: dict[int, list[float]] = {0: [], 1: [], 2: []}  # seconds, by generation
        self._collecting = 0.0
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        """The cyclic collector's passes: a full one walks every object the process holds."""
        if phase == "start":
            self._collecting = time.perf_counter()
        else:
            self.collections[info["generation"]].append(time.perf_counter() - self._collecting)

    async def _beating(self) -> None:
        while self._running:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            self._last = time.perf_counter()
            self.lags.append(self._last - before - self.interval)

    def _watching(self) -> None:
        looked = time.perf_counter()
        while self._running:
            time.sleep(self.every)
            now = time.perf_counter()
            late_since = self._last + self.threshold + self.interval
            if now > late_since:
                # The look waits for the interpreter lock too: it is charged the time since
                # the previous look (or since the loop became late), not a fixed share.
                frame = sys._current_frames().get(self._loop_thread)
                self.sites[(self.phase(), _where(frame))] += now - max(looked, late_since)
            looked = now

    async def stop(self) -> None:
        self._running = False
        gc.callbacks.remove(self._collected)
        self._beat.cancel()
        await asyncio.gather(self._beat, return_exceptions=True)
        await asyncio.to_thread(self._watch.join)

    def summary(self, top: int = 12) -> str:
        lags = sorted(self.lags) or [0.0]

        def at(q: float) -> float:
            return lags[min(len(lags) - 1, int(q * len(lags)))] * 1000

        stalls = [lag for lag in lags if lag > self.threshold]
        lines = [
            f"loop lag over {len(lags)} beats of {self.interval * 1000:g} ms: p50 {at(0.5):.1f} ms, "
            f"p99 {at(0.99):.1f} ms, max {lags[-1] * 1000:.0f} ms; "
            f"{len(stalls)} stalls > {self.threshold * 1000:g} ms "
            f"({sum(1 for lag in lags if lag > 0.1)} > 100 ms), {sum(stalls):.1f} s in all",
            "  the loop held, by job and code:",
        ]
        by_phase: Counter[str] = Counter()
        for (phase, _), seconds in self.sites.items():
            by_phase[phase] += seconds
        lines.append(
            "  by job: " + ", ".join(f"{p or '-'} {s:.1f} s" for p, s in by_phase.most_common())
        )
        lines.append(
            "  garbage collections: "
            + ", ".join(
                f"generation {g} {len(times)} × (max {max(times, default=0) * 1000:.0f} ms, "
                f"{sum(times):.2f} s in all)"
                for g, times in self.collections.items()
            )
        )
        for (phase, where), seconds in self.sites.most_common(top):
            lines.append(f"  {seconds:6.2f} s  [{phase}] {where}")
        return "\n".join(lines)
