"""The defaults the settings need, free of SQLAlchemy, so that reading the settings (and
`dondoc --help`) does not load it. `models.db` and `models.status` use them from here; the nagging thresholds and the
recurrence shift are plain values the settings build."""

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///dondoc.db"
# FULL: a commit is on the disk before the user is told it is recorded, even across a power
# cut (NORMAL in WAL mode may lose the last commits). See the README for what each costs.
SQLITE_SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA", "OFF")
DEFAULT_SQLITE_SYNCHRONOUS = "FULL"
DEFAULT_DUE_SOON_DAYS = 3


@dataclass(frozen=True)
class Nagging:
    """The thresholds (DONDOC_STALE_DAYS, DONDOC_RISK_*, DONDOC_EXPLAIN_*): README defaults."""

    stale_days: int = 10  # working days without an update before the specialist is nudged
    risk_elapsed_percent: int = 70  # at risk: this share of the working days gone …
    risk_progress_percent: int = 30  # … and progress at most this
    risk_days_left: int = 3  # or at most this many working days left …
    risk_days_left_progress_percent: int = 50  # … and progress below this
    explain_after_days: int = 10  # working days overdue before an explanation may be asked
    explain_days: int = 5  # working days the lead unit has to answer


class Shift(StrEnum):
    """Where an occurrence due on a non-working day goes (DONDOC_RECURRENCE_SHIFT)."""

    PREVIOUS = "previous"
    NEXT = "next"
