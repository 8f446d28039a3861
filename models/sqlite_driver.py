"""aiosqlite with one trip to its thread per statement, not four.

SQLAlchemy's aiosqlite adapter opens a cursor, executes, fetches and closes, each an await
on aiosqlite's worker thread: a hand-over to that thread and a wake-up of the event loop
through its self-pipe. On a busy two-core machine each trip costs about 0.1 ms, a command's
dozen statements four of them each. Here the four steps run as one call in the worker thread;
everything else (the connection, transactions, server-side cursors for `load_all`) is the
adapter's own.

A write whose outcome nobody reads (a task's trail rows after its UPDATE: an `executemany`
marked by `models.held_writes.with_next`) does not travel alone: it waits on the connection
and runs in the thread just before the transaction's next statement, or its commit, in that
one trip. It still runs in its transaction and in order. A failure of it rolls the transaction
back at once and fails that next statement, every later one and the commit, until the
transaction ends: caught and ignored by the caller (a savepoint's `except IntegrityError`),
it could otherwise let the change commit without its trail. A rollback drops it unrun.
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

from models.held_writes import WITH_NEXT

_Outcome = tuple[Any, list[Any], int | None, int]
_Pending = list[tuple[str, Any]]


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


def _after_pending(
    connection: sqlite3.Connection,
    pending: _Pending,
    failed: list[BaseException],
    step: Any,
    *arguments: Any,
) -> Any:
    """In the worker thread: the writes waiting on the connection, then this step. A failure
    of the waiting writes is also put in `failed`, for the connection to remember."""
    try:
        for operation, rows in pending:
            _execute_many(connection, operation, rows)
    except Exception as error:
        connection.rollback()  # nothing of this transaction may be committed now
        failed.append(error)
        raise
    return step(connection, *arguments)


def _commit(connection: sqlite3.Connection) -> None:
    connection.commit()


async def _nothing() -> None:
    return None


def _none(connection: sqlite3.Connection) -> None:
    """Nothing more: the writes waiting were the trip."""


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """The adapter's buffered cursor, its statement run in one call on the worker thread."""

    __slots__ = ()

    def _run(self, step: Any, operation: str, parameters: Any) -> None:
        connection = self._connection
        adapted: _Connection = self._adapt_connection  # type: ignore[assignment]
        adapted.refuse_if_failed()
        pending, failed = adapted.take_pending(), []
        try:
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(
                    _after_pending, connection._conn, pending, failed, step, operation, parameters
                )
                if pending
                else connection._execute(step, connection._conn, operation, parameters)
            )
        except Exception as error:
            adapted.remember(failed)
            adapted._handle_exception(error)
        self.description = description
        self._rows = deque(rows)
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(_execute, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        if WITH_NEXT in operation:
            self._adapt_connection.refuse_if_failed()  # type: ignore[attr-defined]
            rows = list(seq_of_parameters)
            self._adapt_connection.hold(operation, rows)  # type: ignore[attr-defined]
            self.description, self._rows = None, deque()
            self.lastrowid, self.rowcount = None, len(rows)
            # An await that never reaches the loop: SQLAlchemy's async connection insists
            # that each statement awaited something.
            self.await_(_nothing())
            return
        self._run(_execute_many, operation, seq_of_parameters)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_failed", "_pending")

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._pending: _Pending = []
        self._failed: BaseException | None = None

    def remember(self, failed: list[BaseException]) -> None:
        """A held write failed: the transaction is spoiled until it is rolled back."""
        if failed:
            self._failed = failed[0]

    def refuse_if_failed(self, *, ending: bool = False) -> None:
        """Fail as the held write did, until the transaction ends: its rollback, or the
        commit, refused once (SQLAlchemy rolls nothing back after a failed commit; the
        thread rolled the transaction back when the write failed)."""
        if self._failed is not None:
            error = self._failed
            if ending:
                self._failed = None
            raise type(error)(*error.args)

    def hold(self, operation: str, rows: list[Any]) -> None:
        """A write for the next trip (`WITH_NEXT`)."""
        self._pending.append((operation, rows))

    def take_pending(self) -> _Pending:
        pending, self._pending = self._pending, []
        return pending

    def _idle(self) -> bool:
        """No transaction open (sqlite3 begins one only before a write): a commit or a
        rollback would do nothing, so it need not travel. The pool rolls back every
        connection handed back to it, and most are idle by then."""
        try:
            return not self._connection._conn.in_transaction
        except ValueError:  # closed: the adapter's own call raises the right error
            return False

    def commit(self) -> None:
        self.refuse_if_failed(ending=True)
        if pending := self.take_pending():  # the waiting writes and the commit: one trip
            connection, failed = self._connection, []
            try:
                self.await_(
                    connection._execute(_after_pending, connection._conn, pending, failed, _commit)
                )
            except Exception as error:
                self.remember(failed)
                self._handle_exception(error)
        elif not self._idle():
            super().commit()

    def rollback(self) -> None:
        self._pending, self._failed = [], None  # never run: nothing of them to undo
        if not self._idle():
            super().rollback()

    def close(self) -> None:
        self._pending, self._failed = [], None
        super().close()

    def _flush(self) -> None:
        """The waiting writes, alone, before a statement that does not take them along."""
        self.refuse_if_failed()
        if pending := self.take_pending():
            connection, failed = self._connection, []
            try:
                self.await_(
                    connection._execute(_after_pending, connection._conn, pending, failed, _none)
                )
            except Exception as error:
                self.remember(failed)
                self._handle_exception(error)

    def execute(self, *args: Any, **kw: Any) -> Any:
        self._flush()
        return super().execute(*args, **kw)

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:  # streamed a partition at a time: the adapter's own, trip by trip
            self._flush()
            return AsyncAdapt_aiosqlite_ss_cursor(self)
        return _Cursor(self)


class _Module(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> _Connection:
        adapted = super().connect(*args, **kwargs)
        return _Connection(self, adapted._connection)


def one_trip_module() -> Any:
    """The DBAPI module to hand `create_async_engine(…, module=…)` for `sqlite+aiosqlite`."""
    return _Module(aiosqlite, sqlite3)
