"""aiosqlite with one trip to its thread per statement, not four.

SQLAlchemy's aiosqlite adapter opens a cursor, executes, fetches and closes, each an await
on aiosqlite's worker thread: a hand-over to that thread and a wake-up of the event loop
through its self-pipe. On a busy two-core machine each trip costs about 0.1 ms, a command's
dozen statements four of them each. Here the four steps run as one call in the worker thread;
everything else (the connection, transactions, server-side cursors for `load_all`) is the
adapter's own.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)

_Outcome = tuple[Any, list[Any], int | None, int]


def _execute(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    """In the worker thread: the statement, all its rows, and what the cursor says of it."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _execute_many(connection: sqlite3.Connection, operation: str, rows: Any) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, rows)
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """The adapter's buffered cursor, its statement run in one call on the worker thread."""

    __slots__ = ()

    def _run(self, step: Any, operation: str, parameters: Any) -> None:
        connection = self._connection
        try:
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(step, connection._conn, operation, parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        self._rows = deque(rows)
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(_execute, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(_execute_many, operation, seq_of_parameters)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def _idle(self) -> bool:
        """No transaction open (sqlite3 begins one only before a write): a commit or a
        rollback would do nothing, so it need not travel. The pool rolls back every
        connection handed back to it, and most are idle by then."""
        try:
            return not self._connection._conn.in_transaction
        except ValueError:  # closed: the adapter's own call raises the right error
            return False

    def commit(self) -> None:
        if not self._idle():
            super().commit()

    def rollback(self) -> None:
        if not self._idle():
            super().rollback()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:  # streamed a partition at a time: the adapter's own, trip by trip
            return AsyncAdapt_aiosqlite_ss_cursor(self)
        return _Cursor(self)


class _Module(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> _Connection:
        adapted = super().connect(*args, **kwargs)
        return _Connection(self, adapted._connection)


def one_trip_module() -> Any:
    """The DBAPI module to hand `create_async_engine(…, module=…)` for `sqlite+aiosqlite`."""
    return _Module(aiosqlite, sqlite3)
