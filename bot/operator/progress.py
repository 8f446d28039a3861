"""Progress bars for long work on the command line (tqdm): shown only when both stdout and
stderr are a terminal, so cron, CI and a redirected output stay quiet."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def in_terminal() -> bool:
    return sys.stdout.isatty() and sys.stderr.isatty()


@contextmanager
def steps(description: str, names: list[str]) -> Iterator[Callable[[str], None]]:
    """A bar over the named steps of one piece of work; call the yielded function with each
    step's name as it begins."""
    if not in_terminal():
        yield lambda _name: None
        return
    from tqdm import tqdm

    bar: Any = tqdm(total=len(names), desc=description, unit="", leave=False, file=sys.stderr)
    done: set[str] = set()

    def begin(name: str) -> None:
        if done:
            bar.update(1)
        done.add(name)
        bar.set_postfix_str(name)

    try:
        yield begin
    finally:
        bar.update(bar.total - bar.n)
        bar.close()


@contextmanager
def counted(description: str, total: int, unit: str) -> Iterator[Callable[[int], None]]:
    """A bar over `total` items; call the yielded function with how many more are done."""
    if not in_terminal():
        yield lambda _n: None
        return
    from tqdm import tqdm

    bar: Any = tqdm(total=total, desc=description, unit=unit, leave=False, file=sys.stderr)
    try:
        yield bar.update
    finally:
        bar.close()
