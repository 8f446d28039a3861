"""Backups taken while commands write restore to a consistent database; a restore refuses
anything but a sound backup and then changes nothing."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from handlers.core import CoreSettings, Incoming
from handlers.router import Core
from locales import TIMEZONE
from models.accounts import ChatAccount, ChatChannel
from models.backup import Problem, Refused, backup_sqlite, check_sqlite, restore_sqlite
from models.clock import FixedClock
from models.db import create_engine, current_revision, head_revision
from tests.city import City
from tests.conftest import NOW
from tests.files import UNIT_HEADER, UNITS, write_csv

COMMANDS = 60
CHAT = "900"


def _counts(path: Path) -> tuple[int, int, int]:
    """(progress events of #4102, replies to the load's commands, rows of tasks)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        events = connection.execute(
            "SELECT count(*) FROM task_events WHERE task_id = 4102 AND note LIKE 'tải %'"
        ).fetchone()[0]
        replies = connection.execute(
            "SELECT count(*) FROM outbox WHERE key LIKE 'reply:telegram:update load %'"
        ).fetchone()[0]
        tasks = connection.execute("SELECT count(*) FROM tasks").fetchone()[0]
    return events, replies, tasks


def _sqlite_only(database_url: str) -> Path:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's own file")
    return Path(database_url.split("///", 1)[1])


async def test_a_backup_taken_while_commands_write_restores_consistent(
    database_url: str, engine, sessions, city: City, tmp_path: Path
) -> None:
    live = _sqlite_only(database_url)
    async with sessions() as session, session.begin():
        session.add(
            ChatAccount(
                channel=ChatChannel.TELEGRAM,
                external_user_id=CHAT,
                chat_id=CHAT,
                official_id=city.officials["SXD-CV"].id,
                linked_at=datetime(2026, 11, 1, tzinfo=TIMEZONE),
            )
        )
    core = Core(sessions, FixedClock(NOW), CoreSettings())

    async def load() -> int:
        for n in range(COMMANDS):
            text = f"/tiendo 4102 {n % 100} tải {n}"
            await core.handle(Incoming(ChatChannel.TELEGRAM, CHAT, CHAT, f"load {n}", text=text))
        return COMMANDS

    writing = asyncio.create_task(load())
    backups = []
    while not writing.done():
        target = tmp_path / f"backup-{len(backups)}.db"
        await asyncio.to_thread(backup_sqlite, live, target)
        backups.append(target)
        await asyncio.sleep(0.01)
    assert await writing == COMMANDS
    final = _counts(live)
    assert final[0] == final[1] == COMMANDS

    taken = [_counts(path) for path in backups]
    assert len(backups) >= 2
    for (events, replies, tasks), path in zip(taken, backups, strict=True):
        assert check_sqlite(path) == head_revision()  # integrity_check: ok
        # Each command wrote its event and its reply in one transaction: a backup holds both
        # or neither, whatever moment it caught.
        assert events == replies <= COMMANDS
        assert tasks == final[2]
    assert [t[0] for t in taken] == sorted(t[0] for t in taken)
    assert taken[-1][0] > 0

    restored = tmp_path / "restored.db"
    restore_sqlite(backups[-1], restored, force=False)
    assert _counts(restored) == taken[-1]
    check = create_engine(f"sqlite+aiosqlite:///{restored}")
    assert await current_revision(check) == head_revision()
    await check.dispose()


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_restore_refuses_a_damaged_or_foreign_file_and_changes_nothing(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    with sqlite3.connect(live) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES (?)", (head_revision(),))
        connection.execute("CREATE TABLE t (a TEXT)")
        connection.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 2000)
    connection.close()
    backup = tmp_path / "backup.db"
    backup_sqlite(live, backup)
    before = _fingerprint(live)

    text = tmp_path / "notes.db"
    text.write_text("không phải cơ sở dữ liệu")
    damaged = tmp_path / "damaged.db"
    data = bytearray(backup.read_bytes())
    data[4096 * 3 : 4096 * 3 + 2000] = b"\xff" * 2000  # a page in the middle overwritten
    damaged.write_bytes(bytes(data))
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE other (a)")
    connection.close()

    for path, problem in (
        (text, Problem.NOT_A_DATABASE),
        (damaged, Problem.DAMAGED),
        (foreign, Problem.NOT_OURS),
        (tmp_path / "missing.db", Problem.MISSING),
        (backup, Problem.EXISTS),  # a sound backup, but no --force
    ):
        with pytest.raises(Refused) as refused:
            restore_sqlite(path, live, force=False)
        assert refused.value.problem == problem
        assert _fingerprint(live) == before


def test_restore_refuses_a_database_another_process_has_open(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    with sqlite3.connect(live) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES (?)", (head_revision(),))
    connection.close()
    backup = tmp_path / "backup.db"
    backup_sqlite(live, backup)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]);"
            " c.execute('SELECT * FROM alembic_version').fetchall(); print('open', flush=True);"
            " time.sleep(60)",
            str(live),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(Refused) as refused:
            restore_sqlite(backup, live, force=True)
        assert refused.value.problem == Problem.IN_USE
    finally:
        holder.kill()
        holder.wait()
    restore_sqlite(backup, live, force=True)  # closed now (its lock went with it)


def test_backup_and_restore_from_the_command_line(
    dondoc, database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    units = write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS)
    assert dondoc("import", "units", str(units))[0] == 0
    backup = tmp_path / "city.backup"

    code, out, _ = dondoc("backup", str(backup))
    assert code == 0 and "Đã sao lưu" in out and backup.stat().st_size > 0
    code, _, err = dondoc("backup", str(backup))
    assert code == 2 and "đã tồn tại" in err

    code, _, err = dondoc("restore", str(backup))
    assert code == 2 and "đã có dữ liệu" in err and "--force" in err
    junk = tmp_path / "junk.backup"
    junk.write_text("không phải bản sao lưu")
    code, _, err = dondoc("restore", str(junk), "--force")
    assert code == 2 and "chưa có gì thay đổi" in err.lower()

    more = write_csv(tmp_path / "more.csv", UNIT_HEADER, [["P9", "Phường 9", "Quận", ""]])
    assert dondoc("import", "units", str(more))[0] == 0
    code, out, _ = dondoc("restore", str(backup), "--force")
    assert code == 0 and "Đã khôi phục" in out
    export = tmp_path / "tasks.csv"
    assert dondoc("export", "tasks", str(export))[0] == 0  # the schema is usable
    code, out, _ = dondoc("import", "units", str(more), "--dry-run")
    assert code == 0 and "1 mới" in out  # P9 is new again: the restore brought the backup back


def test_prune_from_the_command_line(dondoc) -> None:
    code, out, _ = dondoc("prune")
    assert code == 0 and "Đã xóa 0 tin nhắn đã gửi" in out and "0 báo cáo lưu sẵn" in out


def test_without_pg_dump_the_recipe_is_printed(
    dondoc, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's tools")
    monkeypatch.setattr("bot.operator.upkeep.shutil.which", lambda _name: None)
    code, _, err = dondoc("backup", str(tmp_path / "city.backup"))
    assert code == 2 and "apt-get install postgresql-client" in err
    assert "pg_dump --format=custom" in err and not (tmp_path / "city.backup").exists()
