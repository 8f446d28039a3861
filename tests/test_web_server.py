"""The one web server (signed file links, /health) as an attacker meets it: no secret, a link
signed with another secret, an oversized body, JSON and deep nesting where nothing takes a
body, absurd ids, a replayed link — refused or served, never a 500."""

from __future__ import annotations

import socket
from dataclasses import replace

import httpx
import pytest

from bot.channels import ConfigError, file_links
from bot.config import Settings
from bot.files import FileLinks
from bot.web import start_web_server
from bot.webhook import MAX_BODY
from models.attachments import File, FileKind, store
from models.clock import FixedClock
from tests.conftest import NOW

SECRET = "bi-mat-thu-nghiem"


@pytest.fixture
async def served(sessions):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    links = FileLinks(f"http://127.0.0.1:{port}/files", SECRET, FixedClock(NOW))
    async with sessions() as session, session.begin():
        number = await store(
            session, "web:1", File(FileKind.DOCUMENT, "so lieu.csv", b"a;b\n"), NOW
        )
    server = await start_web_server(links, sessions, f"127.0.0.1:{port}")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        yield links, links.url(number, "so lieu.csv"), http
    server.stop()


def test_file_links_without_a_secret_are_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="DONDOC_FILES_SECRET"):
        file_links(Settings(files_url="https://x.example/files"), FixedClock(NOW))


async def test_a_link_is_served_again_and_again_and_one_signed_otherwise_never(served) -> None:
    links, url, http = served
    for _ in range(2):  # a replayed link: the same file, nothing changes
        response = await http.get(url)
        assert response.status_code == 200 and response.content == b"a;b\n"
    other = replace(links, secret="another secret").url(int(url.split("/")[-4]), "x.csv")
    assert (await http.get(other)).status_code == 404
    assert (await http.get(url.replace(url.split("/")[-2], "f" * 32))).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/files/" + "9" * 5000 + "/2026-12-01/" + "0" * 32 + "/x",  # more digits than int() takes
        "/files/99999999999999999999999/2026-12-01/" + "0" * 32 + "/x",
        "/files/١٢/2026-12-01/" + "0" * 32 + "/x",  # digits of another script
        "/files/1/9999-99-99/" + "0" * 32 + "/x",
        "/files/1/2026-12-01/" + "0" * 32 + "/../../etc/passwd",
    ],
)
async def test_absurd_links_are_not_found(served, path: str) -> None:
    _links, _url, http = served
    assert (await http.get(path)).status_code == 404


@pytest.mark.parametrize(
    "body", [b"[1]", b"null", b'"text"', b"[" * 100_000 + b"]" * 100_000, b"x" * (MAX_BODY + 1)]
)
async def test_bodies_are_not_taken_and_an_oversized_one_is_refused(served, body: bytes) -> None:
    _links, url, http = served
    for path in ("/health", url):
        try:
            status = (await http.post(path, content=body)).status_code
        except httpx.HTTPError:  # an oversized body: the connection is closed
            status = 0
        assert status in ((0, 413) if len(body) > MAX_BODY else (405,))
    assert (await http.get("/health")).json() == {"ok": True}
