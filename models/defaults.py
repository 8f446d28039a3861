"""The defaults the settings need, free of SQLAlchemy, so that reading the settings (and
`dondoc --help`) does not load it. `models.db` and `models.status` use them from here."""

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///dondoc.db"
# FULL: a commit is on the disk before the user is told it is recorded, even across a power
# cut (NORMAL in WAL mode may lose the last commits). See the README for what each costs.
SQLITE_SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA", "OFF")
DEFAULT_SQLITE_SYNCHRONOUS = "FULL"
DEFAULT_DUE_SOON_DAYS = 3
