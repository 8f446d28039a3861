"""The channels' webhooks (Telegram's and Zalo's), as an attacker meets them.

A POST is refused (403) unless it carries the channel's secret, compared in constant time,
and the check comes before the body is read; the body is capped at 1 MB (a longer one is
refused, the connection closed); anything but a JSON object of the channel's update shape
is a bad request (400), however deep its nesting; a replayed update is handled once (the
core keys what it writes by the update). Never a 500 for what a sender can choose.

An update is answered 200 only once its change and its replies are committed (`handle`
returns then, with what to do after answering: send the replies). A process killed before
that answers nothing, so the balancer (or the platform) gives the update to another process;
if nothing could be committed the answer is 503 and the platform tries again. Any number of
processes may serve one URL behind a balancer.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.routing import Rule
from tornado.web import Application, RequestHandler, stream_request_body

from handlers.router import NotRecorded

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024

Parse = Callable[[dict[str, Any]], Any]  # an update, or None to ignore; raises when malformed
After = Callable[[], Awaitable[None]]
# Records the update (its change and replies committed) and returns what to do once the 200
# has gone, or None; raises NotRecorded when nothing could be committed.
Handle = Callable[[Any], Awaitable[After | None]]


@stream_request_body
class WebhookHandler(RequestHandler):
    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, name: str, secret: str, header: str, parse: Parse, handle: Handle) -> None:
        self.name, self.secret, self.header = name, secret, header
        self.parse, self.handle = parse, handle
        self.body = bytearray()

    def prepare(self) -> None:
        given = self.request.headers.get(self.header, "").encode()
        if not self.secret or not hmac.compare_digest(given, self.secret.encode()):
            self._refuse(403)  # unread: the body is not ours to look at
            return
        length = self.request.headers.get("Content-Length", "")
        if length.isascii() and length.isdigit() and int(length) > MAX_BODY:
            self._refuse(413)
            return
        self.request.connection.set_max_body_size(MAX_BODY)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self.body += chunk  # at most MAX_BODY: the connection enforces it

    async def post(self) -> None:
        try:
            # Deep nesting makes the parser recurse until it gives up: a bad request too.
            data = json.loads(bytes(self.body))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = self.parse(data)
        except (ValueError, RecursionError):
            self._refuse(400)
            return
        except Exception as error:  # the channel's own parser met a shape it does not know
            log.info("%s webhook: not an update (%s)", self.name, type(error).__name__)
            self._refuse(400)
            return
        after = None
        if update is not None:
            try:
                after = await self.handle(update)
            except NotRecorded:  # nothing committed: the platform (or the balancer) tries again
                self._refuse(503)
                return
        self.finish({"ok": True})
        if after is not None:
            await after()

    def _refuse(self, status: int) -> None:
        self.set_status(status)
        self.finish({"ok": False})


def serve_webhook(
    name: str,
    listen: str,
    path: str,
    secret: str,
    header: str,
    parse: Parse,
    handle: Handle,
    extra: list[Rule] | None = None,
) -> HTTPServer:
    """Listen on `listen` (host:port) for POSTs to `path`, and serve `extra` beside them
    (/healthz and /metrics for the balancer and the monitoring)."""
    routes: list[Any] = [
        (
            path or "/",
            WebhookHandler,
            {"name": name, "secret": secret, "header": header, "parse": parse, "handle": handle},
        ),
        *(extra or []),
    ]

    def log_failures(handler: RequestHandler) -> None:
        """The access log: only what failed on our side."""
        if handler.get_status() >= 500:
            log.warning("%s webhook: %s %s", name, handler.get_status(), handler.request.uri)

    server = HTTPServer(Application(routes, log_function=log_failures), max_body_size=MAX_BODY)
    host, _, port = listen.rpartition(":")
    server.listen(int(port), host or "127.0.0.1")
    return server
