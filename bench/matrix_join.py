"""How soon the bot joins a chat an official starts with it in Element, on a real Synapse.

Run: python -m bench.matrix_join [--chats 10]
Starts a Synapse on 127.0.0.1 and `dondoc`'s Matrix channel (login, sync loop) on a fresh
SQLite database; each official starts a direct chat and invites the bot, one after the
other; reports the time from the invitation to the bot's join, beside the goal (a few
seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from bot.config import Settings
from bot.runtime import start_bot
from models.clock import SystemClock
from models.db import create_engine, session_factory, upgrade
from tests.synapse import Homeserver, Person, scratch_directory


async def run(chats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory, remove = scratch_directory(Path(folder) / "synapse")
        homeserver = Homeserver(directory, remove=remove)
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'join.db'}")
        await upgrade(engine)
        running = None
        try:
            await asyncio.to_thread(homeserver.start)
            bot = await asyncio.to_thread(homeserver.register, "dondoc")
            settings = Settings(
                matrix_homeserver=homeserver.url,
                matrix_user=bot.user_id,
                matrix_password=bot.password,
            )
            running = await start_bot(settings, session_factory(engine), SystemClock())
            await running.ready(timeout=60)
            joins = []
            for n in range(chats):
                person = Person(homeserver, await asyncio.to_thread(homeserver.register, f"cb{n}-"))
                try:
                    room = await person.start_chat(bot.user_id)
                    joins.append(await person.wait_joined(room, bot.user_id, seconds=60))
                finally:
                    await person.close()
            print(
                f"bot joined {chats} chats after the invitation: min {min(joins):.2f} s, "
                f"median {statistics.median(joins):.2f} s, max {max(joins):.2f} s "
                f"(goal: a few seconds)"
            )
        finally:
            if running is not None:
                await running.stop()
            await engine.dispose()
            await asyncio.to_thread(homeserver.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=10)
    asyncio.run(run(parser.parse_args().chats))


if __name__ == "__main__":
    main()
