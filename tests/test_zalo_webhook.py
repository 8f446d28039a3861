"""The Zalo webhook as an attacker meets it: wrong secret, oversized body, JSON of another
shape, deep nesting, a replay — refused or handled once, never a 500; and the duplicate key."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.webhook import MAX_BODY
from bot.zalo import SECRET_HEADER, NotAnUpdate, incoming_from
from models import TaskEvent
from models.clock import FixedClock
from tests import harness
from tests.city import City
from tests.conftest import NOW
from tests.test_zalo import free_port

SECRET = "z-s3cret"


def update(user: str, text: str, message_id: str | None = "m1", chat: str | None = None) -> dict:
    message = {"from": {"id": user}, "chat": {"id": chat or user, "chat_type": "PRIVATE"}}
    message |= {"date": 0, "text": text}
    if message_id is not None:
        message["message_id"] = message_id
    return {"event_name": "message.text.received", "message": message}


def test_the_same_message_id_in_two_chats_is_two_updates() -> None:
    first = incoming_from(update("u1", "/viec", "m1"))
    second = incoming_from(update("u2", "/viec", "m1"))
    assert first and second and first.update_id != second.update_id


def test_an_update_without_message_id_does_not_swallow_the_next_ones() -> None:
    keys = {incoming_from(update("u1", text, None)).update_id for text in ("/viec", "/xem 1")}
    assert len(keys) == 2 and not any(key.endswith(":None") for key in keys)
    again = incoming_from(update("u1", "/viec", None))
    assert again.update_id in keys  # the very same update delivered twice is one


@pytest.mark.parametrize("body", [[1], None, "text", {"message": "x"}, {"message": {"chat": 5}}])
def test_json_of_another_shape_is_not_an_update(body: object) -> None:
    with pytest.raises(NotAnUpdate):
        incoming_from(body)


@pytest.fixture
async def hooked(sessions, city: City):
    port = free_port()
    settings = Settings(
        zalo_webhook_url=f"http://127.0.0.1:{port}/zalo-hook",
        zalo_webhook_secret=SECRET,
        zalo_webhook_listen=f"127.0.0.1:{port}",
    )
    bot = await harness.start(sessions, FixedClock(NOW), settings, channel="zalo")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        yield bot, http
    await harness.stop(bot)


async def post(http: httpx.AsyncClient, body: bytes, secret: str = SECRET) -> int:
    try:
        response = await http.post("/zalo-hook", content=body, headers={SECRET_HEADER: secret})
    except httpx.HTTPError:  # the server may close the connection on an oversized body
        return 0
    return response.status_code


@pytest.mark.parametrize(
    "body",
    [
        b"[1]",
        b"null",
        b'"text"',
        b'{"message": "x"}',
        b'{"message": {"from": [], "chat": {}}}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"\xff\xfe not json",
    ],
)
async def test_malformed_bodies_are_a_bad_request_never_a_500(hooked, body: bytes) -> None:
    _bot, http = hooked
    assert await post(http, body) == 400


async def test_an_oversized_body_is_refused_unread(hooked) -> None:
    _bot, http = hooked
    big = json.dumps(update("u1", "x" * (MAX_BODY + 10))).encode()
    assert await post(http, big) in (0, 400, 413)
    assert await post(http, b"[1]") == 400  # and the server still serves


async def test_wrong_secret_and_a_replay_are_handled_once(hooked) -> None:
    bot, http = hooked
    await bot.link("SXD-CV")
    user = bot.user("SXD-CV")
    blocker = json.dumps(update(user, "/vuongmac 4102 Chờ số liệu", "replay-1")).encode()
    assert await post(http, blocker, "z-s3cres") == 403
    assert await post(http, blocker, SECRET + "x") == 403
    for _ in range(3):
        assert await post(http, blocker) == 200
    await bot.settle()
    async with bot.sessions() as session:
        blockers = await session.scalar(
            select(func.count()).select_from(TaskEvent).where(TaskEvent.action == "blocker")
        )
    assert blockers == 1


async def test_the_secret_is_compared_in_constant_time(
    hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    _bot, http = hooked
    compared = []

    def compare(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr("bot.webhook.hmac.compare_digest", compare)
    assert await post(http, b"[1]", "wrong") == 403
    assert compared == [(b"wrong", SECRET.encode())]
