"""Who keeps access: a deactivated official none, an unlinked chat none, a code shown in a
group none, a guesser of codes only a few tries; a code links one chat even when two race."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from models import Official
from models.accounts import ChatAccount, ChatChannel, LinkCode, redeem_link_code
from models.clock import FixedClock
from tests.city import City
from tests.conftest import NOW
from tests.core_chat import CoreChat
from tests.test_bot import snapshot

NOT_LINKED = "Tài khoản này chưa được liên kết."


@pytest.fixture
async def chat(sessions, city: City) -> CoreChat:
    return CoreChat(sessions)


async def cli(dondoc, *argv: str) -> tuple[int, str, str]:
    """`dondoc …` beside the running loop (it runs its own)."""
    return await asyncio.to_thread(dondoc, *argv)


async def accounts(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(ChatAccount))


async def deactivate(sessions, code: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Official).where(Official.code == code).values(active=False))


async def test_a_deactivated_official_is_refused_and_changes_nothing(chat: CoreChat) -> None:
    user = await chat.link("SXD-CV")
    await deactivate(chat.sessions, "SXD-CV")
    before = await snapshot(chat.sessions)
    for text in ("/viec", "/xong 4102 Đã xong", "/tiendo 4102 90"):
        [reply] = await chat.say(user, text)
        assert reply.startswith("Tài khoản của đồng chí không còn hoạt động"), reply
    assert await snapshot(chat.sessions) == before


async def test_a_deactivated_officials_code_does_not_link(chat: CoreChat) -> None:
    code = await chat.code_for("SXD-CV")
    await deactivate(chat.sessions, "SXD-CV")
    [reply] = await chat.say("u-new", f"/start {code}")
    assert reply.startswith("Mã liên kết không đúng hoặc đã hết hạn.")
    assert await accounts(chat.sessions) == 0


async def test_no_link_code_for_a_deactivated_official(chat: CoreChat, dondoc) -> None:
    await deactivate(chat.sessions, "SXD-CV")
    code, out, err = await cli(dondoc, "link", "SXD-CV")
    assert code == 2 and "không còn hoạt động" in err and "/start" not in out


async def test_an_import_that_deactivates_unlinks_and_voids_codes(
    chat: CoreChat, dondoc, tmp_path: Path
) -> None:
    user = await chat.link("SXD-CV")
    await chat.code_for("SXD-CV")  # a fresh code, not yet used
    sheet = tmp_path / "can-bo.csv"
    sheet.write_text(
        "code,full_name,position,unit_code,roles,active\n"
        "SXD-CV,Bùi Minh Hà,Chuyên viên,SXD,specialist,no\n",
        encoding="utf-8",
    )
    exit_code, _, err = await cli(dondoc, "import", "officials", str(sheet))
    assert exit_code == 0, err
    assert await accounts(chat.sessions) == 0
    async with chat.sessions() as session:
        unused = await session.scalar(
            select(func.count()).select_from(LinkCode).where(LinkCode.used_at.is_(None))
        )
    assert unused == 0
    [reply] = await chat.say(user, "/viec")
    assert reply.startswith(NOT_LINKED)


async def test_unlink_asks_to_confirm_then_unlinks_this_chat(chat: CoreChat) -> None:
    user = await chat.link("SXD-CV")
    [ask] = await chat.say(user, "/huylienket")
    assert ask.startswith("Hủy liên kết tài khoản chat này với đồng chí Bùi Minh Hà?")
    assert await accounts(chat.sessions) == 1
    [wrong] = await chat.say(user, "/unlink maybe")
    assert wrong.startswith("Để hủy liên kết, gửi /huylienket xacnhan.")
    assert await accounts(chat.sessions) == 1
    [done] = await chat.say(user, "/huylienket xacnhan", button=True)
    assert done.startswith("Đã hủy liên kết tài khoản chat này.")
    assert await accounts(chat.sessions) == 0
    [after] = await chat.say(user, "/viec")
    assert after.startswith(NOT_LINKED)


async def test_the_admin_unlinks_one_chat_or_every_chat(chat: CoreChat, dondoc) -> None:
    phone = await chat.link("SXD-CV", "u-phone")
    await chat.link("SXD-CV", "u-desk")
    code, out, err = await cli(dondoc, "unlink", "SXD-CV", "--chat", "u-lost")
    assert code == 2 and "u-lost" in err
    code, out, _ = await cli(dondoc, "unlink", "SXD-CV", "--chat", phone)
    assert code == 0 and "đã hủy liên kết 1 tài khoản chat" in out
    [reply] = await chat.say(phone, "/viec")
    assert reply.startswith(NOT_LINKED)
    code, out, _ = await cli(dondoc, "unlink", "SXD-CV")
    assert code == 0 and await accounts(chat.sessions) == 0
    assert (await cli(dondoc, "unlink", "NOBODY"))[0] == 2


async def test_a_code_shown_in_a_group_is_revoked_at_once(chat: CoreChat) -> None:
    code = await chat.code_for("SXD-CV")
    [group] = await chat.say("u-1", f"/start {code}", group="g-1")
    assert "đã bị hủy" in group
    [private] = await chat.say("u-2", f"/start {code}")
    assert private.startswith("Mã liên kết không đúng hoặc đã hết hạn.")
    assert await accounts(chat.sessions) == 0


async def test_wrong_codes_are_throttled_and_logged_once(
    chat: CoreChat, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="handlers.accounts"):
        for n in range(5):
            [reply] = await chat.say("u-guess", f"/start WRONG{n:05d}")
            assert reply.startswith("Mã liên kết không đúng")
        right = await chat.code_for("SXD-CV")
        for _ in range(3):
            [refused] = await chat.say("u-guess", f"/start {right}")
            assert refused.startswith("Tài khoản này đã nhập sai mã liên kết quá nhiều lần.")
    assert caplog.text.count("wrong codes from telegram user u-guess") == 1
    assert await accounts(chat.sessions) == 0
    [other] = await chat.say("u-other", "/start WRONG")  # another person is not affected
    assert other.startswith("Mã liên kết không đúng")
    chat.clock.moment = NOW + timedelta(minutes=11)
    [linked] = await chat.say("u-guess", f"/start {right}")
    assert linked.startswith("Xin chào đồng chí Bùi Minh Hà")


async def test_codes_have_about_79_bits(chat: CoreChat) -> None:
    code = await chat.code_for("SXD-CV")
    assert len(code.replace("-", "")) == 16


async def test_two_chats_racing_for_one_code_link_one(sessions, city: City) -> None:
    code = await CoreChat(sessions).code_for("SXD-CV")

    async def redeem(user: str) -> bool:
        async with sessions() as session, session.begin():
            linked = await redeem_link_code(
                session,
                code,
                channel=ChatChannel.ZALO,
                external_user_id=user,
                chat_id=user,
                now=FixedClock(NOW).now(),
            )
            await asyncio.sleep(0.05)  # hold the transaction open while the other tries
            return linked is not None

    results = await asyncio.gather(redeem("a"), redeem("b"), return_exceptions=True)
    assert sum(r is True for r in results) == 1, results
    assert await accounts(sessions) == 1
