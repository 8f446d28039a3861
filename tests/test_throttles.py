"""Per-person throttles in the database: several bot processes sharing it count together
(wrong link codes, reports asked), each take a single conditional update, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from models.db import create_engine, session_factory
from models.throttles import Rate, give_back, refused_until, take
from tests.city import City
from tests.conftest import NOW
from tests.core_chat import CoreChat

RATE = Rate("test", 5, timedelta(minutes=10))


async def takes(sessions, key: str, moment, count: int = 1) -> list[bool]:
    results = []
    for _ in range(count):
        async with sessions() as session, session.begin():
            results.append(await take(session, RATE, key, moment))
    return results


async def test_five_at_once_then_one_every_two_minutes(sessions) -> None:
    assert await takes(sessions, "a", NOW, 6) == [True] * 5 + [False]
    async with sessions() as session:
        assert await refused_until(session, RATE, "a", NOW) == NOW + timedelta(minutes=2)
        assert await refused_until(session, RATE, "b", NOW) is None  # another key
    assert await takes(sessions, "b", NOW) == [True]
    later = NOW + timedelta(minutes=2)
    assert await takes(sessions, "a", later, 2) == [True, False]
    assert await takes(sessions, "a", NOW + timedelta(minutes=30), 6) == [True] * 5 + [False]
    async with sessions() as session, session.begin():
        await give_back(session, RATE, "b")
    assert await takes(sessions, "b", NOW, 5) == [True] * 5  # the one given back is free again


async def test_two_processes_taking_at_once_take_five_between_them(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(2)]  # two processes' pools
    makers = [session_factory(engine) for engine in engines]

    async def one(n: int) -> bool:
        async with makers[n % 2]() as session, session.begin():
            return await take(session, RATE, "racer", NOW)

    try:
        results = await asyncio.gather(*(one(n) for n in range(20)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(results) == 5


async def test_wrong_codes_count_across_bot_processes(sessions, city: City) -> None:
    first, second = CoreChat(sessions), CoreChat(sessions)  # two processes' cores
    for n in range(5):
        [reply] = await (first, second)[n % 2].say("u-guess", f"/start WRONG{n:05d}")
        assert reply.startswith("Mã liên kết không đúng")
    right = await first.code_for("SXD-CV")
    for chat in (first, second):
        [refused] = await chat.say("u-guess", f"/start {right}")
        assert refused.startswith("Tài khoản này đã nhập sai mã liên kết quá nhiều lần.")
    second.clock.moment = NOW + timedelta(minutes=2)
    [linked] = await second.say("u-guess", f"/start {right}")
    assert linked.startswith("Xin chào đồng chí Bùi Minh Hà")


async def test_a_right_code_does_not_count_as_a_guess(sessions, city: City) -> None:
    chat = CoreChat(sessions)
    for official in ("SXD-CV", "SXD-CV", "SXD-CV", "SXD-CV", "SXD-CV", "SXD-CV"):
        [reply] = await chat.say("u-many", f"/start {await chat.code_for(official)}")
        assert reply.startswith("Xin chào")


async def test_reports_asked_count_across_bot_processes(sessions, city: City) -> None:
    first, second = CoreChat(sessions), CoreChat(sessions)
    for chat in (first, second):
        await chat.code_for("TCT")
    user = "u-reports"
    await first.say(user, f"/start {await first.code_for('TCT')}")
    kinds = ["tuan", "thang", "quy", "2tuan", "tuan 01/11/2026"]
    for n, kind in enumerate(kinds):
        replies = await (first, second)[n % 2].say(user, f"/baocao {kind}")
        assert replies[0].startswith("⏳"), replies
    [refused] = await second.say(user, "/baocao thang 01/10/2026")
    assert refused.startswith("Đồng chí đã yêu cầu nhiều báo cáo"), refused
