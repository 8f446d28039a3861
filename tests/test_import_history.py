"""Import never moves a task backwards: what officials did in the bot since the last import stays."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from bot.config import SAMPLE_DIR
from models import DeadlineChange, Task, TaskEvent, TaskStatus
from models.db import create_engine, session_factory
from models.deadlines import ChangeState
from models.task_changes import Actor, approve_extension, mark_done, request_extension, set_progress
from models.tasks import Channel
from paperwork.importing import import_tasks
from tests.conftest import NOW
from tests.files import TASK_HEADER, TASKS, write_csv
from tests.test_importing import load_register, snapshot

IN_CHAT = Actor(None, Channel.TELEGRAM, NOW)
NUMBERED = [row for row in TASKS if row[0]]  # 4101 not started, 4102 in progress, 4103 done


async def imported(session, tmp_path: Path, t) -> Path:
    await load_register(session, tmp_path, t)
    path = write_csv(tmp_path / "tasks.csv", TASK_HEADER, NUMBERED)
    assert (await import_tasks(session, path, t, now=NOW)).exit_code == 0
    return path


async def extend_in_chat(session, task_id: int, day: date) -> None:
    task = await session.get_one(Task, task_id)
    change = request_extension(session, task, IN_CHAT, day, "xin gia hạn")
    approve_extension(session, task, change, IN_CHAT)
    await session.commit()


async def test_reimport_keeps_a_task_done_in_chat_and_lists_the_row(session, tmp_path, t) -> None:
    path = await imported(session, tmp_path, t)
    mark_done(session, await session.get_one(Task, 4101), IN_CHAT, date(2026, 11, 24), "Đã xong")
    await session.commit()
    before = await snapshot(session)

    result = await import_tasks(session, path, t, now=NOW)
    assert result.ok and result.exit_code == 3
    [conflict] = result.conflicts
    assert (conflict.row, conflict.task_id) == (2, 4101)
    assert {d.field: (d.in_register, d.in_file) for d in conflict.disagreements} == {
        "status": (TaskStatus.DONE, TaskStatus.NOT_STARTED),
        "progress": (100, 0),
        "completed_date": (date(2026, 11, 24), None),
        "result": ("Đã xong", ""),
    }
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert await snapshot(session) == before


async def test_reimport_keeps_an_extension_approved_in_chat(session, tmp_path, t) -> None:
    path = await imported(session, tmp_path, t)
    await extend_in_chat(session, 4102, date(2027, 1, 15))

    result = await import_tasks(session, path, t, now=NOW)
    assert [(c.task_id, [d.field for d in c.disagreements]) for c in result.conflicts] == [
        (4102, ["deadline"])
    ]
    session.expire_all()
    assert (await session.get_one(Task, 4102)).deadline == date(2027, 1, 15)
    approved = await session.scalar(
        select(func.count())
        .select_from(DeadlineChange)
        .where(DeadlineChange.task_id == 4102, DeadlineChange.state == ChangeState.APPROVED)
    )
    assert approved == 1  # no second "extension approved" moving the deadline back


async def test_the_other_rows_are_imported_beside_a_conflict(session, tmp_path, t) -> None:
    await imported(session, tmp_path, t)
    await set_progress(session, await session.get_one(Task, 4102), IN_CHAT, 40, "")
    await session.commit()
    rows = [[*row] for row in NUMBERED]
    rows[0][6] = "Rà soát hồ sơ GPMB (sửa)"  # 4101: changed in the file only
    rows[1][6] = "Tham mưu kế hoạch CCHC 2027 (sửa)"  # 4102: the conflict's other change
    result = await import_tasks(
        session, write_csv(tmp_path / "b.csv", TASK_HEADER, rows), t, now=NOW
    )
    assert [c.task_id for c in result.conflicts] == [4102]
    assert (result.updated, result.unchanged) == (1, 1)
    session.expire_all()
    assert (await session.get_one(Task, 4101)).content.endswith("(sửa)")
    kept = await session.get_one(Task, 4102)
    assert (kept.progress, kept.content) == (40, "Tham mưu kế hoạch CCHC 2027")


async def test_a_file_that_agrees_with_the_bot_is_no_conflict(session, tmp_path, t) -> None:
    await imported(session, tmp_path, t)
    mark_done(session, await session.get_one(Task, 4101), IN_CHAT, date(2026, 11, 24), "Xong")
    await session.commit()
    rows = [[*row, "", ""] for row in NUMBERED]
    rows[0][13:17] = ["hoàn thành", "24/11/2026", "100", "Xong"]
    header = [*TASK_HEADER, "progress", "result"]
    result = await import_tasks(session, write_csv(tmp_path / "b.csv", header, rows), t, now=NOW)
    assert result.exit_code == 0 and result.unchanged == 3


async def test_a_request_not_yet_approved_is_no_conflict(session, tmp_path, t) -> None:
    path = await imported(session, tmp_path, t)
    task = await session.get_one(Task, 4102)
    request_extension(session, task, IN_CHAT, date(2027, 1, 15), "xin gia hạn")
    await session.commit()
    assert (await import_tasks(session, path, t, now=NOW)).exit_code == 0


async def test_a_change_made_by_an_earlier_import_is_no_conflict(session, tmp_path, t) -> None:
    await imported(session, tmp_path, t)
    rows = [[*row] for row in NUMBERED]
    rows[1][12] = "15/01/2027"
    changed = write_csv(tmp_path / "b.csv", TASK_HEADER, rows)
    assert (await import_tasks(session, changed, t, now=NOW)).updated == 1
    back = await import_tasks(
        session, write_csv(tmp_path / "c.csv", TASK_HEADER, NUMBERED), t, now=NOW
    )
    assert back.exit_code == 0 and back.updated == 1  # the office's own file, corrected


async def test_overwrite_takes_the_files_values(session, tmp_path, t) -> None:
    path = await imported(session, tmp_path, t)
    mark_done(session, await session.get_one(Task, 4101), IN_CHAT, date(2026, 11, 24), "Đã xong")
    await session.commit()
    result = await import_tasks(session, path, t, now=NOW, overwrite=True)
    assert result.exit_code == 0 and result.updated == 1
    session.expire_all()
    assert (await session.get_one(Task, 4101)).status is TaskStatus.NOT_STARTED
    # The import wrote last: the same file again is clean.
    assert (await import_tasks(session, path, t, now=NOW)).exit_code == 0


async def test_dry_run_lists_the_conflicts_and_writes_nothing(session, tmp_path, t) -> None:
    path = await imported(session, tmp_path, t)
    mark_done(session, await session.get_one(Task, 4101), IN_CHAT, date(2026, 11, 24), "Đã xong")
    await session.commit()
    before = await snapshot(session)
    result = await import_tasks(session, path, t, now=NOW, dry_run=True, overwrite=True)
    assert result.exit_code == 0 and result.updated == 1
    result = await import_tasks(session, path, t, now=NOW, dry_run=True)
    assert result.exit_code == 3
    assert await snapshot(session) == before


async def _officials_act_in_chat(database_url: str) -> None:
    """What the issue saw: /xong 1284, then /giahan 1105 to 15/01/2027 approved."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        mark_done(session, await session.get_one(Task, 1284), IN_CHAT, date(2026, 11, 24), "Xong")
        await extend_in_chat(session, 1105, date(2027, 1, 15))
    await engine.dispose()


async def _sample_tasks(database_url: str) -> tuple:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        done, extended = await session.get_one(Task, 1284), await session.get_one(Task, 1105)
        changes = await session.scalar(
            select(func.count()).select_from(DeadlineChange).where(DeadlineChange.task_id == 1105)
        )
        events = await session.scalar(select(func.count()).select_from(TaskEvent))
    await engine.dispose()
    return done.status, extended.deadline, changes, events


def test_demo_again_keeps_what_officials_did_in_chat(dondoc, database_url: str) -> None:
    assert dondoc("demo", "--no-chat")[0] == 0
    asyncio.run(_officials_act_in_chat(database_url))
    before = asyncio.run(_sample_tasks(database_url))
    assert before[:3] == (TaskStatus.DONE, date(2027, 1, 15), 1)

    code, out, _ = dondoc("demo", "--no-chat")
    assert code == 3
    assert asyncio.run(_sample_tasks(database_url)) == before
    assert "Dòng 285, nhiệm vụ 1284: giữ như trong bot (trạng thái: trong bot hoàn thành" in out
    assert "Dòng 106, nhiệm vụ 1105: giữ như trong bot (thời hạn: trong bot 15/01/2027" in out
    assert "--overwrite" in out

    code, out, _ = dondoc("import", "tasks", str(SAMPLE_DIR / "tasks.csv"))
    assert code == 3 and asyncio.run(_sample_tasks(database_url)) == before
    code, out, _ = dondoc("import", "tasks", str(SAMPLE_DIR / "tasks.csv"), "--overwrite")
    assert code == 0 and "2 cập nhật" in out
    assert asyncio.run(_sample_tasks(database_url))[:2] == (
        TaskStatus.NOT_STARTED,
        date(2026, 6, 11),
    )
