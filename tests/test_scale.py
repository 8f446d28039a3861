"""Past one machine: three `dondoc run` processes on one PostgreSQL behind nginx, 2,000
updates from 500 chats through the balancer while the leader's Monday run fans out, the
leader killed with SIGKILL in the middle; every update answered once, every push delivered
once (repeats at most the sends in flight at the kill), the week's digests once per key,
and no 429 from the fake Bot API enforcing Telegram's flood limits.

Runs when DONDOC_TEST_POSTGRES_URL is set (CI sets it)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from bench.scale_city import MONDAY, build_city, commands, update
from bot.sandbox import FloodLimits, Sandbox
from bot.sandbox.balancer import Balancer
from models import (
    OutboxMessage,
    OutboxState,
)
from models.db import create_engine, session_factory
from tests.conftest import POSTGRES_URL
from tests.synapse import free_port

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="DONDOC_TEST_POSTGRES_URL not set")

ROOT = Path(__file__).parent.parent
TOKEN = "123456:SCALE"
SECRET = "scale-Secret_1"
PROCESSES, CHATS, PER_CHAT = 3, 500, 4


def start_node(env: dict[str, str], listen: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox.node", MONDAY.isoformat()],
        cwd=ROOT,
        env={**env, "DONDOC_WEBHOOK_LISTEN": listen},
    )


async def test_three_processes_behind_nginx_answer_every_update_once_through_a_sigkill(
    tmp_path: Path, postgres_schema: bool
) -> None:
    engine = create_engine(POSTGRES_URL)
    sessions = session_factory(engine)
    await build_city(engine, CHATS)
    sandbox = Sandbox(token=TOKEN)
    await sandbox.start()
    sandbox.misbehave(limits=FloodLimits())
    listens = [f"127.0.0.1:{free_port()}" for _ in range(PROCESSES)]
    balancer = Balancer(tmp_path / "nginx", free_port(), listens)
    await asyncio.to_thread(balancer.start)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(
        DONDOC_DATABASE_URL=POSTGRES_URL,
        DONDOC_TELEGRAM_TOKEN=TOKEN,
        DONDOC_TELEGRAM_API_URL=sandbox.url,
        DONDOC_WEBHOOK_URL=f"{balancer.url}/telegram",
        DONDOC_WEBHOOK_SECRET=SECRET,
        DONDOC_LOG_LEVEL="WARNING",
    )
    nodes = [start_node(env, listens[0])]
    AsyncHTTPClient.configure(None, max_clients=64)
    client = AsyncHTTPClient()
    answered: Counter[int] = Counter()
    try:
        while not sandbox.webhook_url:  # the first is up (and leads: the digests begin)
            await asyncio.sleep(0.1)
        nodes += [start_node(env, listen) for listen in listens[1:]]
        await asyncio.sleep(3)
        ids = iter(range(1, 10**6))
        rng = random.Random(17)
        concurrent = asyncio.Semaphore(40)  # Telegram's webhook connections

        async def post(body: dict) -> None:  # type: ignore[type-arg]
            """As Telegram does: until the webhook answers 200."""
            request = HTTPRequest(
                f"{balancer.url}/telegram",
                method="POST",
                body=json.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    sandbox.telegram.secret_header: SECRET,
                },
                request_timeout=60,
            )
            while True:
                async with concurrent:
                    response = await client.fetch(request, raise_error=False)
                if response.code == 200:
                    answered[body["update_id"]] += 1
                    return
                await asyncio.sleep(0.5)

        async def chat(person: int) -> None:
            await asyncio.sleep(rng.random() * 20)
            for command in commands(person):  # a chat's updates come in order, one at a time
                await post(update(next(ids), person, command))

        began = time.monotonic()
        chats = asyncio.gather(*(chat(p) for p in range(1, CHATS + 1)))
        while sum(answered.values()) < CHATS * PER_CHAT // 3:
            await asyncio.sleep(0.05)
        nodes[0].send_signal(signal.SIGKILL)  # the leader, mid fan-out and mid updates
        await asyncio.to_thread(nodes[0].wait, 30)
        async with sessions() as session:
            in_flight = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.state == OutboxState.SENDING)
            )
        await chats
        print(
            f"updates answered in {time.monotonic() - began:.0f} s; in flight at the kill {in_flight}"
        )
        # Everything is sent: the dead leader's claims are taken over after the claim timeout.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            async with sessions() as session:
                left = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.state != OutboxState.SENT)
                )
            if not left:
                break
            await asyncio.sleep(1)
        print(f"all sent {time.monotonic() - began:.0f} s after the first update")
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(
                        OutboxMessage.key,
                        OutboxMessage.chat_id,
                        OutboxMessage.state,
                        OutboxMessage.external_id,
                    )
                )
            ).all()
        received = {
            chat: [m for m in messages if m["outgoing"]]
            for chat, messages in sandbox.telegram.messages.items()
        }
    finally:
        for node in nodes:
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
        for node in nodes:
            try:
                await asyncio.to_thread(node.wait, 20)
            except subprocess.TimeoutExpired:
                node.kill()
        balancer.stop()
        await sandbox.stop()
        await engine.dispose()

    updates = CHATS * PER_CHAT
    assert len(answered) == updates  # every update acknowledged (some more than once: retries)
    replies = [r for r in rows if r.key.startswith("reply:") and r.key.endswith(":0")]
    assert len(replies) == updates  # answered once each: one reply row per update
    assert {r.state for r in rows} == {OutboxState.SENT}, Counter(r.state for r in rows)
    digests = [r for r in rows if r.key.startswith("digest:")]
    assert len(digests) == CHATS  # the week's digest, once per person, across the takeover
    delivered = Counter(
        (chat, m["message_id"]) for chat, messages in received.items() for m in messages
    )
    for row in rows:  # what the outbox says went, the fake has
        assert (row.chat_id, int(row.external_id)) in delivered
    total = sum(len(messages) for messages in received.values())
    assert total - len(rows) <= in_flight  # repeats: only the sends in flight at the kill
    assert sandbox.traffic.pacing_429s == 0, sandbox.traffic.counts
