"""Copies of the database: SQLite's online backup with its checks, PostgreSQL's pg_dump and
pg_restore command lines.

An SQLite backup is one read transaction over the live file (the backup API in a single
step): in WAL mode the bot goes on writing meanwhile and the copy is the database as it was
at one moment. A restore writes through the same API into the target, in one transaction,
so a failed restore leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import SQLITE_BUSY_TIMEOUT_MS, alembic_config

SQLITE_HEADER = b"SQLite format 3\x00"
# SQLite's unix VFS: every connection to a WAL database holds a shared lock on this byte of
# the -shm file for as long as it is open (the "dead man switch" of the shared memory).
_SHM_DMS_BYTE = 128


class Problem(StrEnum):
    MISSING = "missing"  # no such file
    NOT_A_DATABASE = "not a database"
    DAMAGED = "damaged"  # integrity_check found faults
    NOT_OURS = "not ours"  # an SQLite file without our schema
    NEWER = "newer"  # a schema this version of the program does not know
    IN_USE = "in use"  # another process has the target open
    EXISTS = "exists"  # the target holds data and --force was not given


class Refused(Exception):
    """Why a backup or a restore did not happen; nothing was changed."""

    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class Copied:
    revision: str | None
    size: int


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def known_revisions() -> set[str]:
    return {
        s.revision
        for s in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()
    }


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return connection


def check_sqlite(path: Path) -> str | None:
    """The schema revision of a sound Đôn Đốc database file; refused if it is anything else."""
    if not path.is_file():
        raise Refused(Problem.MISSING, str(path))
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise Refused(Problem.NOT_A_DATABASE, str(path))
    try:
        with contextlib.closing(_connect(path, read_only=True)) as connection:
            faults = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if faults != ["ok"]:
                raise Refused(Problem.DAMAGED, "; ".join(faults[:3]))
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables:
                raise Refused(Problem.NOT_OURS, str(path))
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise Refused(Problem.DAMAGED, str(error)) from None
    return found[0] if found else None


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def backup_sqlite(
    source: Path, target: Path, step: Callable[[str], None] = lambda _name: None
) -> Copied:
    """Copy the live database `source` to the new file `target`, checked and on the disk;
    `step` hears "copy", "check" and "sync" as each begins (a progress bar)."""
    if not source.is_file():
        raise Refused(Problem.MISSING, str(source))
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    try:
        step("copy")
        with (
            contextlib.closing(_connect(source)) as live,
            contextlib.closing(sqlite3.connect(part)) as copy,
        ):
            live.backup(copy)  # one step: one snapshot, writers in WAL mode are not held up
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        step("check")
        revision = check_sqlite(part)
        step("sync")
        _fsync(part)
        os.replace(part, target)
        _fsync(target.parent)
    finally:
        part.unlink(missing_ok=True)
    return Copied(revision, target.stat().st_size)


def _locked_in_proc(shm: Path, locks: str) -> bool:
    """Whether /proc/locks lists a lock on the -shm file's dead-man byte: read, not probed,
    because opening and closing the file here would drop the locks this process holds."""
    info = shm.stat()
    device = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    for line in locks.splitlines():
        fields = line.replace("->", "").split()
        if device not in fields:
            continue
        start, end = fields[fields.index(device) + 1 : fields.index(device) + 3]
        if int(start) <= _SHM_DMS_BYTE and (end == "EOF" or int(end) >= _SHM_DMS_BYTE):
            return True
    return False


def sqlite_in_use(path: Path) -> bool:
    """Whether any connection has the database open (the bot, a `tick`, a sandbox)."""
    shm = path.with_name(path.name + "-shm")
    if not shm.exists():
        return False
    proc_locks = Path("/proc/locks")
    if proc_locks.exists():
        return _locked_in_proc(shm, proc_locks.read_text())
    try:
        import fcntl
    except ImportError:  # no way to tell: do not claim it is free
        return True
    with shm.open("rb+") as file:  # no connection of this process is open: safe to probe
        try:
            fcntl.lockf(file, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
        except OSError:
            return True
        fcntl.lockf(file, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE)
    return False


def _holds_data(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        with contextlib.closing(_connect(path)) as connection:
            return connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    except sqlite3.DatabaseError:
        return True  # something is there: overwrite it only when told to


def restore_sqlite(backup: Path, target: Path, *, force: bool) -> Copied:
    """Replace the database `target` by the checked `backup`, in one transaction."""
    revision = check_sqlite(backup)
    if revision is not None and revision not in known_revisions():
        raise Refused(Problem.NEWER, revision)
    if sqlite_in_use(target):
        raise Refused(Problem.IN_USE, str(target))
    if not force and _holds_data(target):
        raise Refused(Problem.EXISTS, str(target))
    with (
        contextlib.closing(_connect(backup, read_only=True)) as source,
        contextlib.closing(_connect(target)) as live,
    ):
        source.backup(live)
        live.execute("PRAGMA journal_mode=WAL")
    check_sqlite(target)
    return Copied(revision, target.stat().st_size)


# ------------------------------------------------------------------ PostgreSQL


def postgres_connection(url: str) -> tuple[list[str], dict[str, str]]:
    """pg_dump's and pg_restore's connection options for a URL, and the environment that
    carries the password (never on the command line, where `ps` would show it)."""
    parsed = make_url(url)
    options = []
    for flag, value in (("-h", parsed.host), ("-p", parsed.port), ("-U", parsed.username)):
        if value:
            options += [flag, str(value)]
    options += ["-d", parsed.database or ""]
    environment = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return options, environment


def pg_dump_command(url: str, target: Path) -> list[str]:
    options, _ = postgres_connection(url)
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", *options]


def pg_restore_command(url: str, backup: Path) -> list[str]:
    options, _ = postgres_connection(url)
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        *options,
        str(backup),
    ]


async def other_connections(engine: AsyncEngine) -> int:
    """How many other sessions have this PostgreSQL database open (a running bot, a tick)."""
    async with engine.connect() as connection:
        found = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    return int(found or 0)
