"""Files written off the event loop: a worker process renders while the bot answers.

A thread would share the interpreter lock with the bot, and a week's 999 letters are seconds
of Python work that `/xong` would wait behind; a process runs them on the other core. The
worker is `python -m jobs.rendering`: this small module and the modules of the functions it
is handed, not the bot (a `spawn` pool imports the parent's main module in every worker, the
whole bot under `dondoc run`). It is started on first use, replaced after `TASKS_PER_WORKER`
tasks so that its memory stays a fresh one's, and stopped when the block that needed it ends:
an idle bot holds no worker.

Tasks and results cross the worker's stdin and stdout as length-prefixed pickles, answered in
the order given; the worker's own prints go to stderr.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")
TASKS_PER_WORKER = 500  # a week's 1,300 letters in three workers, each from a fresh heap
_SIZE = struct.Struct("!I")


class RenderingFailed(RuntimeError):
    """The worker stopped before answering, or its answer could not be sent back."""


class _Worker:
    """One worker process and the futures of the tasks it was given, oldest first."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.given = 0
        self.reading = asyncio.create_task(self._read())

    @classmethod
    async def start(cls) -> _Worker:
        # The bot's own import path, as `spawn` hands it on: the worker finds the same code
        # however the bot was started.
        path = os.pathsep.join(entry for entry in sys.path if entry)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jobs.rendering",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        return cls(process)

    def give(self, function: Callable[..., T], args: tuple[object, ...]) -> asyncio.Future[T]:
        """Hand a task over (in the order of the calls); its answer is the future's."""
        assert self.process.stdin is not None
        task = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.given += 1
        self.process.stdin.write(_SIZE.pack(len(task)) + task)
        return future

    async def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                size = _SIZE.unpack(await self.process.stdout.readexactly(_SIZE.size))[0]
                ok, value = pickle.loads(await self.process.stdout.readexactly(size))
                future = self.waiting.popleft()
                if not future.done():
                    (future.set_result if ok else future.set_exception)(value)
        except asyncio.IncompleteReadError:
            pass
        finally:
            for future in self.waiting:
                if not future.done():
                    future.set_exception(RenderingFailed("the rendering worker stopped"))
            self.waiting.clear()

    async def stop(self) -> None:
        """No more tasks: the worker answers those it has, then exits at the end of input."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.reading
        await self.process.wait()

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


class Renderer:
    """Runs picklable functions (`paperwork.urging_letter.letter_docx`) in one worker at a
    time, started when first needed and replaced after `tasks_per_worker` tasks."""

    def __init__(self, tasks_per_worker: int = TASKS_PER_WORKER) -> None:
        self.tasks_per_worker = tasks_per_worker
        self.started = 0  # workers started so far
        self._worker: _Worker | None = None
        self._choosing = asyncio.Lock()

    async def __call__(self, function: Callable[..., T], *args: object) -> T:
        async with self._choosing:
            if self._worker is not None and self._worker.reading.done():
                self._worker = None  # it died (its tasks failed): a fresh one takes over
            if self._worker is not None and self._worker.given >= self.tasks_per_worker:
                # The old one finishes its tasks and exits before the next starts: one
                # worker's memory at a time.
                worker, self._worker = self._worker, None
                await worker.stop()
            if self._worker is None:
                self._worker = await _Worker.start()
                self.started += 1
            answer = self._worker.give(function, args)
            assert self._worker.process.stdin is not None
            writing = self._worker.process.stdin
        await writing.drain()  # the pipe's buffer bounds what waits to be read
        return await answer

    async def close(self, *, cancel: bool = False) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if cancel:
            worker.kill()
        await worker.stop()


@asynccontextmanager
async def renderer(tasks_per_worker: int = TASKS_PER_WORKER) -> AsyncIterator[Renderer]:
    """A worker when needed for the length of the block; stopped after it (killed if the
    block failed: its pending work is of no use then)."""
    render = Renderer(tasks_per_worker)
    try:
        yield render
    except BaseException:
        await render.close(cancel=True)
        raise
    await render.close()


def _frame(output: BinaryIO, answer: tuple[bool, object]) -> None:
    try:
        body = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # an exception that does not pickle
        body = pickle.dumps((False, RenderingFailed(repr(answer[1]) + f" ({error})")))
    output.write(_SIZE.pack(len(body)) + body)
    output.flush()


def serve(tasks: BinaryIO, output: BinaryIO) -> None:
    """The worker: runs each task as it comes, answers it, and exits at the end of input."""
    while head := tasks.read(_SIZE.size):
        function, args = pickle.loads(tasks.read(_SIZE.unpack(head)[0]))
        try:
            answer: tuple[bool, object] = (True, function(*args))
        except Exception as error:
            answer = (False, error)
        _frame(output, answer)


if __name__ == "__main__":
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break a frame
    serve(sys.stdin.buffer, answers)
