"""The product's one web server: everything it serves over HTTP besides the channels' webhooks.

Today the signed file links and a health check; configured by DONDOC_FILES_URL (the public
base of the links), DONDOC_FILES_LISTEN and DONDOC_FILES_SECRET.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tornado.httpserver import HTTPServer
from tornado.routing import PathMatches, Rule
from tornado.web import Application, RequestHandler

from bot.files import FileLinks
from bot.webhook import MAX_BODY
from models.attachments import attachment


class _Health(RequestHandler):
    """For the operator's monitoring and the load balancer: the process serves."""

    def get(self) -> None:
        self.finish({"ok": True})


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
    # ASCII digits, as many as an id can have: anything else is not a link (404), not a 500.
    route = rf"{path}/([0-9]{{1,18}})/([0-9-]{{10}})/([0-9a-f]{{32}})/([^/]+)"
    return [Rule(PathMatches(route), _FileHandler, {"links": links, "sessions": sessions})]


async def start_web_server(
    links: FileLinks, sessions: async_sessionmaker[AsyncSession], listen: str
) -> HTTPServer:
    """Serve the routes on `listen` (host:port), behind the operator's TLS proxy."""
    host, _, port = listen.rpartition(":")
    rules = [Rule(PathMatches(r"/health"), _Health), *file_routes(links, sessions)]
    # Nothing here takes a body: one over the webhooks' cap is refused before it is read.
    server = HTTPServer(Application(rules), max_body_size=MAX_BODY)
    server.listen(int(port), host or "127.0.0.1")
    return server
