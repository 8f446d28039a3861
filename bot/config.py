"""The program's one settings object, read once from the environment (DONDOC_*) at start-up.

Nothing else reads the environment: jobs get their `Cadence` from here, channels their
tokens and limits, the web server its address.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bot.files import VALID_DAYS
from models.defaults import (
    DEFAULT_DATABASE_URL,
    DEFAULT_DUE_SOON_DAYS,
    DEFAULT_SQLITE_SYNCHRONOUS,
    SQLITE_SYNCHRONOUS,
    Nagging,
    Shift,
)

if TYPE_CHECKING:  # loaded when asked for: reading the settings needs no SQLAlchemy
    from jobs.cadence import Cadence
    from models.retention import Retention
    from models.scoring import Formula

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    language: str = "vi"
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS
    telegram_token: str = ""
    telegram_api_url: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1:8443"
    sandbox_port: int = 8765
    send_per_second: float = 30.0
    send_per_chat_seconds: float = 1.0
    send_per_group_minute: int = 20  # Telegram's limit in a group (a chat with a negative id)
    zalo_token: str = ""
    zalo_api_url: str = ""
    zalo_webhook_url: str = ""
    zalo_webhook_secret: str = ""
    zalo_webhook_listen: str = "127.0.0.1:8444"
    # Zalo publishes no flood limits: go slowly, and honour its 429s.
    zalo_send_per_second: float = 5.0
    zalo_send_per_chat_seconds: float = 1.0
    matrix_homeserver: str = ""  # base URL, e.g. https://matrix.thanhpho.gov.vn
    matrix_user: str = ""  # the bot's full id, e.g. @dondoc:thanhpho.gov.vn
    matrix_password: str = ""  # logs in once; the device and token are kept in the database
    matrix_token: str = ""  # or an access token made elsewhere
    # Synapse lets a user send about 0.2 messages a second with bursts of 10 unless the
    # operator lifts the bot's limit (README); its 429s are honoured either way.
    matrix_send_per_second: float = 5.0
    matrix_send_per_chat_seconds: float = 0.5  # one room's messages spaced, so read in order
    files_url: str = ""  # public base URL of the file links (Zalo gets files as links)
    files_listen: str = "127.0.0.1:8445"
    files_secret: str = ""
    scheduler: bool = True  # run the jobs in the bot's process (off: `dondoc tick` from cron)
    sweep_seconds: float = 300.0  # the leader's sweep interval
    database_pool_size: int = 10  # PostgreSQL connections a process keeps (as many again on bursts)
    work_start: time = time(7, 30)
    work_end: time = time(17, 0)
    reminder_days: tuple[int, ...] = (7, 3, 1)
    alerts_at_once: bool = False
    overdue_alert_days: int = 7
    extension_horizon_days: int = 730  # the latest deadline /giahan may ask, from today
    log_level: str = "INFO"
    sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS
    keep_sent_days: int = 90
    keep_attachment_days: int = VALID_DAYS  # no shorter than the life of a file link
    keep_link_code_days: int = 30
    prune_at: time = time(2, 30)
    nagging: Nagging = field(default_factory=Nagging)  # DONDOC_STALE_DAYS, DONDOC_RISK_*, …
    recurrence_lead_days: int = 10
    recurrence_shift: Shift = Shift.PREVIOUS
    scoring_file: str = ""  # the operator's scoring formula; empty: the one shipped

    @cached_property
    def formula(self) -> Formula:
        """The published scoring formula, read once (a wrong file stops the start)."""
        from models.scoring import Formula

        return Formula.load(Path(self.scoring_file) if self.scoring_file else None)

    @property
    def retention(self) -> Retention:
        from models.retention import Retention

        return Retention(
            sent_days=self.keep_sent_days,
            attachment_days=self.keep_attachment_days,
            link_code_days=self.keep_link_code_days,
        )

    @property
    def matrix(self) -> bool:
        """Matrix is configured: a homeserver, the bot's id, and a password or a token."""
        return bool(
            self.matrix_homeserver
            and self.matrix_user
            and (self.matrix_password or self.matrix_token)
        )

    @property
    def cadence(self) -> Cadence:
        """When the jobs send what, as the jobs read it."""
        from jobs.cadence import Cadence

        return Cadence(
            work_start=self.work_start,
            work_end=self.work_end,
            reminder_offsets=self.reminder_days,
            alerts_at_once=self.alerts_at_once,
            overdue_alert_days=self.overdue_alert_days,
            due_soon_days=self.due_soon_days,
            prune_at=self.prune_at,
            retention=self.retention,
            nagging=self.nagging,
            recurrence_lead_days=self.recurrence_lead_days,
            recurrence_shift=self.recurrence_shift,
            formula=self.formula,
        )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        settings = cls._read(dict(os.environ if env is None else env))
        settings.formula  # noqa: B018 — a wrong formula file stops the start here, named
        return settings

    @classmethod
    def _read(cls, env: dict[str, str]) -> Settings:
        reminder_days = env.get("DONDOC_REMINDER_DAYS")
        return cls(
            database_url=env.get("DONDOC_DATABASE_URL") or DEFAULT_DATABASE_URL,
            language=env.get("DONDOC_LANGUAGE") or "vi",
            due_soon_days=int(env.get("DONDOC_DUE_SOON_DAYS") or DEFAULT_DUE_SOON_DAYS),
            telegram_token=env.get("DONDOC_TELEGRAM_TOKEN", ""),
            telegram_api_url=env.get("DONDOC_TELEGRAM_API_URL", ""),
            webhook_url=env.get("DONDOC_WEBHOOK_URL", ""),
            webhook_secret=env.get("DONDOC_WEBHOOK_SECRET", ""),
            webhook_listen=env.get("DONDOC_WEBHOOK_LISTEN") or "127.0.0.1:8443",
            sandbox_port=int(env.get("DONDOC_SANDBOX_PORT") or 8765),
            send_per_second=float(env.get("DONDOC_SEND_PER_SECOND") or 30),
            send_per_chat_seconds=float(env.get("DONDOC_SEND_PER_CHAT_SECONDS") or 1),
            send_per_group_minute=int(env.get("DONDOC_SEND_PER_GROUP_MINUTE") or 20),
            scheduler=(env.get("DONDOC_SCHEDULER") or "1") not in ("0", "false", "no"),
            sweep_seconds=float(env.get("DONDOC_SWEEP_SECONDS") or 300),
            database_pool_size=int(env.get("DONDOC_DATABASE_POOL_SIZE") or 10),
            files_url=env.get("DONDOC_FILES_URL", ""),
            files_listen=env.get("DONDOC_FILES_LISTEN") or "127.0.0.1:8445",
            files_secret=env.get("DONDOC_FILES_SECRET", ""),
            zalo_token=env.get("DONDOC_ZALO_TOKEN", ""),
            zalo_api_url=env.get("DONDOC_ZALO_API_URL", ""),
            zalo_webhook_url=env.get("DONDOC_ZALO_WEBHOOK_URL", ""),
            zalo_webhook_secret=env.get("DONDOC_ZALO_WEBHOOK_SECRET", ""),
            zalo_webhook_listen=env.get("DONDOC_ZALO_WEBHOOK_LISTEN") or "127.0.0.1:8444",
            zalo_send_per_second=float(env.get("DONDOC_ZALO_SEND_PER_SECOND") or 5),
            zalo_send_per_chat_seconds=float(env.get("DONDOC_ZALO_SEND_PER_CHAT_SECONDS") or 1),
            matrix_homeserver=env.get("DONDOC_MATRIX_HOMESERVER", ""),
            matrix_user=env.get("DONDOC_MATRIX_USER", ""),
            matrix_password=env.get("DONDOC_MATRIX_PASSWORD", ""),
            matrix_token=env.get("DONDOC_MATRIX_TOKEN", ""),
            matrix_send_per_second=float(env.get("DONDOC_MATRIX_SEND_PER_SECOND") or 5),
            matrix_send_per_chat_seconds=float(
                env.get("DONDOC_MATRIX_SEND_PER_CHAT_SECONDS") or 0.5
            ),
            work_start=time.fromisoformat(env.get("DONDOC_WORK_START") or "07:30"),
            work_end=time.fromisoformat(env.get("DONDOC_WORK_END") or "17:00"),
            reminder_days=tuple(sorted({int(x) for x in reminder_days.split(",")}, reverse=True))
            if reminder_days
            else (7, 3, 1),
            alerts_at_once=(env.get("DONDOC_ALERTS_AT_ONCE") or "0") in ("1", "true", "yes"),
            overdue_alert_days=int(env.get("DONDOC_OVERDUE_ALERT_DAYS") or 7),
            sqlite_synchronous=_choice(
                env, "DONDOC_SQLITE_SYNCHRONOUS", SQLITE_SYNCHRONOUS, DEFAULT_SQLITE_SYNCHRONOUS
            ),
            keep_sent_days=_days(env, "DONDOC_KEEP_SENT_DAYS", 90),
            keep_attachment_days=_days(
                env, "DONDOC_KEEP_ATTACHMENT_DAYS", VALID_DAYS, at_least=VALID_DAYS
            ),
            keep_link_code_days=_days(env, "DONDOC_KEEP_LINK_CODE_DAYS", 30),
            prune_at=time.fromisoformat(env.get("DONDOC_PRUNE_AT") or "02:30"),
            extension_horizon_days=int(env.get("DONDOC_EXTENSION_HORIZON_DAYS") or 730),
            log_level=(env.get("DONDOC_LOG_LEVEL") or "INFO").upper(),
            nagging=Nagging(
                stale_days=int(env.get("DONDOC_STALE_DAYS") or 10),
                risk_elapsed_percent=int(env.get("DONDOC_RISK_ELAPSED_PERCENT") or 70),
                risk_progress_percent=int(env.get("DONDOC_RISK_PROGRESS_PERCENT") or 30),
                risk_days_left=int(env.get("DONDOC_RISK_DAYS_LEFT") or 3),
                risk_days_left_progress_percent=int(
                    env.get("DONDOC_RISK_DAYS_LEFT_PROGRESS_PERCENT") or 50
                ),
                explain_after_days=int(env.get("DONDOC_EXPLAIN_AFTER_DAYS") or 10),
                explain_days=int(env.get("DONDOC_EXPLAIN_DAYS") or 5),
            ),
            recurrence_lead_days=int(env.get("DONDOC_RECURRENCE_LEAD_DAYS") or 10),
            recurrence_shift=Shift(
                _choice(env, "DONDOC_RECURRENCE_SHIFT", ("PREVIOUS", "NEXT"), "PREVIOUS").lower()
            ),
            scoring_file=env.get("DONDOC_SCORING_FILE", ""),
        )


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).upper()
    if value not in choices:
        raise ValueError(f"{name}={value}: one of {', '.join(choices)}")
    return value


def _days(env: dict[str, str], name: str, default: int, at_least: int = 1) -> int:
    """A number of days to keep something; 0 keeps it forever."""
    value = int(env.get(name) or default)
    if value != 0 and value < at_least:
        raise ValueError(f"{name}={value}: 0 (keep forever) or at least {at_least} days")
    return value
