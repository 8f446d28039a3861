"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

The browser is the system's (`bash .ci/setup-system` installs it); Playwright never
downloads one. These tests do not skip: without /usr/bin/chromium they fail and say why.
The city view's screenshot is saved in out/ (a test artefact); data/dashboard.png, shown in
the README, is a copy of the sample city's.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import select

from bot.operator.register import import_file
from locales import translator
from models import Official
from models.clock import FixedClock
from tests import harness
from tests.city import City
from tests.conftest import NOW
from tests.test_dashboard import Board, start_board

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parent.parent
ARTEFACTS = ROOT / "out"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RED, YELLOW, GREEN = "rgb(198, 40, 40)", "rgb(249, 168, 37)", "rgb(46, 125, 50)"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash .ci/setup-system` (as root) first")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def board(sessions, city: City) -> AsyncIterator[Board]:
    running = await start_board(sessions, FixedClock(NOW))
    yield running
    await harness.stop(running.bot)


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.set_default_timeout(90_000)  # a busy shared machine, never a speed goal
    yield await context.new_page()
    await context.close()


async def _rows(page: Page) -> list[str]:
    return await page.locator("#units tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.code)"
    )


async def _colours(page: Page) -> dict[str, str]:
    return dict(
        await page.locator("#units tbody tr").evaluate_all(
            "rows => rows.map(r => [r.dataset.code, "
            "getComputedStyle(r.querySelector('td')).borderLeftColor])"
        )
    )


async def test_the_city_view_shows_each_unit_in_its_colour(board: Board, page: Page) -> None:
    await page.goto(await board.link("TCT"))
    assert await page.title() == "Bảng điều khiển — toàn thành phố"
    # STP: one of two done late (50 % on time < 80 %); SXD: a task 5 days overdue; Q1: neither.
    assert await _colours(page) == {"STP": RED, "SXD": YELLOW, "Q1": GREEN}
    assert "Đỏ: có nhiệm vụ quá hạn quá 10 ngày làm việc" in await page.inner_text("#rule")
    assert await page.inner_text("#tile-red b") == "1"
    assert await _rows(page) == ["Q1", "STP", "SXD"]  # by place
    chart = page.locator("img.chart")
    assert await chart.evaluate("img => img.complete && img.naturalWidth > 0")
    ARTEFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / "dashboard-small-city.png"), full_page=True)


async def test_sorting_and_filtering_the_city_view(board: Board, page: Page) -> None:
    await page.goto(await board.link("TCT"))
    # Nguy cơ chậm: Q1 1 (#4107), the others 0; chưa cập nhật: SXD 3, Q1 2, STP 0. Equal
    # counts keep the order of places.
    await page.click("th a[data-sort=at_risk]")
    assert await _rows(page) == ["STP", "SXD", "Q1"]
    await page.click("th a[data-sort=at_risk]")
    assert await _rows(page) == ["Q1", "SXD", "STP"]
    await page.click("th a[data-sort=not_updated]")
    assert await _rows(page) == ["STP", "Q1", "SXD"]
    assert await page.inner_text("#units tr[data-code=SXD] td.not-updated") == "3"
    await page.click("th a[data-sort=score]")
    assert await _rows(page) == ["SXD", "STP", "Q1"]  # 97, 99.3, 100
    await page.click("th a[data-sort=score]")
    assert await _rows(page) == ["Q1", "STP", "SXD"]
    await page.click("th a[data-sort=name]")
    assert await _rows(page) == ["Q1", "STP", "SXD"]  # Quận…, Sở Tư pháp, Sở Xây dựng
    await page.fill("input[name=q]", "sở")
    await page.click("#filter button")
    assert await _rows(page) == ["STP", "SXD"]
    await page.select_option("select[name=mau]", "red")
    await page.click("#filter button")
    assert await _rows(page) == ["STP"]
    assert await page.inner_text("#count") == "1 / 3 đơn vị"


async def test_a_unit_page_shows_its_tasks(board: Board, page: Page) -> None:
    await page.goto(await board.link("TCT"))
    await page.click("text=Sở Xây dựng")
    assert await page.title() == "Bảng điều khiển — Sở Xây dựng"
    tasks = await page.locator("#tasks tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.task, r.dataset.status])"
    )
    assert tasks == [["4103", "overdue"], ["4102", "due_soon"], ["4101", "in_time"]]
    # All three last updated on 5/10: not updated; none at risk, no explanation asked.
    flags = page.locator("#tasks tr[data-task='4103'] .flag")
    assert await flags.all_inner_texts() == ["Chưa cập nhật"]
    assert await flags.first.is_visible()
    assert await page.inner_text("#tasks tr[data-task='4103'] td.explanation") == "—"
    await page.wait_for_load_state("load")  # the unit's chart too
    chart = page.locator("img.chart")
    assert await chart.evaluate("img => img.complete && img.naturalWidth > 0")
    ARTEFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / "dashboard-unit.png"), full_page=True)
    await page.click("text=#4103")
    assert await page.title() == "Nhiệm vụ #4103"
    assert "Kiểm tra, xử lý vi phạm trật tự xây dựng" in await page.inner_text("main")
    await page.screenshot(path=str(ARTEFACTS / "dashboard-task.png"), full_page=True)


async def test_a_tampered_link_is_refused_in_the_browser(board: Board, page: Page) -> None:
    url = await board.link("TCT")
    tampered = url[:-3] + ("0" if url[-3] != "0" else "1") + url[-2:]
    answer = await page.goto(tampered)
    assert answer is not None and answer.status == 403
    assert await page.title() == "Không mở được bảng điều khiển"
    assert "Liên kết không hợp lệ" in await page.inner_text("#refused")
    assert await page.locator("#units").count() == 0


async def test_a_screenshot_of_the_sample_citys_dashboard(sessions, browser: Browser) -> None:
    """The README's picture: the 34-unit sample city of `dondoc demo`, in a real browser."""
    t = translator("vi")
    for kind in ("calendar", "units", "officials", "tasks"):
        async with sessions() as session:
            result = await import_file(
                session, kind, ROOT / "data" / "sample" / f"{kind}.csv", t, NOW, dry_run=False
            )
            assert result.ok, kind
    async with sessions() as session:
        head = await session.scalar(
            select(Official.code).where(Official.position.ilike("%Tổ trưởng%")).limit(1)
        )
    running = await start_board(sessions, FixedClock(NOW))
    try:
        context = await browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(90_000)
        page = await context.new_page()
        await page.goto(await running.link(head))
        assert len(await _rows(page)) >= 30
        colours = set((await _colours(page)).values())
        assert {RED, YELLOW} <= colours <= {RED, YELLOW, GREEN}, colours
        ARTEFACTS.mkdir(exist_ok=True)
        shot = ARTEFACTS / "dashboard.png"
        await page.screenshot(path=str(shot))
        await context.close()
    finally:
        await harness.stop(running.bot)
    shutil.copyfile(shot, ARTEFACTS / "dashboard-sample-city.png")
