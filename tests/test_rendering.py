"""The rendering worker: a process of its own, small, answering in order, replaced in time."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from jobs.rendering import RenderingFailed, renderer


class Stubborn(Exception):
    """Pickles in the worker, but cannot be rebuilt from its arguments in the bot."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{code}: {detail}")


def raise_stubborn() -> None:
    raise Stubborn(7, "the template is broken")


def answer_stubborn() -> Stubborn:
    return Stubborn(7, "returned, not raised")


def gone(pid: int) -> bool:
    """The process has exited and been waited for (a zombie still answers signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_the_work_is_done_in_another_small_process_replaced_after_its_share() -> None:
    async with renderer(tasks_per_worker=3) as render:
        pids = [await render(os.getpid) for _ in range(4)]
        modules = await render(eval, "sorted(__import__('sys').modules)")
        assert render.started == 2
    assert os.getpid() not in pids
    assert len(set(pids[:3])) == 1 and pids[3] != pids[0]
    # Not the bot: a spawn pool's worker imported the parent's main module, all of it.
    assert not {"telegram", "handlers.router", "sqlalchemy", "docx"} & set(modules)


async def test_answers_come_back_to_their_callers_in_order() -> None:
    async with renderer() as render:
        answers = await asyncio.gather(*(render(str, n) for n in range(200)))
    assert answers == [str(n) for n in range(200)]


async def test_a_failing_task_raises_its_errors_name_and_text_and_the_worker_goes_on() -> None:
    async with renderer() as render:
        with pytest.raises(RenderingFailed, match="ValueError: invalid literal") as failed:
            await render(int, "x")
        assert failed.value.kind == "ValueError"
        assert await render(int, "7") == 7
        assert render.started == 1


async def test_an_error_the_bot_could_not_rebuild_still_comes_back_as_its_name_and_text() -> None:
    async with renderer() as render:
        with pytest.raises(RenderingFailed, match="Stubborn: 7: the template is broken"):
            await render(raise_stubborn)
        assert await render(int, "7") == 7
        assert render.started == 1


async def test_an_answer_that_cannot_be_read_fails_the_renders_and_the_worker_is_replaced() -> None:
    async with renderer() as render:
        pid = await render(os.getpid)
        unreadable = asyncio.ensure_future(render(answer_stubborn))
        behind = asyncio.ensure_future(render(time.sleep, 0.2))  # given to the same worker
        with pytest.raises(RenderingFailed, match="could not be read"):
            await unreadable
        with pytest.raises(RenderingFailed, match="could not be read"):
            await behind
        assert await render(int, "2") == 2
        assert render.started == 2
        assert gone(pid)


async def test_a_render_that_hangs_is_killed_after_the_timeout_and_the_next_starts_afresh() -> None:
    async with renderer(timeout=0.5) as render:
        pid = await render(os.getpid)
        began = time.monotonic()
        with pytest.raises(RenderingFailed, match=r"more than 0\.5 s"):
            await render(time.sleep, 30)
        assert time.monotonic() - began < 5
        assert await render(int, "2") == 2
        assert render.started == 2
        assert gone(pid)


async def test_the_timeout_is_each_renders_own_not_its_wait_in_the_queue() -> None:
    async with renderer(timeout=0.5) as render:
        # Started first: on a busy machine the interpreter's start takes most of 0.5 s.
        assert await render(int, "1") == 1
        assert await asyncio.gather(*(render(time.sleep, 0.3) for _ in range(3))) == [None] * 3
        assert render.started == 1


async def test_a_worker_killed_mid_render_fails_its_render_and_the_next_starts_afresh() -> None:
    async with renderer() as render:
        pid = await render(os.getpid)
        hanging = asyncio.ensure_future(render(time.sleep, 30))
        await asyncio.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(RenderingFailed, match="stopped"):
            await hanging
        assert await render(int, "2") == 2
        assert render.started == 2
        assert gone(pid)


async def test_a_worker_that_dies_fails_its_task_and_the_next_starts_afresh() -> None:
    async with renderer() as render:
        with pytest.raises(RenderingFailed):
            await render(os._exit, 3)
        assert await render(int, "2") == 2
        assert render.started == 2


async def test_no_worker_is_started_for_a_block_that_renders_nothing() -> None:
    async with renderer() as render:
        pass
    assert render.started == 0


async def test_no_worker_outlives_its_block_however_the_block_ends() -> None:
    async with renderer() as render:
        finished = await render(os.getpid)
    assert gone(finished)

    with pytest.raises(LookupError):
        async with renderer() as render:
            failed = await render(os.getpid)
            in_flight = asyncio.ensure_future(render(time.sleep, 30))
            await asyncio.sleep(0.2)
            raise LookupError
    assert gone(failed)
    with pytest.raises(RenderingFailed, match="stopped"):
        await in_flight

    pids: list[int] = []

    async def sweep() -> None:
        async with renderer() as render:
            pids.append(await render(os.getpid))
            await render(time.sleep, 30)

    job = asyncio.ensure_future(sweep())
    while not pids:  # its worker started (slow on a busy machine) and rendering
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert gone(pids[0])


async def test_a_batch_of_renders_lets_the_loop_turn_between_its_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fifty letters given at once are fifty pickles: a command's callback is not kept
    waiting until the last is given."""
    from jobs import rendering

    happened: list[str] = []
    give = rendering._Worker.give

    def recording(self, function, args):  # type: ignore[no-untyped-def]
        happened.append("given")
        return give(self, function, args)

    monkeypatch.setattr(rendering._Worker, "give", recording)
    async with renderer() as render:
        batch = asyncio.gather(*(render(str, n) for n in range(20)))
        asyncio.get_running_loop().call_soon(happened.append, "command")
        await batch
    assert happened.index("command") < len(happened) - 1


def children() -> list[int]:
    """This process's child processes, exited but not waited for included."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                pids.append(int(entry))
    return pids


@pytest.mark.parametrize("body", ["exec sleep 30", "exit 3"])
async def test_a_worker_that_never_says_it_started_fails_the_render_and_is_not_left_behind(
    body: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\n{body}\n")
    python.chmod(0o755)
    monkeypatch.setattr("sys.executable", str(python))
    before = children()
    began = time.monotonic()
    async with renderer(timeout=0.5) as render:
        with pytest.raises(RenderingFailed, match="did not start"):
            await render(int, "1")
    assert time.monotonic() - began < 5
    assert children() == before
