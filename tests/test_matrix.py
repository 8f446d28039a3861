"""What only Matrix has, against a real Synapse on 127.0.0.1: joining on invitation, `m.text`
with HTML, files through the media repository, restarts answered exactly once, one device,
429s, encrypted rooms. Every command scenario runs on Matrix in tests/test_bot.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import configured_channels
from bot.config import Settings
from bot.delivery import ChannelDown, ChannelRefused, OutboxSender
from bot.matrix import MatrixChannel
from bot.matrix_sync import command_text, since_invited
from bot.pacing import RateLimiter
from bot.runtime import Running, start_bot
from models import Official, OutboxMessage, OutboxState
from models.accounts import ChatAccount, ChatChannel, issue_link_code
from models.attachments import File, FileKind, store
from models.clock import FixedClock
from models.matrix_state import MatrixState
from models.notices import Message, Notifier, Outgoing
from models.outbox import Priority
from paperwork.importing import import_officials
from tests.city import City
from tests.conftest import NOW
from tests.files import OFFICIAL_HEADER, write_csv
from tests.synapse import Account, Homeserver, Person, free_port


@dataclass
class Matrix:
    """The bot as `dondoc run` starts it with Matrix only, and the officials' clients."""

    hs: Homeserver
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock
    bot: Account
    settings: Settings
    running: Running | None = None
    people: dict[str, Person] = field(default_factory=dict)
    rooms: dict[str, str] = field(default_factory=dict)

    async def start(self) -> None:
        self.running = await start_bot(self.settings, self.sessions, self.clock, idle_seconds=0.05)
        await self.running.ready()

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
            self.running = None

    def person(self, code: str) -> Person:
        if code not in self.people:
            self.people[code] = Person(self.hs, self.hs.register(code.lower().replace("-", "")))
        return self.people[code]

    async def chat(self, code: str, **options: object) -> str:
        """The official starts a direct chat with the bot."""
        room = await self.person(code).start_chat(self.bot.user_id, **options)  # type: ignore[arg-type]
        self.rooms[code] = room
        return room

    async def link_code(self, code: str) -> str:
        async with self.sessions() as session, session.begin():
            official = await session.scalar(select(Official).where(Official.code == code))
            return await issue_link_code(session, official, self.clock.now())

    async def link(self, code: str) -> str:
        if code not in self.rooms:
            await self.chat(code)
        return (await self.send(code, f"/start {await self.link_code(code)}"))[-1]

    async def received(self, code: str) -> list[dict[str, object]]:
        return await self.person(code).from_bot(self.rooms[code], self.bot.user_id)

    async def send(self, code: str, text: str, *, expect: int = 1) -> list[str]:
        """What the official writes; the bodies of the bot's new messages in that chat."""
        person, room = self.person(code), self.rooms[code]
        before = len(await self.received(code))
        await person.say(room, text)
        found = await person.wait_from_bot(room, self.bot.user_id, before + expect)
        await self.settle()
        return [str(c["body"]) for c in found[before:]]

    async def settle(self) -> None:
        """Until the outbox holds nothing waiting to be sent."""
        for _ in range(400):
            async with self.sessions() as session:
                waiting = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING]))
                )
            if not waiting:
                return
            await asyncio.sleep(0.025)
        raise TimeoutError("the outbox did not drain")

    async def close(self) -> None:
        await self.stop()
        for person in self.people.values():
            await person.close()


@pytest.fixture
async def matrix(homeserver: Homeserver, sessions, city: City) -> AsyncIterator[Matrix]:
    bot = homeserver.register("dondoc")
    settings = Settings(
        matrix_homeserver=homeserver.url,
        matrix_user=bot.user_id,
        matrix_password=bot.password,
        matrix_send_per_second=0,
        matrix_send_per_chat_seconds=0.1,
    )
    world = Matrix(homeserver, sessions, FixedClock(NOW), bot, settings)
    await world.start()
    yield world
    await world.close()


# ------------------------------------------------------------------ linking


async def test_start_with_a_code_in_a_fresh_direct_chat_links_the_official(matrix) -> None:
    room = await matrix.chat("SXD-CV")
    person = matrix.person("SXD-CV")
    # Written at once, before the bot has joined: it was written for the bot, so it counts.
    await person.say(room, f"/start {await matrix.link_code('SXD-CV')}")
    assert await person.wait_joined(room, matrix.bot.user_id) < 10
    [greeting] = await person.wait_from_bot(room, matrix.bot.user_id, 1)
    assert greeting["body"].startswith(
        "Xin chào đồng chí Bùi Minh Hà (Sở Xây dựng). Tài khoản này đã được liên kết"
    )
    async with matrix.sessions() as session:
        account = await session.scalar(select(ChatAccount))
    assert (account.channel, account.external_user_id, account.chat_id) == (
        ChatChannel.MATRIX,
        person.user_id,
        room,
    )


async def test_an_official_the_file_names_is_linked_by_opening_a_chat_without_a_code(
    matrix, tmp_path, t
) -> None:
    named, grouped = matrix.person("SXD-CV"), matrix.person("STP-CV")
    rows = [
        ["SXD-CV", "Bùi Minh Hà", "Chuyên viên", "SXD", "specialist", "", "", named.user_id],
        ["STP-CV", "Phạm Quang Huy", "Chuyên viên", "STP", "specialist", "", "", grouped.user_id],
    ]
    path = write_csv(tmp_path / "o.csv", [*OFFICIAL_HEADER, "Tài khoản Matrix"], rows)
    async with matrix.sessions() as session:
        assert (await import_officials(session, path, t)).ok
    room = await matrix.chat("SXD-CV")
    [greeting] = await named.wait_from_bot(room, matrix.bot.user_id, 1)
    assert greeting["body"].startswith(
        "Xin chào đồng chí Bùi Minh Hà (Sở Xây dựng). Tài khoản này đã được liên kết"
    )
    [tasks] = await matrix.send("SXD-CV", "/viec")
    assert tasks.startswith("📋 Nhiệm vụ của đồng chí: 3 đang thực hiện")
    # Named too, but inviting the bot into a group room: no account is linked there.
    group = await grouped.start_chat(matrix.bot.user_id, others=(named.user_id,))
    await grouped.wait_joined(group, matrix.bot.user_id)
    await asyncio.sleep(0.5)
    await matrix.settle()
    assert await grouped.from_bot(group, matrix.bot.user_id) == []
    async with matrix.sessions() as session:
        accounts = (
            await session.execute(select(ChatAccount.external_user_id, ChatAccount.chat_id))
        ).all()
    assert accounts == [(named.user_id, room)]


# ------------------------------------------------------------------ commands


async def test_a_reply_is_text_with_html_and_its_buttons_typed_under_it(matrix) -> None:
    """What the commands answer is tests/test_bot.py's, on every channel; this is how."""
    await matrix.link("SXD-CV")
    [card] = await matrix.send("SXD-CV", "/xem 4102")
    assert card.endswith(
        "Trả lời nhanh:\n• ✅ Hoàn thành: /xong 4102\n• Cập nhật tiến độ: /tiendo 4102\n"
        "• Báo vướng mắc: /vuongmac 4102\n• Xin gia hạn: /giahan 4102"
    )
    content = (await matrix.received("SXD-CV"))[-1]
    assert content["msgtype"] == "m.text"
    assert content["format"] == "org.matrix.custom.html"
    assert "<br>• ✅ Hoàn thành: /xong 4102<br>" in content["formatted_body"]


# ------------------------------------------------------------------ pushes


async def notify(matrix: Matrix, code: str, key: str, message: Message) -> None:
    async with matrix.sessions() as session, session.begin():
        official = await session.scalar(select(Official).where(Official.code == code))
        await Notifier(session, NOW).send(
            [Outgoing(f"{key}:to {official.id}", official, lambda t: message)],
            priority=Priority.ALERT,
        )
    assert matrix.running is not None
    matrix.running.sender.wake.set()


async def test_a_reminder_arrives_through_the_outbox_as_text_that_rings(matrix) -> None:
    await matrix.link("SXD-CV")
    await notify(
        matrix,
        "SXD-CV",
        "test:reminder",
        Message("⏰ Nhắc việc: #4102 đến hạn <27/11>", [[("Hoàn thành", "/xong 4102")]]),
    )
    person = matrix.person("SXD-CV")
    reminder = (await person.wait_from_bot(matrix.rooms["SXD-CV"], matrix.bot.user_id, 2))[-1]
    assert reminder["msgtype"] == "m.text"  # never m.notice: Element silences notices
    assert reminder["body"] == (
        "⏰ Nhắc việc: #4102 đến hạn <27/11>\n\nTrả lời nhanh:\n• Hoàn thành: /xong 4102"
    )
    assert reminder["formatted_body"] == (
        "⏰ Nhắc việc: #4102 đến hạn &lt;27/11&gt;<br><br>Trả lời nhanh:<br>• Hoàn thành: /xong 4102"
    )


async def test_files_go_through_the_media_repository(matrix) -> None:
    await matrix.link("SXD-CV")
    chart = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    workbook = b"PK\x03\x04" + b"bao cao" * 100
    async with matrix.sessions() as session, session.begin():
        photo = await store(session, "test:chart", File(FileKind.PHOTO, "bieudo.png", chart), NOW)
        sheet = await store(
            session, "test:xlsx", File(FileKind.DOCUMENT, "baocao.xlsx", workbook), NOW
        )
    await notify(
        matrix,
        "SXD-CV",
        "test:report",
        Message("📊 Báo cáo tháng 11", [], ((photo, "Biểu đồ"), (sheet, "Bảng số liệu"))),
    )
    person = matrix.person("SXD-CV")
    messages = await person.wait_from_bot(matrix.rooms["SXD-CV"], matrix.bot.user_id, 4)
    # in order (one chat's messages are spaced), each file with its caption as its body
    assert [(m["msgtype"], m["body"], m.get("filename")) for m in messages[1:]] == [
        ("m.text", "📊 Báo cáo tháng 11", None),
        ("m.image", "Biểu đồ", "bieudo.png"),
        ("m.file", "Bảng số liệu", "baocao.xlsx"),
    ]
    image, document = messages[2], messages[3]
    assert image["info"]["mimetype"] == "image/png"
    assert await person.download(image["url"]) == chart
    assert await person.download(document["url"]) == workbook


# ------------------------------------------------------------------ restarts and devices


async def test_a_message_sent_while_stopped_is_answered_once_after_the_restart(matrix) -> None:
    await matrix.link("SXD-CV")
    await matrix.stop()
    person, room = matrix.person("SXD-CV"), matrix.rooms["SXD-CV"]
    await person.say(room, "/viec")
    await asyncio.sleep(0.3)
    assert len(await matrix.received("SXD-CV")) == 1  # only the greeting: the bot is down
    await matrix.start()
    messages = await person.wait_from_bot(room, matrix.bot.user_id, 2)
    assert messages[1]["body"].startswith("📋 Nhiệm vụ của đồng chí")
    await matrix.stop()
    await matrix.start()  # again: nothing is left to answer
    await asyncio.sleep(1.0)
    await matrix.settle()
    assert len(await matrix.received("SXD-CV")) == 2


async def test_the_first_start_does_not_answer_the_history(matrix) -> None:
    await matrix.stop()
    async with matrix.sessions() as session, session.begin():
        await session.delete(await session.get_one(MatrixState, matrix.bot.user_id))
    room = await matrix.chat("SXD-CV")
    person = matrix.person("SXD-CV")
    bot = Person(matrix.hs, matrix.bot)  # the bot's account, joined before Đôn Đốc ever ran
    await bot.join(room)
    await person.say(room, "/viec")
    await bot.close()
    await matrix.start()  # a fresh database: no sync token yet
    await asyncio.sleep(1.5)
    await matrix.settle()
    assert await matrix.received("SXD-CV") == []
    [reply] = await matrix.send("SXD-CV", "/trogiup")  # what comes now is answered
    assert reply


async def test_password_login_keeps_one_device_across_restarts(matrix) -> None:
    async with matrix.sessions() as session:
        first = await session.get_one(MatrixState, matrix.bot.user_id)
    for _ in range(2):
        await matrix.stop()
        await matrix.start()
    async with matrix.sessions() as session:
        state = await session.get_one(MatrixState, matrix.bot.user_id)
    assert (state.device_id, state.access_token) == (first.device_id, first.access_token)
    devices = await matrix.hs.devices(matrix.bot.user_id)
    # the registration's own device, and the bot's one
    assert first.device_id in {d["device_id"] for d in devices} and len(devices) == 2


async def test_a_revoked_token_logs_in_again_on_the_same_device(matrix) -> None:
    await matrix.stop()
    async with matrix.sessions() as session, session.begin():
        state = await session.get_one(MatrixState, matrix.bot.user_id)
        device, state.access_token = state.device_id, "syt_revoked"
    await matrix.start()
    async with matrix.sessions() as session:
        state = await session.get_one(MatrixState, matrix.bot.user_id)
    assert state.device_id == device and state.access_token != "syt_revoked"


async def test_a_wrong_token_is_refused_and_an_unreachable_homeserver_is_down(
    matrix, sessions
) -> None:
    wrong = replace(matrix.settings, matrix_password="", matrix_token="syt_wrong")
    [channel] = configured_channels(wrong, None, sessions=sessions)
    with pytest.raises(ChannelRefused):
        await channel.open()
    await channel.stop()
    gone = replace(matrix.settings, matrix_homeserver=f"http://127.0.0.1:{free_port()}")
    channel = MatrixChannel(gone, sessions)
    with pytest.raises(ChannelDown):
        await channel.open()
    await channel.stop()


async def test_stop_takes_a_couple_of_seconds_at_most(matrix) -> None:
    await asyncio.sleep(0.3)  # the sync loop is in its long poll
    started = time.monotonic()
    await matrix.stop()
    assert time.monotonic() - started < 3


# ------------------------------------------------------------------ limits and encryption


async def test_the_homeservers_429_is_honoured_and_the_message_sent_after_it(matrix) -> None:
    await matrix.link("SXD-CV")
    await matrix.stop()  # only this test's sender now
    await matrix.hs.limit_messages(matrix.bot.user_id, per_second=1, burst=1)
    async with matrix.sessions() as session, session.begin():
        official = await session.scalar(select(Official).where(Official.code == "SXD-CV"))
        await Notifier(session, NOW).send(
            [
                Outgoing(f"test:429 {n}:to {official.id}", official, lambda t: Message("Tin", []))
                for n in range(3)
            ],
            priority=Priority.ALERT,
        )
    channel = MatrixChannel(matrix.settings, matrix.sessions)
    await channel.open()
    clock = FixedClock(NOW)
    sender = OutboxSender(
        matrix.sessions, clock, {ChatChannel.MATRIX: channel.sender}, limiter=RateLimiter(0, 0)
    )
    try:
        await sender.drain()  # one message a room at a time: the second meets the limit
        async with matrix.sessions() as session:
            waiting = (
                await session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.state == OutboxState.PENDING, OutboxMessage.attempts > 0
                    )
                )
            ).all()
        assert waiting, "Synapse did not limit the bot"
        delays = {(row.not_before - NOW).total_seconds() for row in waiting}
        assert all(0 < d <= 4 for d in delays)  # retry_after_ms, not the generic backoff
        assert all("M_LIMIT_EXCEEDED" in row.error for row in waiting)
        for _ in range(20):
            await asyncio.sleep(max(delays))
            clock.set(clock.now() + timedelta(seconds=max(delays)))
            await sender.drain()
            if len(await matrix.received("SXD-CV")) == 4:
                break
        assert [m["body"] for m in await matrix.received("SXD-CV")][1:] == ["Tin"] * 3
    finally:
        await channel.stop()
        await matrix.hs.limit_messages(matrix.bot.user_id, per_second=0, burst=0)


async def test_an_encrypted_room_gets_a_plain_explanation_once(matrix) -> None:
    room = await matrix.chat("SXD-CV", encrypted=True)
    person = matrix.person("SXD-CV")
    [explanation] = await person.wait_from_bot(room, matrix.bot.user_id, 1)
    assert explanation["msgtype"] == "m.text" and "ciphertext" not in explanation
    assert explanation["body"].startswith(
        "Cuộc trò chuyện này được mã hóa đầu cuối; Đôn Đốc không đọc được tin nhắn mã hóa"
    )
    assert matrix.bot.user_id in explanation["body"]
    await matrix.stop()
    await matrix.start()
    await asyncio.sleep(0.5)
    await matrix.settle()
    assert len(await person.from_bot(room, matrix.bot.user_id)) == 1


# ------------------------------------------------------------------ configuration


def test_matrix_is_configured_by_homeserver_user_and_a_password_or_token(sessions) -> None:
    base = {"DONDOC_MATRIX_HOMESERVER": "https://matrix.thanhpho.gov.vn"}
    user = {**base, "DONDOC_MATRIX_USER": "@dondoc:thanhpho.gov.vn"}
    for env, configured in (
        (base, False),
        (user, False),
        ({**user, "DONDOC_MATRIX_PASSWORD": "mật khẩu"}, True),
        ({**user, "DONDOC_MATRIX_TOKEN": "syt_x"}, True),
    ):
        settings = Settings.from_env(env)
        channels = configured_channels(settings, None, sessions=sessions)
        assert [c.name for c in channels] == ([ChatChannel.MATRIX] if configured else [])
    settings = Settings.from_env({**user, "DONDOC_MATRIX_SEND_PER_SECOND": "50"})
    assert settings.matrix_send_per_second == 50


def test_run_without_any_channel_names_the_matrix_variables_too(dondoc, monkeypatch) -> None:
    for name in ("TELEGRAM_TOKEN", "ZALO_TOKEN", "MATRIX_HOMESERVER", "MATRIX_USER"):
        monkeypatch.delenv(f"DONDOC_{name}", raising=False)
    code, _, err = dondoc("run")
    assert code == 2
    assert "DONDOC_MATRIX_HOMESERVER" in err and "DONDOC_ZALO_TOKEN" in err


# ------------------------------------------------------------------ reading events


def test_a_reply_and_elements_double_slash_are_read_as_the_command() -> None:
    assert command_text({"body": "  /viec  "}) == "/viec"
    assert command_text({"body": "//xong 4102 Đã xong"}) == "/xong 4102 Đã xong"
    reply = {
        "body": "> <@dondoc:localhost> 📌 Nhiệm vụ #4102\n\n/xong 4102",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$e"}},
    }
    assert command_text(reply) == "/xong 4102"


def test_only_what_came_after_the_invitation_is_answered_in_a_room_just_joined() -> None:
    bot = "@dondoc:localhost"

    def member(state: str, before: str | None = None) -> dict[str, object]:
        unsigned = {"prev_content": {"membership": before}} if before else {}
        return {
            "type": "m.room.member",
            "state_key": bot,
            "content": {"membership": state},
            "unsigned": unsigned,
        }

    def said(text: str) -> dict[str, object]:
        return {"type": "m.room.message", "content": {"body": text}}

    joined = [said("old"), member("invite"), said("/start X"), member("join", "invite")]
    assert since_invited(joined, bot) == [said("/start X"), member("join", "invite")]
    assert since_invited([said("a"), member("join"), said("b")], bot) == [said("b")]
    renamed = [said("a"), member("join", "join"), said("b")]  # a display name change
    assert since_invited(renamed, bot) == renamed
