"""The mark of a write that may wait for the transaction's next trip to the database.

Kept apart from `models/sqlite_driver.py`, which reads it, so that marking a statement does
not import aiosqlite (a PostgreSQL process never loads it).
"""

from __future__ import annotations

from sqlalchemy import Insert

# In an `executemany`'s SQL: on SQLite through `models/sqlite_driver.py` it runs in the
# thread just before the transaction's next statement or commit, in that one trip. A
# comment: PostgreSQL, and SQLite through any other driver, run it as written, at once.
WITH_NEXT = "/* with the next statement */"


def with_next(statement: Insert) -> Insert:
    """An INSERT whose outcome nobody reads (no RETURNING, its row count unasked)."""
    return statement.prefix_with(WITH_NEXT)
