"""The rendering worker: a process of its own, small, answering in order, replaced in time."""

from __future__ import annotations

import asyncio
import os

import pytest

from jobs.rendering import RenderingFailed, renderer


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


async def test_a_failing_task_raises_its_own_error_and_the_worker_goes_on() -> None:
    async with renderer() as render:
        with pytest.raises(ValueError, match="invalid literal"):
            await render(int, "x")
        assert await render(int, "7") == 7
        assert render.started == 1


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
