"""The demo's wiring: the loopback sandbox in place of Telegram and Zalo, and its page's people.

Only `dondoc demo` and the tests reach this module; `dondoc run` never imports the sandbox.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.runtime import serve_forever
from bot.sandbox import Sandbox
from models.accounts import issue_link_code
from models.clock import Clock
from models.db import session_factory, write_gate
from models.organization import official_by_code, officials_by_unit

SANDBOX_TOKEN = "123456:SANDBOX"
SANDBOX_ZALO_TOKEN = "zalo-sandbox-token"
SANDBOX_USER_BASE = 100_000  # a sample official's fake Telegram id is this plus their id


def sandbox_for(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    port: int | None = None,
) -> Sandbox:
    """A sandbox whose page lists the register's officials and links them with real codes."""

    async def people() -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {
                    "user_id": SANDBOX_USER_BASE + o.id,
                    "code": o.code,
                    "name": o.full_name,
                    "position": o.position,
                    "unit": o.unit.name,
                }
                for o in await officials_by_unit(session)
            ]

    async def link_code_for(code: str) -> str | None:
        gate = write_gate(sessions.kw["bind"])  # the sandbox's link code: a command's write
        async with gate.urgent(), sessions() as session, session.begin():
            official = await official_by_code(session, code)
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


def sandbox_settings(settings: Settings, sandbox: Sandbox) -> Settings:
    """Both channels pointed at the sandbox, and Zalo's file links served on the next port."""
    settings = replace(
        settings,
        telegram_token=SANDBOX_TOKEN,
        telegram_api_url=sandbox.url,
        webhook_url="",
        zalo_token=SANDBOX_ZALO_TOKEN,
        zalo_api_url=f"{sandbox.url}/zalo",
        zalo_webhook_url="",
        files_secret=settings.files_secret or secrets.token_hex(16),
    )
    if not settings.files_url:
        port = sandbox.port + 1
        settings = replace(
            settings, files_url=f"http://127.0.0.1:{port}/files", files_listen=f"127.0.0.1:{port}"
        )
    return settings


async def serve_demo(engine: AsyncEngine, settings: Settings, clock: Clock) -> None:
    """The bot against the sandbox, until Ctrl+C."""
    sandbox = sandbox_for(settings, session_factory(engine), clock)
    await sandbox.start()
    try:
        await serve_forever(engine, sandbox_settings(settings, sandbox), clock)
    finally:
        await sandbox.stop()
