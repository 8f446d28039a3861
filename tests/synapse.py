"""A real Synapse on 127.0.0.1 for the Matrix tests, and an official's client that talks to it.

The homeserver gets a generated config (SQLite, no federation, no URL previews, no
encryption by default), starts in a few seconds, and registers users with the shared
secret. The official's client is plain HTTP against the client-server API, so what the
tests read is what any Matrix client would receive.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

SERVER_NAME = "localhost"
START_SECONDS = 60
# Relaxed for the test users; a test that needs a 429 tightens the bot's own limit with the
# admin API, as an operator would lift it (README).
RELAXED: dict[str, float] = {"per_second": 1000, "burst_count": 1000}
SYNAPSE_DEFAULT_MESSAGES: dict[str, float] = {"per_second": 0.2, "burst_count": 10}

CONFIG = """\
server_name: "{server_name}"
pid_file: "{dir}/homeserver.pid"
public_baseurl: "{url}/"
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{dir}/homeserver.db"
log_config: "{dir}/log.yaml"
media_store_path: "{dir}/media"
signing_key_path: "{dir}/signing.key"
registration_shared_secret: "{secret}"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
url_preview_enabled: false
encryption_enabled_by_default_for_room_type: "off"
presence:
  enabled: false
bcrypt_rounds: 4
rc_message: {message_limit}
rc_login:
  address: {relaxed}
  account: {relaxed}
  failed_attempts: {relaxed}
rc_registration: {relaxed}
rc_joins:
  local: {relaxed}
  remote: {relaxed}
rc_joins_per_room: {relaxed}
rc_invites:
  per_room: {relaxed}
  per_user: {relaxed}
  per_issuer: {relaxed}
rc_room_creation: {relaxed}
rc_media_create: {relaxed}
"""

LOG_CONFIG = """\
version: 1
formatters:
  plain:
    format: "%(asctime)s %(levelname)s %(name)s %(message)s"
handlers:
  file:
    class: logging.FileHandler
    filename: "{dir}/homeserver.log"
    formatter: plain
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str
    access_token: str


def scratch_directory(fallback: Path) -> tuple[Path, bool]:
    """Where Synapse keeps its files: in memory (/dev/shm) when the machine has it, since
    every event Synapse stores is a synced SQLite write, which the disk makes 2-3 times
    slower here; else `fallback`. True when the directory is ours to remove."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="dondoc-synapse-", dir=shm)), True
    return fallback, False


class Homeserver:
    """One Synapse process for the test session."""

    def __init__(
        self, directory: Path, *, remove: bool = False, message_limit: dict[str, float] = RELAXED
    ) -> None:
        self.dir = directory
        self.remove = remove  # the directory, at stop
        # Users' message rate: relaxed for tests; the bench keeps Synapse's default and lifts
        # the bot's own, as the README tells operators.
        self.message_limit = message_limit
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self.admin: Account | None = None
        self._users: dict[str, Account] = {}

    def start(self) -> None:
        from signedjson.key import generate_signing_key, write_signing_keys

        self.dir.mkdir(parents=True, exist_ok=True)
        relaxed = "{" + ", ".join(f"{k}: {v}" for k, v in RELAXED.items()) + "}"
        (self.dir / "homeserver.yaml").write_text(
            CONFIG.format(
                server_name=SERVER_NAME,
                dir=self.dir,
                url=self.url,
                port=self.port,
                secret=self.secret,
                relaxed=relaxed,
                message_limit="{"
                + ", ".join(f"{k}: {v}" for k, v in self.message_limit.items())
                + "}",
            )
        )
        (self.dir / "log.yaml").write_text(LOG_CONFIG.format(dir=self.dir))
        with (self.dir / "signing.key").open("w") as key:
            write_signing_keys(key, [generate_signing_key("test")])
        output = (self.dir / "stdout.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", "homeserver.yaml"],
            cwd=self.dir,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at start:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/_matrix/client/versions", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"Synapse did not answer in {START_SECONDS} s:\n{self.log_tail()}")
        self.admin = self.register("admin", admin=True)

    def log_tail(self) -> str:
        texts = [p.read_text()[-3000:] for p in self.dir.glob("*.log") if p.exists()]
        return "\n".join(texts)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def user(self, name: str) -> Account:
        """The session's one account for `name`: registering costs a tenth of a second, and
        an official's account outlives the bot of one test as it would in a city."""
        if name not in self._users:
            self._users[name] = self.register(name)
        return self._users[name]

    def register(self, name: str = "user", *, admin: bool = False) -> Account:
        """A new user through the shared-secret admin registration (a fresh name each call)."""
        localpart = f"{name}{next(self._names)}"
        password = secrets.token_hex(8)
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = httpx.get(endpoint, timeout=10).json()["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(f"{nonce}\0{localpart}\0{password}\0{'admin' if admin else 'notadmin'}".encode())
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        answer = httpx.post(endpoint, json=body, timeout=10)
        answer.raise_for_status()
        data = answer.json()
        return Account(data["user_id"], password, data["access_token"])

    async def admin_call(self, method: str, path: str, body: Any = None) -> Any:
        assert self.admin is not None
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            answer = await http.request(
                method,
                path,
                json=body,
                headers={"Authorization": f"Bearer {self.admin.access_token}"},
            )
        answer.raise_for_status()
        return answer.json()

    async def devices(self, user_id: str) -> list[dict[str, Any]]:
        data = await self.admin_call("GET", f"/_synapse/admin/v2/users/{quote(user_id)}/devices")
        return list(data["devices"])

    async def limit_messages(self, user_id: str, per_second: int, burst: int) -> None:
        """The operator's override of one user's message rate (0 and 0 lift it)."""
        await self.admin_call(
            "POST",
            f"/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit",
            {"messages_per_second": per_second, "burst_count": burst},
        )


class Person:
    """An official in their Matrix client: starts chats, writes, reads what the bot sent."""

    def __init__(self, homeserver: Homeserver, account: Account) -> None:
        self.hs = homeserver
        self.account = account
        self.user_id = account.user_id
        self.http = httpx.AsyncClient(
            base_url=f"{homeserver.url}/_matrix/client/v3",
            headers={"Authorization": f"Bearer {account.access_token}"},
            timeout=20,
        )
        self._txn = itertools.count(1)

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        answer = await self.http.request(method, path, json=body, params=params or None)
        answer.raise_for_status()
        return answer.json()

    async def start_chat(
        self, bot: str, *, encrypted: bool = False, others: tuple[str, ...] = ()
    ) -> str:
        """A direct chat with the bot, as Element's "Start chat" makes it."""
        body: dict[str, Any] = {
            "preset": "trusted_private_chat",
            "is_direct": not others,
            "invite": [bot, *others],
        }
        if encrypted:
            body["initial_state"] = [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
        return str((await self.call("POST", "/createRoom", body))["room_id"])

    async def join(self, room_id: str) -> None:
        await self.call("POST", f"/join/{quote(room_id)}", {})

    async def create_group(self, bot: str) -> str:
        """A public room with the bot in it, which others join by its id."""
        body = {"preset": "public_chat", "invite": [bot]}
        return str((await self.call("POST", "/createRoom", body))["room_id"])

    async def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        path = f"/rooms/{quote(room_id)}/send/{event_type}/t{next(self._txn)}-{time.time_ns()}"
        return str((await self.call("PUT", path, content))["event_id"])

    async def say(self, room_id: str, text: str) -> str:
        return await self.send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    async def sticker(self, room_id: str) -> str:
        """What Element sends from its sticker picker: an event of its own type, no text."""
        info = {"mimetype": "image/png", "w": 64, "h": 64, "size": 100}
        content = {"body": "👍", "url": f"mxc://{SERVER_NAME}/sticker", "info": info}
        return await self.send(room_id, "m.sticker", content)

    async def events(self, room_id: str) -> list[dict[str, Any]]:
        """The room's events, oldest first."""
        data = await self.call("GET", f"/rooms/{quote(room_id)}/messages", dir="b", limit="200")
        return list(reversed(data["chunk"]))

    async def from_bot(self, room_id: str, bot: str) -> list[dict[str, Any]]:
        """The contents of the bot's messages in the room, oldest first."""
        return [
            e["content"]
            for e in await self.events(room_id)
            if e["type"] == "m.room.message" and e["sender"] == bot
        ]

    async def wait_from_bot(
        self, room_id: str, bot: str, count: int, seconds: float = 15
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while True:
            found = await self.from_bot(room_id, bot)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} messages from the bot: {found}")
            await asyncio.sleep(0.02)

    async def wait_joined(self, room_id: str, user: str, seconds: float = 10) -> float:
        """How long until `user` joined the room."""
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            members = await self.call("GET", f"/rooms/{quote(room_id)}/joined_members")
            if user in members["joined"]:
                return time.monotonic() - start
            await asyncio.sleep(0.02)
        raise TimeoutError(f"{user} did not join {room_id}")

    async def download(self, mxc: str) -> bytes:
        server, media = mxc.removeprefix("mxc://").split("/", 1)
        answer = await self.http.get(
            f"{self.hs.url}/_matrix/client/v1/media/download/{server}/{media}"
        )
        answer.raise_for_status()
        return answer.content
