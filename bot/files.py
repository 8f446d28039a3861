"""Signed links to stored attachments, and the route that serves them.

Zalo's bot cannot upload a file: it sends a photo by its URL and nothing else. So a report's
chart and workbook, or an urging letter, reach Zalo as a link served by the web server. Each link names
one attachment and the day it expires, signed with a secret, so nobody can walk the others.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tornado.routing import PathMatches, Rule
from tornado.web import RequestHandler

from models.attachments import attachment
from models.clock import Clock, local_date

VALID_DAYS = 30


@dataclass(frozen=True)
class FileLinks:
    """`{base}/{id}/{expires}/{signature}/{filename}`: what a link says, and its check."""

    base_url: str  # public, e.g. https://dondoc.example.gov.vn/files
    secret: str
    clock: Clock

    def _signature(self, attachment_id: int, expires: str) -> str:
        message = f"{attachment_id}:{expires}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:32]

    def url(self, attachment_id: int, filename: str) -> str:
        expires = (local_date(self.clock.now()) + timedelta(days=VALID_DAYS)).isoformat()
        signature = self._signature(attachment_id, expires)
        return (
            f"{self.base_url.rstrip('/')}/{attachment_id}/{expires}/{signature}/{quote(filename)}"
        )

    def valid(self, attachment_id: int, expires: str, signature: str) -> bool:
        try:
            last_day = date.fromisoformat(expires)
        except ValueError:
            return False
        expected = self._signature(attachment_id, expires)
        return hmac.compare_digest(expected, signature) and local_date(self.clock.now()) <= last_day


class _FileHandler(RequestHandler):
    def initialize(self, links: FileLinks, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.links, self.sessions = links, sessions

    async def get(self, attachment_id: str, expires: str, signature: str, _name: str) -> None:
        if not self.links.valid(int(attachment_id), expires, signature):
            self.send_error(404)  # expired or forged: the same answer, nothing to learn
            return
        async with self.sessions() as session:
            found = await attachment(session, int(attachment_id))
        if found is None:
            self.send_error(404)
            return
        self.set_header("Content-Type", found.media_type)
        self.set_header("Content-Disposition", f"inline; filename*=UTF-8''{quote(found.filename)}")
        self.finish(found.content)


def file_routes(links: FileLinks, sessions: async_sessionmaker[AsyncSession]) -> list[Rule]:
    """The links' route, under the path of the public base URL, for the web server."""
    path = urlsplit(links.base_url).path.rstrip("/")
    route = rf"{path}/(\d+)/([0-9-]+)/([0-9a-f]+)/([^/]+)"
    return [Rule(PathMatches(route), _FileHandler, {"links": links, "sessions": sessions})]
