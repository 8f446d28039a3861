"""The core's front door: our own failures are answered politely, through the outbox, with
nothing changed; a repeated update is answered once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers import router
from handlers.core import Request
from messages.reply import Reply
from models import OutboxMessage, OutboxState, Task
from models.clock import FixedClock
from models.tasks import TaskStatus
from tests import harness
from tests.city import City
from tests.conftest import NOW


@pytest.fixture
async def bot(sessions, city: City):
    running = await harness.start(sessions, FixedClock(NOW))
    yield running
    await harness.stop(running)


async def test_a_failure_of_ours_is_an_apology_through_the_outbox_and_changes_nothing(
    bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.link("SXD-CV")

    async def breaks_after_a_change(req: Request) -> list[Reply]:
        task = await req.session.get_one(Task, 4102)
        task.status = TaskStatus.DONE  # made, then lost with the failure
        raise RuntimeError("a bug")

    monkeypatch.setitem(router.COMMANDS, "xong", (breaks_after_a_change, True))
    [reply] = await bot.send("SXD-CV", "/xong 4102 Đã xong")
    assert reply.startswith("Xin lỗi") and "chưa ghi nhận thay đổi nào" in reply
    async with bot.sessions() as session:
        assert (await session.get_one(Task, 4102)).status is not TaskStatus.DONE
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.text == reply))
    assert row.state is OutboxState.SENT and row.key.endswith(":0")
