"""The product's one web server: everything it serves over HTTP besides the channels' webhooks.

Today the signed file links and a health check; configured by DONDOC_FILES_URL (the public
base of the links), DONDOC_FILES_LISTEN and DONDOC_FILES_SECRET.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tornado.httpserver import HTTPServer
from tornado.routing import PathMatches, Rule
from tornado.web import Application, RequestHandler

from bot.files import FileLinks, file_routes


class _Health(RequestHandler):
    """For the operator's monitoring and the load balancer: the process serves."""

    def get(self) -> None:
        self.finish({"ok": True})


async def start_web_server(
    links: FileLinks, sessions: async_sessionmaker[AsyncSession], listen: str
) -> HTTPServer:
    """Serve the routes on `listen` (host:port), behind the operator's TLS proxy."""
    host, _, port = listen.rpartition(":")
    rules = [Rule(PathMatches(r"/health"), _Health), *file_routes(links, sessions)]
    server = HTTPServer(Application(rules))
    server.listen(int(port), host or "127.0.0.1")
    return server
