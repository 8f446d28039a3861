"""The chat sandbox a person uses in `dondoc demo`: the page, the people, linking, chatting."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.demo import SANDBOX_USER_BASE, sandbox_for, sandbox_settings
from bot.runtime import start_bot
from bot.sandbox import Sandbox
from models.clock import FixedClock
from tests.city import City
from tests.conftest import NOW


@pytest.fixture
async def demo(sessions, city: City):
    clock = FixedClock(NOW)
    sandbox = sandbox_for(Settings(), sessions, clock, port=0)
    await sandbox.start()
    # Without the file links' server: these tests are about the page.
    settings = replace(sandbox_settings(Settings(), sandbox), files_url="")
    running = await start_bot(settings, sessions, clock, idle_seconds=0.05)
    await running.ready()
    yield sandbox, city
    await running.stop()
    await sandbox.stop()


async def test_page_is_served_in_vietnamese(demo) -> None:
    sandbox, _ = demo
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        page = (await client.get("/")).text
        english = (await client.get("/?lang=en")).text
    assert "Chọn một cán bộ bên trái để trò chuyện với bot" in page
    assert "Pick an official on the left" in english


async def test_a_person_links_an_official_and_chats(demo) -> None:
    sandbox, city = demo
    async with httpx.AsyncClient(base_url=sandbox.url, headers={"Origin": sandbox.url}) as client:
        people = (await client.get("/sandbox/people")).json()["people"]
        lan = next(p for p in people if p["code"] == "SXD-CV")
        assert lan["name"] == "Bùi Minh Hà" and lan["unit"] == "Sở Xây dựng"
        user = lan["user_id"]
        assert user == SANDBOX_USER_BASE + city.officials["SXD-CV"].id
        assert (
            await client.post("/sandbox/link", json={"user_id": user, "official_code": "SXD-CV"})
        ).json()["ok"]
        await sandbox.wait_for_bot_messages(user, 1)
        await client.post("/sandbox/say", json={"user_id": user, "text": "/viec"})
        await sandbox.wait_for_bot_messages(user, 2)
        chat = (await client.get(f"/sandbox/chat?chat_id={user}")).json()["messages"]
    texts = [m["text"] for m in chat if m["outgoing"]]
    assert texts[0].startswith("Xin chào đồng chí Bùi Minh Hà (Sở Xây dựng)")
    assert texts[1].startswith("📋 Nhiệm vụ của đồng chí")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_dondoc_demo_runs_on_a_fresh_database(tmp_path: Path) -> None:
    """The README's first command, minus the install: load, serve the chat, stop on Ctrl+C."""
    port = free_port()
    env = {
        **os.environ,
        "DONDOC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "DONDOC_SANDBOX_PORT": str(port),
    }
    env.pop("DONDOC_LANGUAGE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        for line in process.stdout:  # type: ignore[union-attr]
            output += line
            if "Môi trường thử" in line:
                break
        assert "Đã nhập nhiệm vụ: 1.500 mới" in output, output
        people: list = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(600):  # generous: the machine may be busy
                try:
                    people = (await client.get("/sandbox/people")).json()["people"]
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        assert len(people) == 308
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        rest = process.stdout.read()  # type: ignore[union-attr]
        assert code == 0, output + rest


async def test_the_same_person_chats_on_zalo_in_the_sandbox(demo) -> None:
    sandbox, city = demo
    user = SANDBOX_USER_BASE + city.officials["SXD-CV"].id
    async with httpx.AsyncClient(base_url=sandbox.url, headers={"Origin": sandbox.url}) as client:
        link = {"user_id": user, "official_code": "SXD-CV", "channel": "zalo"}
        assert (await client.post("/sandbox/link", json=link)).json()["ok"]
        await sandbox.wait_for_zalo_messages(f"z{user}", 1)
        await client.post(
            "/sandbox/say", json={"user_id": user, "text": "/xem 4102", "channel": "zalo"}
        )
        await sandbox.wait_for_zalo_messages(f"z{user}", 2)
        chat = (await client.get(f"/sandbox/chat?chat_id={user}&channel=zalo")).json()["messages"]
    texts = [m["text"] for m in chat if m["outgoing"]]
    assert texts[0].startswith("Xin chào đồng chí Bùi Minh Hà")
    assert "• ✅ Hoàn thành: /xong 4102" in texts[1]


async def test_the_console_shows_no_line_for_routine_requests(caplog) -> None:
    sandbox = Sandbox(token="123:T", zalo_token="zalo-t")
    await sandbox.start()
    caplog.set_level(logging.DEBUG, logger="tornado.access")
    try:
        async with httpx.AsyncClient(base_url=sandbox.url) as client:
            await client.post("/bot123:T/getUpdates", json={"timeout": 0})
            await client.post("/zalo/botzalo-t/getUpdates", json={"timeout": 0})  # 408: no update
            await client.get("/")
            await client.post("/bot123:T/noSuchMethod")
    finally:
        await sandbox.stop()
    shown = [r for r in caplog.records if r.name == "tornado.access" and r.levelno >= logging.INFO]
    assert [r.getMessage().split()[:2] for r in shown] == [["404", "POST"]]
    assert shown[0].levelno == logging.WARNING


async def test_cross_site_posts_are_refused_and_say_nothing(demo) -> None:
    sandbox, city = demo
    user = SANDBOX_USER_BASE + city.officials["SXD-CV"].id
    say = json.dumps({"user_id": user, "text": "/xong 4102"})
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        forged = [
            {"Content-Type": "text/plain", "Origin": "https://evil.example"},
            {"Content-Type": "text/plain", "Origin": sandbox.url},  # a form's kind of body
            {"Content-Type": "application/json", "Origin": "https://evil.example"},
            {"Content-Type": "application/json"},  # neither origin nor token
            {"Content-Type": "application/json", "X-Sandbox-Token": "guessed"},
        ]
        for headers in forged:
            response = await client.post("/sandbox/say", content=say, headers=headers)
            assert response.status_code == 403, headers
        page = (await client.get("/")).text
        token = json.loads(re.search(r"const TOKEN = (\"[^\"]+\");", page)[1])
        ok = {"Content-Type": "application/json", "X-Sandbox-Token": token}
        assert (await client.post("/sandbox/say", content=say, headers=ok)).json()["ok"]
        bad = await client.post("/sandbox/say", content=b"[1]", headers=ok)
        assert bad.status_code == 400
