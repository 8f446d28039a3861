"""Arguments as typed: ASCII digits only, dates in a sane range, an extension no further
than the horizon; every refusal says why and changes nothing."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from bot.cli import _configure_logging
from bot.config import Settings
from handlers.arguments import read_date, whole_number
from handlers.core import CoreSettings, Incoming
from models.accounts import ChatChannel
from tests.city import City
from tests.core_chat import CoreChat
from tests.test_bot import snapshot


@pytest.fixture
async def chat(sessions, city: City) -> CoreChat:
    return CoreChat(sessions)


@pytest.mark.parametrize("text", ["12", "007"])
def test_ascii_digits_are_numbers(text: str) -> None:
    assert whole_number(text) == int(text)


@pytest.mark.parametrize("text", ["²", "①", "٣", "1²", "", "-1", "1.5", "9" * 30])
def test_anything_else_is_not_a_number(text: str) -> None:
    assert whole_number(text) is None


def test_dates_outside_2000_to_2100_are_not_read() -> None:
    assert read_date("01/01/0001") is None and read_date("31/12/9999") is None
    assert read_date("٠١/٠١/٢٠٢٧") is None
    assert read_date("15/12/2026") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/xem ²", "'²' không phải số nhiệm vụ."),
        ("/xong ① Đã xong", "'①' không phải số nhiệm vụ."),
        ("/tiendo 4102 ①", "Tiến độ phải là số nguyên từ 0 đến 100, không phải '①'."),
        ("/tiendo 4102 ٥٠", "Tiến độ phải là số nguyên từ 0 đến 100, không phải '٥٠'."),
        ("/sapden ²", "Số ngày làm việc phải từ 1 đến 60."),
        ("/xem 99999999999999999999", "không phải số nhiệm vụ."),
        ("/baocao tuan 01/01/0001", "'01/01/0001' không phải là kỳ báo cáo hay một ngày."),
        ("/baocao thang 12/9999", "'12/9999' không phải là tháng hoặc quý."),
        ("/giahan 4102 31/12/9999 Chờ", "Gia hạn chậm nhất đến ngày 24/11/2028."),
        ("/giahan 4102 ٣١/١٢/٢٠٢٦ Chờ", "không phải ngày hợp lệ."),
    ],
)
async def test_unicode_digits_and_far_dates_are_refused_and_change_nothing(
    chat: CoreChat, text: str, expected: str
) -> None:
    user = await chat.link("TCT")
    before = await snapshot(chat.sessions)
    [reply] = await chat.say(user, text)
    assert expected in reply and "Xin lỗi" not in reply
    assert await snapshot(chat.sessions) == before


async def test_the_extension_horizon_is_a_setting(sessions, city: City) -> None:
    chat = CoreChat(sessions, settings=CoreSettings(extension_horizon_days=30))
    user = await chat.link("SXD-CV")
    [reply] = await chat.say(user, "/giahan 4102 31/12/2026 Chờ")
    assert reply.startswith("Gia hạn chậm nhất đến ngày 25/12/2026.")
    assert Settings.from_env({"DONDOC_EXTENSION_HORIZON_DAYS": "90"}).extension_horizon_days == 90
    assert Settings.from_env({}).extension_horizon_days == 730


async def test_a_failed_start_logs_the_command_but_never_the_code(
    chat: CoreChat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    code = await chat.code_for("SXD-CV")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("handlers.accounts.redeem_link_code", broken)
    with caplog.at_level(logging.ERROR):
        [reply] = await chat.say("u-1", f"/start {code}")
    assert reply.startswith("Xin lỗi")
    assert "/start" in caplog.text and "u-1" in caplog.text
    assert code not in caplog.text and code.lower() not in caplog.text.lower()


def test_an_incoming_message_prints_without_its_text() -> None:
    incoming = Incoming(ChatChannel.ZALO, "c1", "u1", "e:1", text="/start ABCDEFGHJK")
    assert "ABCDEFGHJK" not in repr(incoming) and "/start" in repr(incoming)
    assert "secret" not in repr(replace(incoming, text="secret words"))


def test_the_log_level_is_a_setting() -> None:
    root = logging.getLogger()
    level = root.level
    try:
        assert Settings.from_env({"DONDOC_LOG_LEVEL": "debug"}).log_level == "DEBUG"
        _configure_logging("DEBUG")
        assert root.level == logging.DEBUG
        _configure_logging("nonsense")
        assert root.level == logging.INFO
    finally:
        root.setLevel(level)
