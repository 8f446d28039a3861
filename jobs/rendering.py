"""Files written off the event loop: a worker process renders while the bot answers.

A thread would share the interpreter lock with the bot, and a week's 999 letters are seconds
of Python work that `/xong` would wait behind; a process runs them on the other core. The
worker is `python -m jobs.rendering`: this small module and the modules of the functions it
is handed, not the bot (a `spawn` pool imports the parent's main module in every worker, the
whole bot under `dondoc run`). It is started on first use, replaced after `TASKS_PER_WORKER`
tasks so that its memory stays a fresh one's, and stopped when the block that needed it ends:
an idle bot holds no worker.

Tasks and results cross the worker's stdin and stdout as length-prefixed pickles, answered in
the order given, after a first frame that says the worker has started; the worker's own
prints go to stderr. A task's failure comes back as its
error's type name and text, never the error itself: an exception that pickles in the worker
need not rebuild in the bot. A render that takes longer than `RENDER_TIMEOUT`, or a worker
that dies or answers what cannot be read, fails its renders, and the worker is killed and
waited for; the next render starts a fresh one.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")
TASKS_PER_WORKER = 500  # a week's 1,300 letters in three workers, each from a fresh heap
# A letter takes milliseconds: a render still running after a minute is hung, and would hold
# the weekly sweep (and, through the scheduler's max_instances=1, every later one) forever.
RENDER_TIMEOUT = 60.0
_SIZE = struct.Struct("!I")


class RenderingFailed(RuntimeError):
    """A render gave no answer: its task raised (`kind` names the worker's exception type),
    it took too long, or the worker stopped or answered what could not be read."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


class _Worker:
    """One worker process and the futures of the tasks it was given, oldest first."""

    def __init__(self, process: asyncio.subprocess.Process, timeout: float) -> None:
        self.process = process
        self.timeout = timeout
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.given = 0
        self.failed = False  # killed, or its answers can no longer be trusted
        self._clock: asyncio.TimerHandle | None = None
        self.reading = asyncio.create_task(self._read())

    @property
    def usable(self) -> bool:
        return not self.failed and not self.reading.done()

    @classmethod
    async def start(cls, timeout: float = RENDER_TIMEOUT) -> _Worker:
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
        # The worker says it is ready before the first task's clock starts: an interpreter's
        # start on a busy machine is not a render that hangs.
        assert process.stdout is not None
        try:
            hello = await asyncio.wait_for(process.stdout.readexactly(_SIZE.size), timeout)
            await process.stdout.readexactly(_SIZE.unpack(hello)[0])
        except BaseException as error:  # a cancellation too: the process is not left behind
            with suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            if isinstance(error, (asyncio.IncompleteReadError, TimeoutError)):
                raise RenderingFailed("the rendering worker did not start") from error
            raise
        return cls(process, timeout)

    def give(self, function: Callable[..., T], args: tuple[object, ...]) -> asyncio.Future[T]:
        """Hand a task over (in the order of the calls); its answer is the future's."""
        assert self.process.stdin is not None
        task = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.given += 1
        if len(self.waiting) == 1:
            self._time_oldest()
        self.process.stdin.write(_SIZE.pack(len(task)) + task)
        return future

    def _time_oldest(self) -> None:
        """The clock runs for the oldest task only, from when the worker can begin on it: a
        task queued behind a batch is not late for waiting its turn."""
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None
        if self.waiting:
            loop = asyncio.get_running_loop()
            self._clock = loop.call_later(self.timeout, self._overdue, self.waiting[0])

    def _overdue(self, future: asyncio.Future[Any]) -> None:
        if not future.done():
            message = f"a render took more than {self.timeout:g} s: the worker was killed"
            future.set_exception(RenderingFailed(message))
        self.kill()  # the reader then meets the end of output and fails the tasks behind it

    async def _read(self) -> None:
        assert self.process.stdout is not None
        reason = "the rendering worker stopped"
        try:
            while True:
                size = _SIZE.unpack(await self.process.stdout.readexactly(_SIZE.size))[0]
                ok, value = pickle.loads(await self.process.stdout.readexactly(size))
                future = self.waiting.popleft()
                self._time_oldest()
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    kind, text = value
                    future.set_exception(RenderingFailed(f"{kind}: {text}", kind))
        except asyncio.IncompleteReadError:
            pass
        except Exception as error:
            # An answer that cannot be read leaves the stream in doubt: no later answer is
            # trusted, and the worker goes.
            reason = f"the rendering worker's answer could not be read: {error!r}"
            self.kill()
        finally:
            if self._clock is not None:
                self._clock.cancel()
                self._clock = None
            for future in self.waiting:
                if not future.done():
                    future.set_exception(RenderingFailed(reason))
            self.waiting.clear()

    async def stop(self) -> None:
        """No more tasks: the worker answers those it has, then exits at the end of input."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.reading
        await self.process.wait()

    def kill(self) -> None:
        self.failed = True
        if self.process.returncode is None:
            with suppress(ProcessLookupError):  # it exited and was reaped meanwhile
                self.process.kill()

    async def end(self) -> None:
        """Killed (if still running) and waited for: no process or pipe outlives it."""
        self.kill()
        await self.process.wait()
        await self.reading


class Renderer:
    """Runs picklable functions (`paperwork.urging_letter.letter_docx`) in one worker at a
    time, started when first needed and replaced after `tasks_per_worker` tasks."""

    def __init__(
        self, tasks_per_worker: int = TASKS_PER_WORKER, timeout: float = RENDER_TIMEOUT
    ) -> None:
        self.tasks_per_worker = tasks_per_worker
        self.timeout = timeout
        self.started = 0  # workers started so far
        self._worker: _Worker | None = None
        self._choosing = asyncio.Lock()

    async def __call__(self, function: Callable[..., T], *args: object) -> T:
        async with self._choosing:
            if self._worker is not None and not self._worker.usable:
                # It died, hung or answered nonsense (its tasks failed): it is killed and
                # waited for, and a fresh one takes over.
                worker, self._worker = self._worker, None
                await worker.end()
            if self._worker is not None and self._worker.given >= self.tasks_per_worker:
                # The old one finishes its tasks and exits before the next starts: one
                # worker's memory at a time.
                worker, self._worker = self._worker, None
                await worker.stop()
            if self._worker is None:
                self._worker = await _Worker.start(self.timeout)
                self.started += 1
            answer = self._worker.give(function, args)
            assert self._worker.process.stdin is not None
            writing = self._worker.process.stdin
        with suppress(ConnectionError):  # the worker died: its reader fails the answer
            await writing.drain()  # the pipe's buffer bounds what waits to be read
        # A batch's fifty tasks are pickled one after another, and `drain` returns at once
        # while the pipe has room: a turn of the loop between them lets a command in.
        await asyncio.sleep(0)
        return await answer

    async def close(self, *, cancel: bool = False) -> None:
        """The worker stopped after its tasks (at once if `cancel`), killed and waited for
        whatever happens meanwhile, a cancellation included."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        try:
            if not cancel:
                await worker.stop()
        finally:
            await worker.end()


@asynccontextmanager
async def renderer(
    tasks_per_worker: int = TASKS_PER_WORKER, timeout: float = RENDER_TIMEOUT
) -> AsyncIterator[Renderer]:
    """A worker when needed for the length of the block; stopped after it (killed if the
    block failed: its pending work is of no use then)."""
    render = Renderer(tasks_per_worker, timeout)
    try:
        yield render
    except BaseException:
        await render.close(cancel=True)
        raise
    await render.close()


def _failure(error: BaseException) -> tuple[bool, object]:
    return False, (type(error).__name__, str(error))


def _frame(output: BinaryIO, answer: tuple[bool, object]) -> None:
    try:
        body = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # a result that does not pickle
        body = pickle.dumps(_failure(error), protocol=pickle.HIGHEST_PROTOCOL)
    output.write(_SIZE.pack(len(body)) + body)
    output.flush()


def serve(tasks: BinaryIO, output: BinaryIO) -> None:
    """The worker: runs each task as it comes, answers it, and exits at the end of input."""
    while head := tasks.read(_SIZE.size):
        body = tasks.read(_SIZE.unpack(head)[0])
        try:
            function, args = pickle.loads(body)
            answer: tuple[bool, object] = (True, function(*args))
        except Exception as error:
            answer = _failure(error)
        _frame(output, answer)


if __name__ == "__main__":
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break a frame
    _frame(answers, (True, None))  # ready
    serve(sys.stdin.buffer, answers)
