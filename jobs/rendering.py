"""Files written off the event loop: a worker process renders while the bot answers.

A thread would share the interpreter lock with the bot, and a week's 999 letters are seconds
of Python work that `/xong` would wait behind; a process runs them on the other core. The
worker is started on first use and stopped when the job that needed it ends, so an idle bot
holds no worker (`spawn`: a fresh interpreter, not a copy of the bot's memory and threads).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

T = TypeVar("T")
WORKERS = 1  # the bot keeps one core; the letters get the other


class Renderer:
    """Runs picklable functions (`paperwork.urging_letter.letter_docx`) in a worker."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self._pool = pool

    async def __call__(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)


@asynccontextmanager
async def renderer() -> AsyncIterator[Renderer]:
    """A worker for the length of the block; stopped (not waited on by the loop) after it."""
    pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield Renderer(pool)
    finally:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
