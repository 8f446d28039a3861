"""The homeserver as the Matrix adapter talks to it: a matrix-nio client and its errors."""

from __future__ import annotations

from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, ErrorResponse

from bot.config import Settings

REQUEST_SECONDS = 30
NETWORK = (aiohttp.ClientError, TimeoutError)
# What a homeserver says when the account itself is refused: a wrong password or token, a
# deactivated user. Anything else at start-up (5xx, 429, the network) is worth a retry.
REFUSALS = {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_DEACTIVATED"}


class MatrixError(Exception):
    """An error answer from the homeserver, with what the sender and the runtime decide on."""

    def __init__(self, response: ErrorResponse) -> None:
        transport = getattr(response, "transport_response", None)
        self.http_status = int(transport.status) if transport is not None else 0
        self.errcode = str(response.status_code or "")
        self.retry_after = response.retry_after_ms / 1000 if response.retry_after_ms else None
        super().__init__(f"{self.http_status} {self.errcode}: {response.message}")

    @property
    def refused(self) -> bool:
        return self.errcode in REFUSALS or self.http_status in (401, 403)

    @property
    def bad_token(self) -> bool:
        return self.errcode in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN") or self.http_status == 401


def checked(response: Any) -> Any:
    """nio answers errors as values; the adapter handles them as exceptions."""
    if isinstance(response, ErrorResponse):
        raise MatrixError(response)
    return response


def new_client(settings: Settings) -> AsyncClient:
    # nio would otherwise wait out 429s and timeouts itself, forever: the outbox decides.
    config = AsyncClientConfig(
        max_limit_exceeded=0, max_timeouts=0, request_timeout=REQUEST_SECONDS
    )
    return AsyncClient(settings.matrix_homeserver.rstrip("/"), settings.matrix_user, config=config)
