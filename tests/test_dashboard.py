"""The dashboard over HTTP, end to end: a person asks the bot for the link and opens it; every
way a link can be wrong is refused with a clear page; no page changes anything.

What the pages look like in a real browser is tests/test_dashboard_browser.py.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from bot.config import Settings
from models import Official, Task, TaskEvent
from models.accounts import ChatAccount
from models.clock import FixedClock
from models.explanations import Explanation, ExplanationState
from tests import harness
from tests.city import City
from tests.conftest import NOW


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Board:
    bot: harness.Harness
    base: str  # http://127.0.0.1:PORT

    async def link(self, code: str) -> str:
        """What the person gets from /bangdieukhien: the link, read from the reply."""
        await self.bot.link(code)
        [reply] = await self.bot.send(code, "/bangdieukhien")
        url = next(word for word in reply.split() if word.startswith("http"))
        assert url.startswith(f"{self.base}/dashboard/")
        return url


async def start_board(sessions, clock: FixedClock) -> Board:
    port = free_port()
    settings = Settings(
        files_url=f"http://127.0.0.1:{port}/files",
        files_listen=f"127.0.0.1:{port}",
        files_secret="bi-mat-thu-nghiem",
    )
    bot = await harness.start(sessions, clock, settings)
    return Board(bot, f"http://127.0.0.1:{port}")


@pytest.fixture
async def board(sessions, city: City) -> AsyncIterator[Board]:
    running = await start_board(sessions, FixedClock(NOW))
    yield running
    await harness.stop(running.bot)


async def _get(url: str) -> httpx.Response:
    # Generous: the first page waits for the city's snapshot, on a machine shared with others.
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.get(url)


async def test_the_task_force_opens_the_city_view_from_the_bots_link(board: Board) -> None:
    url = await board.link("TCT")
    page = await _get(url)
    assert page.status_code == 200
    html = page.text
    assert '<html lang="vi">' in html and "Bảng điều khiển — toàn thành phố" in html
    assert 'data-colour="red" data-code="STP"' in html
    assert 'data-colour="yellow" data-code="SXD"' in html
    assert 'data-colour="green" data-code="Q1"' in html
    assert "Đỏ: có nhiệm vụ quá hạn quá 10 ngày làm việc" in html
    assert "công thức chấm điểm 2026.1" in html
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in page.headers["content-security-policy"]  # no script at all
    chart = await _get(url + "chart.svg")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in chart.content and "Tỷ lệ đúng hạn" in chart.text


async def test_a_unit_page_lists_its_tasks_and_a_task_page_its_history(board: Board) -> None:
    url = await board.link("TCT")
    async with board.bot.sessions() as session:
        sxd = await session.scalar(select(Task.lead_unit_id).where(Task.id == 4103))
    unit = (await _get(f"{url}u/{sxd}")).text
    assert "Bảng điều khiển — Sở Xây dựng" in unit
    for task in (4101, 4102, 4103):
        assert f'data-task="{task}"' in unit
    assert unit.index('data-task="4103"') < unit.index('data-task="4102"')  # overdue first
    assert "4107" not in unit
    chart = await _get(f"{url}u/{sxd}/chart.svg")
    assert chart.status_code == 200 and b"<svg" in chart.content
    task = (await _get(f"{url}t/4107")).text
    assert "Nhiệm vụ #4107" in task and "Chờ ý kiến thẩm định của Sở Tài chính" in task
    assert "10/12/2026 (hạn ban đầu 10/11/2026)" in task


def _cell(html: str, code: str, css: str) -> str:
    """The text of a unit's cell of class `css` in the city view."""
    row = html[html.index(f'data-code="{code}"') :]
    row = row[: row.index("</tr>")]
    cell = row[row.index(f'class="n {css}">') + len(f'class="n {css}">') :]
    return cell[: cell.index("<")]


async def test_the_city_view_counts_not_updated_and_at_risk_per_unit(board: Board) -> None:
    """Every open task was last updated on 5/10 (tests/city.py), more than 10 working days
    ago, but #4102, updated today: SXD has #4101 and #4103 silent, Q1 #4106 and #4107.
    At risk on 25/11: #4107 (assigned 5/10, due 10/12: over 70 % of its working days gone,
    progress 0 ≤ 30 %); #4102 is 60 % done, #4101 has time (below 70 %)."""
    async with board.bot.sessions() as session, session.begin():
        await session.execute(update(Task).where(Task.id == 4102).values(updated_at=NOW))
    url = await board.link("TCT")
    html = (await _get(url)).text
    assert '<th class="n"><a' in html and "Chưa cập nhật" in html and "Nguy cơ chậm" in html
    assert (_cell(html, "SXD", "not-updated"), _cell(html, "SXD", "at-risk")) == ("2", "0")
    assert (_cell(html, "Q1", "not-updated"), _cell(html, "Q1", "at-risk")) == ("2", "1")
    assert (_cell(html, "STP", "not-updated"), _cell(html, "STP", "at-risk")) == ("0", "0")
    by_risk = (await _get(url + "?sx=at_risk&chieu=giam")).text
    assert by_risk.index('data-code="Q1"') < by_risk.index('data-code="SXD"')
    assert 'data-sort="not_updated"' in by_risk and "Nguy cơ chậm ▼" in by_risk
    by_silence = (await _get(url + "?sx=not_updated&chieu=tang")).text
    assert by_silence.index('data-code="STP"') < by_silence.index('data-code="Q1"')


async def test_a_unit_page_shows_each_tasks_explanation_silence_and_risk(board: Board) -> None:
    """#4103: asked, last day 23/11, not answered (not given — and the score pays for it);
    #4102: asked, last day today (awaiting); #4101: answered; #4107 at risk (Q1)."""

    def asked(task_id: int, due, state: ExplanationState) -> Explanation:
        return Explanation(
            task_id=task_id,
            deadline=due - timedelta(days=7),
            requested_at=NOW - timedelta(days=9),
            due_date=due,
            state=state,
            reason="",
        )

    today = NOW.date()
    async with board.bot.sessions() as session, session.begin():
        await session.execute(update(Task).where(Task.id == 4102).values(updated_at=NOW))
        session.add_all(
            [
                asked(4103, today - timedelta(days=2), ExplanationState.REQUESTED),
                asked(4102, today, ExplanationState.REQUESTED),
                asked(4101, today - timedelta(days=5), ExplanationState.ANSWERED),
            ]
        )
        sxd, q1 = [
            await session.scalar(select(Task.lead_unit_id).where(Task.id == n))
            for n in (4103, 4107)
        ]
    url = await board.link("TCT")
    unit = (await _get(f"{url}u/{sxd}")).text
    assert "<th>Giải trình</th>" in unit
    assert 'data-task="4103" data-status="overdue" data-explanation="missed"' in unit
    assert 'data-task="4102" data-status="due_soon" data-explanation="requested"' in unit
    assert 'data-task="4101" data-status="in_time" data-explanation="answered"' in unit
    for text in ("không giải trình", "đang chờ giải trình", "đã giải trình"):
        assert f'<td class="explanation">{text}</td>' in unit
    assert (
        'data-task="4103" data-status="overdue" data-explanation="missed" data-silent="1"' in unit
    )
    assert 'data-explanation="requested" data-silent="0" data-risk="0"' in unit  # #4102
    assert '<span class="flag not-updated">Chưa cập nhật</span>' in unit
    # SXD's score: 100 − (2 + 0.2 × 5) − 3 (one explanation not given) = 94.
    assert "94 điểm" in unit
    q1_page = (await _get(f"{url}u/{q1}")).text
    assert (
        'data-task="4107" data-status="in_time" data-explanation="" data-silent="1" data-risk="1"'
        in q1_page
    )
    assert '<span class="flag at-risk">Nguy cơ chậm</span>' in q1_page


async def test_a_unit_leader_sees_their_unit_only(board: Board) -> None:
    url = await board.link("SXD-LD")
    home = (await _get(url)).text
    assert "Bảng điều khiển — Sở Xây dựng" in home and 'data-task="4103"' in home
    assert "toàn thành phố" not in home
    async with board.bot.sessions() as session:
        q1 = await session.scalar(select(Task.lead_unit_id).where(Task.id == 4107))
    for path in (f"u/{q1}", "t/4107", f"u/{q1}/chart.svg"):
        refused = await _get(url + path)
        assert refused.status_code == 403, path
        assert "Trang này không mở cho người giữ liên kết này." in refused.text
    assert (await _get(url + "t/4103")).status_code == 200


async def test_a_tampered_or_made_up_link_is_refused(board: Board) -> None:
    url = await board.link("TCT")
    account, official, expires, signature = url.rstrip("/").rsplit("/", 1)[1].split("-")
    base = url.rstrip("/").rsplit("/", 1)[0]
    forged = [
        f"{base}/{account}-{official}-{expires}-{'0' * 32}/",
        f"{base}/{account}-{official}-{int(expires) + 86_400}-{signature}/",  # stretched
        f"{base}/{account}-{int(official) + 1}-{expires}-{signature}/",  # someone else
        f"{base}/",
        f"{base}/khong-co-gi",
    ]
    for wrong in forged:
        page = await _get(wrong)
        assert page.status_code == 403, wrong
        assert "Không mở được bảng điều khiển" in page.text
        assert "Sở Xây dựng" not in page.text
    assert "Liên kết không hợp lệ" in (await _get(forged[0])).text


async def test_a_link_expires_after_12_hours(board: Board) -> None:
    url = await board.link("TCT")
    clock = board.bot.clock
    clock.set(clock.now() + timedelta(hours=11, minutes=59))
    assert (await _get(url)).status_code == 200
    clock.set(clock.now() + timedelta(minutes=1))
    page = await _get(url)
    assert page.status_code == 403 and "Liên kết đã hết hạn" in page.text


async def test_a_link_dies_with_its_chat_account_or_its_official(board: Board) -> None:
    leader, task_force = await board.link("SXD-LD"), await board.link("TCT")
    async with board.bot.sessions() as session, session.begin():
        await session.execute(
            delete(ChatAccount).where(
                ChatAccount.official_id
                == select(Official.id).where(Official.code == "SXD-LD").scalar_subquery()
            )
        )
        await session.execute(update(Official).where(Official.code == "TCT").values(active=False))
    for url in (leader, task_force):
        page = await _get(url)
        assert page.status_code == 403
        assert "tài khoản trò chuyện được cấp liên kết đã hủy liên kết" in page.text


async def test_a_specialists_link_would_open_nothing(board: Board) -> None:
    """The bot gives a specialist no link; one signed for them anyway opens no page."""
    await board.bot.link("SXD-CV")
    [reply] = await board.bot.send("SXD-CV", "/bangdieukhien")
    assert "http" not in reply
    links = board.bot.running.core.settings.dashboard_link
    async with board.bot.sessions() as session:
        official = await session.scalar(select(Official).where(Official.code == "SXD-CV"))
        account = await session.scalar(
            select(ChatAccount.id).where(ChatAccount.official_id == official.id)
        )
    url, _ = links(account, official.id)
    page = await _get(url)
    assert page.status_code == 403 and "không mở cho người giữ liên kết" in page.text


async def test_nothing_on_the_dashboard_changes_data(board: Board) -> None:
    url = await board.link("TCT")
    async with board.bot.sessions() as session:
        before = await session.scalar(select(func.count()).select_from(TaskEvent))
    async with httpx.AsyncClient(timeout=60) as client:
        for path in ("", "t/4103", "u/1"):
            for method in ("POST", "PUT", "DELETE", "PATCH"):
                answer = await client.request(method, url + path, content=b"status=done")
                assert answer.status_code == 405, (method, path)
        filtered = await client.get(url, params={"q": "Sở", "mau": "red", "sx": "score"})
        assert filtered.status_code == 200
    async with board.bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TaskEvent)) == before
    assert "<form" in filtered.text and 'method="get"' in filtered.text


async def test_the_weekly_trend_counts_overdue_and_on_time_by_hand(session, city: City) -> None:
    from datetime import date

    from models.dashboard import weekly_trend

    weeks = await weekly_trend(session, date(2026, 11, 25), weeks=3)
    assert [w.end for w in weeks] == [date(2026, 11, 11), date(2026, 11, 18), date(2026, 11, 25)]
    # 25/11: #4103 (deadline 20/11) is overdue; #4105 was done late on 20/11.
    assert (weeks[2].overdue, weeks[2].done, weeks[2].done_on_time) == (1, 1, 0)
    # 18/11: #4105 (deadline 18/11) not yet late; nothing done in 12–18/11.
    assert (weeks[1].overdue, weeks[1].done) == (0, 0)
    # 11/11: #4104 done on 10/11, 6 days early.
    assert (weeks[0].done, weeks[0].done_on_time, weeks[0].on_time_rate) == (1, 1, 1.0)
