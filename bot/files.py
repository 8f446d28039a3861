"""Signed links to stored attachments (the web server in `bot/web.py` serves them).

Zalo's bot cannot upload a file: it sends a photo by its URL and nothing else. So a report's
chart and workbook, or an urging letter, reach Zalo as a link served by the web server. Each link names
one attachment and the day it expires, signed with a secret, so nobody can walk the others.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote

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
