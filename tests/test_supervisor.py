"""Start-up that never dies: any mix of channels, retries while the others serve, a wrong
token disables only its channel, and a stop that is quick and quiet."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.backoff import retry_delay
from bot.config import Settings
from bot.runtime import start_bot
from bot.sandbox import Failure, Sandbox
from bot.supervisor import State
from models.accounts import ChatChannel
from models.clock import FixedClock
from tests import harness
from tests.city import City
from tests.conftest import NOW


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_retries_wait_longer_each_time_up_to_five_minutes_with_jitter() -> None:
    delays = [retry_delay(n) for n in range(1, 12)]
    assert 0.5 <= delays[0] <= 1 and 1 <= delays[1] <= 2 and 2 <= delays[2] <= 4
    assert all(150 <= d <= 300 for d in delays[9:])
    assert len({retry_delay(3) for _ in range(20)}) > 1  # not all at the same moment


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_a_process_with_one_channel_only_starts_and_answers(
    sessions, city: City, channel: str
) -> None:
    bot = await harness.start(sessions, FixedClock(NOW), channel=channel, only=True)
    try:
        assert [k.channel.name.value for k in bot.running.keepers] == [channel]
        reply = await bot.link("SXD-CV")
        assert reply.startswith("Xin chào đồng chí Bùi Minh Hà")
        [tasks] = await bot.send("SXD-CV", "/viec")
        assert tasks.startswith("📋 Nhiệm vụ của đồng chí")
    finally:
        await harness.stop(bot)


@pytest.mark.parametrize("method", ["getMe", "setMyCommands", "deleteWebhook"])
async def test_telegram_failing_at_start_up_five_times_delays_the_bot_but_never_kills_it(
    sessions, city: City, method: str
) -> None:
    sandbox = Sandbox(token=harness.TOKEN)
    await sandbox.start()
    for _ in range(5):
        sandbox.fail_next(method, Failure(500, "Internal Server Error"))
    settings = Settings(telegram_token=harness.TOKEN, telegram_api_url=sandbox.url)
    running = await start_bot(settings, sessions, FixedClock(NOW), first_retry=0.02)
    try:
        await running.ready(timeout=60)
        assert [k.state for k in running.keepers] == [State.UP]
        user = 900
        await sandbox.say(user, "/trogiup", chat_id=user)
        [reply] = await sandbox.wait_for_bot_messages(user, 1)
        assert reply["text"]
        if method == "setMyCommands":  # the menu is set in the background, after the failures
            for _ in range(500):
                if sandbox.telegram.commands:
                    break
                await asyncio.sleep(0.02)
            assert sandbox.telegram.commands
        failed = [m for m, _ in sandbox.telegram.calls if m == method]
        assert len(failed) >= 6
    finally:
        await running.stop()
        await sandbox.stop()


async def test_a_webhook_that_fails_to_register_is_retried(sessions, city: City) -> None:
    sandbox = Sandbox(token=harness.TOKEN)
    await sandbox.start()
    for _ in range(5):
        sandbox.fail_next("setWebhook", Failure(502, "Bad Gateway"))
    port = free_port()
    settings = Settings(
        telegram_token=harness.TOKEN,
        telegram_api_url=sandbox.url,
        webhook_url=f"http://127.0.0.1:{port}/tg",
        webhook_secret="s3cret",
        webhook_listen=f"127.0.0.1:{port}",
    )
    running = await start_bot(settings, sessions, FixedClock(NOW), first_retry=0.02)
    try:
        await running.ready(timeout=60)
        assert [k.state for k in running.keepers] == [State.UP]
        assert sandbox.telegram.webhook_url.endswith("/tg")
    finally:
        await running.stop()
        await sandbox.stop()


async def test_a_bot_api_that_is_not_there_at_start_is_waited_for(sessions, city: City) -> None:
    """Connections refused (the network is down as the process starts): the bot keeps
    trying, and serves as soon as the Bot API answers."""
    port = free_port()
    settings = Settings(telegram_token=harness.TOKEN, telegram_api_url=f"http://127.0.0.1:{port}")
    running = await start_bot(settings, sessions, FixedClock(NOW), first_retry=0.02)
    sandbox = Sandbox(token=harness.TOKEN, port=port)
    try:
        await asyncio.sleep(0.5)
        assert running.keepers[0].state is State.RETRYING
        await sandbox.start()
        await running.ready(timeout=60)
        user = 901
        await sandbox.say(user, "/trogiup", chat_id=user)
        await sandbox.wait_for_bot_messages(user, 1)
    finally:
        await running.stop()
        await sandbox.stop()


async def test_a_wrong_token_disables_only_its_channel(sessions, city: City) -> None:
    sandbox = Sandbox(token=harness.TOKEN, zalo_token=harness.ZALO_TOKEN)
    await sandbox.start()
    settings = Settings(
        telegram_token="999:WRONG",
        telegram_api_url=sandbox.url,
        zalo_token=harness.ZALO_TOKEN,
        zalo_api_url=f"{sandbox.url}/zalo",
    )
    running = await start_bot(settings, sessions, FixedClock(NOW), idle_seconds=0.05)
    try:
        await running.ready()
        states = {k.channel.name: k.state for k in running.keepers}
        assert states == {ChatChannel.TELEGRAM: State.DISABLED, ChatChannel.ZALO: State.UP}
        assert not running.all_disabled.is_set()
        await sandbox.zalo_say("zu1", "/trogiup")
        [reply] = await sandbox.wait_for_zalo_messages("zu1", 1)
        assert reply["text"]
    finally:
        await running.stop()
        await sandbox.stop()


async def test_when_every_token_is_wrong_nothing_is_left_to_serve(sessions, city: City) -> None:
    sandbox = Sandbox(token=harness.TOKEN, zalo_token=harness.ZALO_TOKEN)
    await sandbox.start()
    settings = Settings(
        telegram_token="999:WRONG",
        telegram_api_url=sandbox.url,
        zalo_token="wrong",
        zalo_api_url=f"{sandbox.url}/zalo",
    )
    running = await start_bot(settings, sessions, FixedClock(NOW))
    try:
        await asyncio.wait_for(running.all_disabled.wait(), 30)
    finally:
        await running.stop()
        await sandbox.stop()


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=tmp_path, env=env, check=True
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", **values)
    return env


def test_run_with_every_token_refused_exits_1_with_one_clear_line(tmp_path: Path) -> None:
    sandbox_port = free_port()
    env = _env(
        tmp_path,
        DONDOC_TELEGRAM_TOKEN="999:WRONG",
        DONDOC_TELEGRAM_API_URL=f"http://127.0.0.1:{sandbox_port}",
    )

    async def serve() -> None:
        sandbox = Sandbox(token=harness.TOKEN, port=sandbox_port)
        await sandbox.start()
        try:
            process = _run(tmp_path, env)
            code = await asyncio.to_thread(process.wait, 60)
            output = process.stdout.read()  # type: ignore[union-attr]
        finally:
            await sandbox.stop()
        assert code == 1, output
        assert "telegram: disabled: getMe: the token was refused" in output
        assert "Traceback" not in output

    asyncio.run(serve())


def test_run_stops_within_seconds_on_sigterm_while_telegram_cannot_be_reached(
    tmp_path: Path,
) -> None:
    env = _env(
        tmp_path,
        DONDOC_TELEGRAM_TOKEN=harness.TOKEN,
        DONDOC_TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}",  # nobody listens
    )
    process = _run(tmp_path, env)
    try:
        output = ""
        for line in process.stdout:  # type: ignore[union-attr]
            output += line
            if "retrying in" in line:
                break
        time.sleep(1.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        stopped_in = time.monotonic() - started
        output += process.stdout.read()  # type: ignore[union-attr]
    finally:
        process.kill()
    assert code == 0, output
    assert stopped_in < 10, stopped_in  # the goal is 5 s; generous for a loaded machine
    assert "Traceback" not in output
    assert output.count("telegram: cannot be reached") <= 3  # one line a retry, no flood


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_a_webhook_without_its_secret_disables_the_channel_with_one_clear_line(
    sessions, city: City, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = Sandbox(token=harness.TOKEN, zalo_token=harness.ZALO_TOKEN)
    await sandbox.start()
    port = free_port()
    if channel == "telegram":
        settings = Settings(
            telegram_token=harness.TOKEN,
            telegram_api_url=sandbox.url,
            webhook_url=f"http://127.0.0.1:{port}/tg",
        )
    else:
        settings = Settings(
            zalo_token=harness.ZALO_TOKEN,
            zalo_api_url=f"{sandbox.url}/zalo",
            zalo_webhook_url=f"http://127.0.0.1:{port}/z",
        )
    running = await start_bot(settings, sessions, FixedClock(NOW))
    try:
        await asyncio.wait_for(running.all_disabled.wait(), 30)
        lines = [r.getMessage() for r in caplog.records if r.name == "dondoc.channels"]
        assert len(lines) == 1 and "WEBHOOK_SECRET" in lines[0] and "disabled" in lines[0]
    finally:
        await running.stop()
        await sandbox.stop()
