"""Running the bot: the Telegram Application, the outbox sender, and for the demo the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from telegram import Bot
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot.config import Settings
from bot.delivery import ChannelSender, OutboxSender, RateLimiter
from bot.files import FileLinks, start_file_server
from bot.sandbox import Sandbox
from bot.telegram import TelegramSender, build_application, register_commands
from bot.zalo import ZaloClient, ZaloPolling, ZaloSender, start_webhook, stop_task
from handlers.core import CoreSettings
from handlers.router import Core
from jobs.cadence import Cadence
from jobs.run import run_due
from locales import TIMEZONE
from models.accounts import ChatChannel, issue_link_code
from models.clock import Clock
from models.db import session_factory
from models.organization import Official

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "123456:SANDBOX"
SANDBOX_ZALO_TOKEN = "zalo-sandbox-token"
SANDBOX_USER_BASE = 100_000  # a sample official's fake Telegram id is this plus their id


@dataclass
class Running:
    application: Application
    sender: OutboxSender
    sender_task: asyncio.Task[None]
    core: Core
    scheduler: AsyncIOScheduler | None = None
    zalo: ZaloClient | None = None
    zalo_task: asyncio.Task[None] | None = None
    zalo_server: HTTPServer | None = None
    file_server: HTTPServer | None = None

    async def stop(self) -> None:
        await self.core.idle()
        if self.file_server is not None:
            self.file_server.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.zalo_task is not None:
            await stop_task(self.zalo_task)
        if self.zalo_server is not None:
            self.zalo_server.stop()
        if self.zalo is not None:
            await self.zalo.close()
        self.sender_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.sender_task
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()


async def start_bot(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    token: str,
    api_url: str | None,
    poll_interval: float = 0.0,
    idle_seconds: float = 0.5,
    cadence: Cadence | None = None,
) -> Running:
    """Start the Application (polling, or the webhook when configured) and the outbox sender."""
    core = Core(sessions, clock, CoreSettings(due_soon_days=settings.due_soon_days))
    application = build_application(token, core, api_url=api_url)
    await application.initialize()
    await register_commands(application)
    await application.start()
    assert application.updater is not None
    if settings.webhook_url:
        host, _, port = settings.webhook_listen.rpartition(":")
        await application.updater.start_webhook(
            listen=host or "127.0.0.1",
            port=int(port),
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret or None,
        )
    else:
        await application.updater.start_polling(poll_interval=poll_interval, timeout=10)
    senders: dict[ChatChannel, ChannelSender] = {
        ChatChannel.TELEGRAM: TelegramSender(application.bot)
    }
    limiters = {
        ChatChannel.TELEGRAM: RateLimiter(settings.send_per_second, settings.send_per_chat_seconds),
        ChatChannel.ZALO: RateLimiter(
            settings.zalo_send_per_second, settings.zalo_send_per_chat_seconds
        ),
    }
    zalo = zalo_task = zalo_server = file_server = None
    if settings.zalo_token:
        zalo = ZaloClient(settings.zalo_token, settings.zalo_api_url)
        links = None
        if settings.files_url:
            if not settings.files_secret:
                raise ValueError("DONDOC_FILES_URL needs DONDOC_FILES_SECRET to sign the links")
            links = FileLinks(settings.files_url, settings.files_secret, clock)
            file_server = await start_file_server(links, sessions, settings.files_listen)
        senders[ChatChannel.ZALO] = ZaloSender(zalo, links)
        if settings.zalo_webhook_url:
            zalo_server = await start_webhook(
                core,
                zalo,
                settings.zalo_webhook_url,
                settings.zalo_webhook_secret,
                settings.zalo_webhook_listen,
            )
        else:
            await zalo.call("deleteWebhook")
            zalo_task = asyncio.create_task(ZaloPolling(core, zalo).run(), name="zalo-polling")
    sender = OutboxSender(sessions, clock, senders, idle_seconds=idle_seconds, limiters=limiters)
    core.on_queued = sender.wake.set
    task = asyncio.create_task(sender.run(), name="outbox-sender")
    scheduler = None
    if cadence is not None:
        scheduler = schedule_jobs(sessions, clock, cadence, sender)
        scheduler.start()
    return Running(
        application, sender, task, core, scheduler, zalo, zalo_task, zalo_server, file_server
    )


def schedule_jobs(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, cadence: Cadence, sender: OutboxSender
) -> AsyncIOScheduler:
    """A handful of fixed jobs; each asks the database what is due. Never a job per task."""

    async def sweep() -> None:
        counts = await run_due(sessions, clock.now(), cadence)
        if any(counts.values()):
            sender.wake.set()

    scheduler = AsyncIOScheduler(timezone=TIMEZONE)
    options: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
    scheduler.add_job(sweep, IntervalTrigger(minutes=5), id="sweep", **options)
    # The weekly and periodic moments, so they go out on the minute rather than up to 5 later.
    for at in sorted({cadence.work_start, cadence.digest_at, cadence.urging_at, cadence.report_at}):
        trigger = CronTrigger(day_of_week="mon-fri", hour=at.hour, minute=at.minute)
        scheduler.add_job(sweep, trigger, id=f"at {at}", **options)
    return scheduler


def sandbox_for(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    port: int | None = None,
) -> Sandbox:
    """A sandbox whose page lists the register's officials and links them with real codes."""

    async def people() -> list[dict[str, Any]]:
        async with sessions() as session:
            officials = await session.scalars(
                select(Official)
                .options(selectinload(Official.unit))
                .order_by(Official.unit_id, Official.id)
            )
            return [
                {
                    "user_id": SANDBOX_USER_BASE + o.id,
                    "code": o.code,
                    "name": o.full_name,
                    "position": o.position,
                    "unit": o.unit.name,
                }
                for o in officials
            ]

    async def link_code_for(code: str) -> str | None:
        async with sessions() as session, session.begin():
            official = await session.scalar(select(Official).where(Official.code == code))
            if official is None:
                return None
            return await issue_link_code(session, official, clock.now())

    return Sandbox(
        token=SANDBOX_TOKEN,
        zalo_token=SANDBOX_ZALO_TOKEN,
        port=settings.sandbox_port if port is None else port,
        people=people,
        link_code_for=link_code_for,
    )


async def serve_forever(
    engine: AsyncEngine, settings: Settings, clock: Clock, *, sandbox: bool
) -> None:
    """Run until SIGINT or SIGTERM."""
    sessions = session_factory(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    fake = sandbox_for(settings, sessions, clock) if sandbox else None
    if fake is not None:
        await fake.start()
    token = SANDBOX_TOKEN if fake else settings.telegram_token
    api_url = fake.url if fake else (settings.telegram_api_url or None)
    if fake is not None:  # the demo shows both channels, and Zalo's file links
        settings = replace(
            settings,
            zalo_token=SANDBOX_ZALO_TOKEN,
            zalo_api_url=f"{fake.url}/zalo",
            zalo_webhook_url="",
            files_secret=settings.files_secret or secrets.token_hex(16),
        )
        if not settings.files_url:  # served beside the sandbox, on the next port
            port = fake.port + 1
            settings = replace(
                settings,
                files_url=f"http://127.0.0.1:{port}/files",
                files_listen=f"127.0.0.1:{port}",
            )
    running = await start_bot(
        settings,
        sessions,
        clock,
        token=token,
        api_url=api_url,
        cadence=Cadence.from_env() if settings.scheduler else None,
    )
    try:
        await stop.wait()
    finally:
        await running.stop()
        if fake is not None:
            await fake.stop()


async def deliver_due(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> int:
    """Send what the outbox holds that is due now, without the bot running (`dondoc tick`)."""
    zalo = ZaloClient(settings.zalo_token, settings.zalo_api_url) if settings.zalo_token else None
    async with Bot(settings.telegram_token, base_url=_base(settings.telegram_api_url)) as bot:
        senders: dict[ChatChannel, ChannelSender] = {ChatChannel.TELEGRAM: TelegramSender(bot)}
        if zalo is not None:
            senders[ChatChannel.ZALO] = ZaloSender(zalo)
        sender = OutboxSender(
            sessions,
            clock,
            senders,
            limiters={
                ChatChannel.TELEGRAM: RateLimiter(
                    settings.send_per_second, settings.send_per_chat_seconds
                ),
                ChatChannel.ZALO: RateLimiter(
                    settings.zalo_send_per_second, settings.zalo_send_per_chat_seconds
                ),
            },
        )
        try:
            return await sender.drain()
        finally:
            if zalo is not None:
                await zalo.close()


def _base(api_url: str) -> str:
    return f"{api_url.rstrip('/')}/bot" if api_url else "https://api.telegram.org/bot"
