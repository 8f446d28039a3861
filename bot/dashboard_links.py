"""Signed links to the dashboard: bound to one chat account and its official, valid 12 hours.

`{base}/{account}-{official}-{expires}-{signature}/`: the signature covers all three, so a
link cannot be stretched or handed to another account; the web server also checks, at each
page, that the account is still linked to that official and that the official is active.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from models.clock import Clock

VALID_HOURS = 12
TOKEN = re.compile(r"(\d{1,12})-(\d{1,12})-(\d{1,12})-([0-9a-f]{32})")


class Refused(StrEnum):
    """Why a page is refused; each has its own clear page."""

    INVALID = "invalid"  # not a link we made, or changed by hand
    EXPIRED = "expired"
    REVOKED = "revoked"  # the account was unlinked or the official deactivated since
    NOT_ALLOWED = "not_allowed"  # the holder may not see this page (a specialist, another unit)


@dataclass(frozen=True)
class Pass:
    """What a valid link says: whose chat account, which official."""

    account_id: int
    official_id: int
    expires: datetime


def dashboard_base(files_url: str) -> str:
    """Beside the file links on the same web server: `…/files` → `…/dashboard`."""
    parts = urlsplit(files_url)
    parent = parts.path.rstrip("/").rpartition("/")[0]
    return urlunsplit((parts.scheme, parts.netloc, f"{parent}/dashboard", "", ""))


@dataclass(frozen=True)
class DashboardLinks:
    base_url: str  # public, e.g. https://dondoc.example.gov.vn/dashboard
    secret: str
    clock: Clock

    @property
    def path(self) -> str:
        return urlsplit(self.base_url).path.rstrip("/")

    def _signature(self, account_id: int, official_id: int, expires: int) -> str:
        message = f"dashboard:{account_id}:{official_id}:{expires}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:32]

    def token(self, account_id: int, official_id: int) -> tuple[str, datetime]:
        expires = self.clock.now() + timedelta(hours=VALID_HOURS)
        stamp = int(expires.timestamp())
        return (
            f"{account_id}-{official_id}-{stamp}-{self._signature(account_id, official_id, stamp)}",
            expires,
        )

    def url(self, account_id: int, official_id: int) -> tuple[str, datetime]:
        """The link to give, and when it stops working."""
        token, expires = self.token(account_id, official_id)
        return f"{self.base_url.rstrip('/')}/{token}/", expires

    def check(self, token: str) -> Pass | Refused:
        """The link's account and official when the signature holds and it has not expired."""
        found = TOKEN.fullmatch(token)
        if found is None:
            return Refused.INVALID
        account_id, official_id, stamp = (int(found[i]) for i in (1, 2, 3))
        expected = self._signature(account_id, official_id, stamp)
        if not hmac.compare_digest(expected, found[4]):
            return Refused.INVALID
        if self.clock.now() >= datetime.fromtimestamp(stamp, UTC):
            return Refused.EXPIRED
        return Pass(account_id, official_id, datetime.fromtimestamp(stamp, UTC))
