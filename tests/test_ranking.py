"""/xephang (/ranking) and /bangdieukhien (/dashboard) in chat: who sees what, who is refused,
and the formula's version with every score. Scores are worked out in tests/test_scoring.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from handlers.core import CoreSettings
from models import OutboxMessage, TaskEvent
from models.scoring import Formula
from tests.city import City
from tests.core_chat import CoreChat


async def _changes(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(TaskEvent)) or 0)


async def test_the_task_force_sees_the_whole_city_ranked_with_the_formula(sessions, city) -> None:
    chat = CoreChat(sessions)
    user = await chat.link("TCT")
    [reply] = await chat.say(user, "/xephang")
    lines = reply.split("\n")
    assert lines[0] == (
        "🏆 Xếp hạng đơn vị theo điểm — tháng 11/2026 (đến 25/11/2026; công thức 2026.1)"
    )
    assert lines[1].startswith("1. Quận Trung Tâm — 100 điểm")
    assert lines[2].startswith("2. Sở Tư pháp — 99,3 điểm (0 quá hạn, 1 hoàn thành quá hạn, 1")
    assert lines[3].startswith("3. Sở Xây dựng — 97 điểm (1 quá hạn")
    assert "ít nhiệm vụ quá hạn hơn xếp trước" in lines[-1]
    [english] = await chat.say(user, "/ranking quarter")
    assert "quý 4/2026" in english


async def test_a_city_leader_sees_the_city_and_a_unit_leader_only_their_unit(
    sessions, city
) -> None:
    chat = CoreChat(sessions)
    [city_view] = await chat.say(await chat.link("CT"), "/xephang thang")
    assert "3. Sở Xây dựng" in city_view
    [mine] = await chat.say(await chat.link("SXD-LD"), "/xephang")
    assert mine.split("\n")[0] == (
        "🏆 Sở Xây dựng: hạng 3/3, 97 điểm — tháng 11/2026 (đến 25/11/2026; công thức 2026.1)"
    )
    assert "Sở Tư pháp" not in mine


async def test_a_specialist_is_refused_the_ranking_and_the_dashboard(sessions, city) -> None:
    chat = CoreChat(sessions)
    user = await chat.link("SXD-CV")
    before = await _changes(sessions)
    [ranking] = await chat.say(user, "/xephang")
    assert ranking.startswith("Bảng xếp hạng dành cho Tổ công tác")
    [board] = await chat.say(user, "/bangdieukhien")
    assert board.startswith("Bảng điều khiển dành cho Tổ công tác")
    assert "http" not in board
    assert await _changes(sessions) == before


async def test_a_wrong_period_shows_the_syntax_and_changes_nothing(sessions, city) -> None:
    chat = CoreChat(sessions)
    user = await chat.link("TCT")
    before = await _changes(sessions)
    [reply] = await chat.say(user, "/xephang nam")
    assert reply.startswith("'nam' không phải là kỳ.")
    assert "/xephang [thang|quy]" in reply
    assert await _changes(sessions) == before


async def test_the_formula_in_the_settings_is_the_one_printed_and_used(
    sessions, city, tmp_path
) -> None:
    path = tmp_path / "formula.toml"
    path.write_text('version = "HP-44"\n[done_late]\npoints = 10\n', encoding="utf-8")
    chat = CoreChat(sessions, settings=CoreSettings(formula=Formula.load(path)))
    [reply] = await chat.say(await chat.link("TCT"), "/xephang")
    lines = reply.split("\n")
    assert "công thức HP-44" in lines[0]
    assert [line.split(" — ")[0] for line in lines[1:4]] == [
        "1. Quận Trung Tâm",
        "2. Sở Xây dựng",
        "3. Sở Tư pháp",
    ]


def _link(account_id: int, official_id: int) -> tuple[str, datetime]:
    return (
        f"https://dondoc.example/dashboard/{account_id}-{official_id}/",
        datetime(2026, 11, 25, 14, 0, tzinfo=UTC),
    )


async def test_a_leader_gets_a_dashboard_link_in_private_not_in_a_group(sessions, city) -> None:
    chat = CoreChat(sessions, settings=CoreSettings(dashboard_link=_link))
    user = await chat.link("SXD-LD")
    [reply] = await chat.say(user, "/bangdieukhien")
    assert reply.startswith("📊 Bảng điều khiển của đơn vị đồng chí, chỉ để xem: https://dondoc")
    assert "21:00 25/11/2026" in reply or "25/11/2026" in reply
    [grouped] = await chat.say(user, "/dashboard", group="g-1")
    assert "http" not in grouped and "trò chuyện riêng" in grouped
    async with sessions() as session:
        sent = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.text.contains("http"))
        )
    assert sent == 1


async def test_without_the_web_server_the_dashboard_command_says_so(sessions, city: City) -> None:
    chat = CoreChat(sessions)
    [reply] = await chat.say(await chat.link("TCT"), "/bangdieukhien")
    assert "chưa được thiết lập" in reply


async def test_the_monthly_report_and_its_workbook_carry_scores_and_places(session, city) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from locales import translator
    from messages.reports import summary_text
    from models.calendar import load_calendar
    from models.reports import Period, build_report
    from paperwork.report_workbook import write_xlsx

    report = await build_report(
        session,
        Period.MONTHLY,
        date(2026, 11, 25),
        await load_calendar(session),
        due_soon_days=3,
        past=False,
    )
    t = translator("vi")
    summary = summary_text(t, report).split("\n")
    at = summary.index("🏆 Điểm thấp nhất (công thức 2026.1):")
    assert summary[at + 1 : at + 4] == [
        "1. Quận Trung Tâm — 100 điểm",
        "2. Sở Tư pháp — 99,3 điểm",
        "3. Sở Xây dựng — 97 điểm",
    ]
    book = BytesIO()
    write_xlsx(book, report, t)
    sheet = load_workbook(BytesIO(book.getvalue()))["Tổng hợp"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][-2:] == ["Điểm (công thức 2026.1)", "Hạng"]
    by_code = {row[0]: row[-2:] for row in rows[1:]}
    assert by_code["SXD"] == [97, 3] and by_code["STP"] == [99.3, 2] and by_code["Q1"] == [100, 1]
    officials = load_workbook(BytesIO(book.getvalue()))["Theo cán bộ"]
    specialists = {row[0].value: row[-2].value for row in officials.iter_rows(min_row=2)}
    assert specialists["SXD-CV"] == 97


async def test_help_lists_the_ranking_and_the_dashboard_to_leaders_only(sessions, city) -> None:
    chat = CoreChat(sessions)
    [leader] = await chat.say(await chat.link("SXD-LD"), "/trogiup")
    assert "/xephang — xếp hạng đơn vị theo điểm" in leader
    assert "/bangdieukhien — liên kết 12 giờ tới bảng điều khiển" in leader
    [specialist] = await chat.say(await chat.link("SXD-CV"), "/trogiup")
    assert "/xephang" not in specialist and "/bangdieukhien" not in specialist
