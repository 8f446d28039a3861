"""Malformed rows, generated: a file with any of them writes nothing at all, and names every one."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locales import translator
from models.db import create_engine, session_factory
from paperwork.importing import import_tasks
from tests.conftest import NOW
from tests.files import TASK_HEADER, TASKS, write_csv
from tests.test_importing import load_register, snapshot

# CI runs a few hundred files (about 1,000 malformed rows); DONDOC_HYPOTHESIS_EXAMPLES runs more.
EXAMPLES = int(os.environ.get("DONDOC_HYPOTHESIS_EXAMPLES", "200"))
HEADER = [*TASK_HEADER, "progress"]
COLUMN = {name: i for i, name in enumerate(HEADER)}
T = translator("vi")

# Any text a person may type, quotes, separators and line breaks included (not NUL or lone
# surrogates, which no spreadsheet holds).
typed = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
# Each is wrong whatever follows its first letters: no unit, person, date, status starts so.
BREAKERS = {
    "id": st.one_of(st.sampled_from(["0", "-3", "1.5", "2147483648"]), typed.map("x".__add__)),
    "content": st.sampled_from(["", "   "]),
    "lead_unit_code": typed.map("ZZ".__add__),
    "coordinating_unit_codes": typed.map("ZZ".__add__),
    "leader_code": typed.map("ZZ".__add__),
    "specialist_code": typed.map("ZZ".__add__),
    "assigned_date": typed.map("x".__add__),
    "deadline": typed.map("x".__add__),
    "document_date": typed.map("x".__add__),
    "completed_date": st.one_of(typed.map("x".__add__), st.just("01/01/2099")),
    "status": typed.map("x".__add__),
    "progress": st.one_of(st.integers(101, 10**9).map(str), typed.map("x".__add__)),
}


@st.composite
def malformed(draw: st.DrawFn, number: int) -> list[str]:
    row = [*draw(st.sampled_from(TASKS[:3])), ""]
    row[0] = str(6000 + number)
    for column in draw(st.sets(st.sampled_from(sorted(BREAKERS)), min_size=1, max_size=3)):
        row[COLUMN[column]] = draw(BREAKERS[column])
    return row


@st.composite
def task_files(draw: st.DrawFn) -> tuple[list[list[str]], set[int]]:
    """Good and malformed rows mixed; the file row numbers of the malformed ones."""
    good = [[*row, ""] for row in TASKS[: draw(st.integers(0, 4))]]
    bad = [draw(malformed(i)) for i in range(draw(st.integers(1, 10)))]
    rows = draw(st.permutations([*good, *bad]))
    return rows, {n for n, row in enumerate(rows, start=2) if any(row is b for b in bad)}


async def _register(database_url: str, tmp_path: Path) -> tuple:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        await load_register(session, tmp_path, T)
        before = await snapshot(session)
    await engine.dispose()
    return before


async def _import(database_url: str, path: Path) -> tuple:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        result = await import_tasks(session, path, T, now=NOW)
        after = await snapshot(session)
    await engine.dispose()
    return result, after


def test_malformed_rows_never_import_partly(database_url: str, tmp_path: Path) -> None:
    before = asyncio.run(_register(database_url, tmp_path))
    malformed_rows = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(task_files())
    def check(case: tuple[list[list[str]], set[int]]) -> None:
        nonlocal malformed_rows
        rows, bad = case
        result, after = asyncio.run(
            _import(database_url, write_csv(tmp_path / "t.csv", HEADER, rows))
        )
        assert result.exit_code == 1
        assert bad <= {e.row for e in result.errors}, (rows, result.errors)
        assert (result.created, result.updated) == (0, 0)
        assert after == before
        malformed_rows += len(bad)

    check()
    assert malformed_rows >= EXAMPLES  # at least one malformed row in every file
    print(f"{EXAMPLES} generated files, {malformed_rows} malformed rows: none imported in part")


async def test_a_thousand_malformed_rows_in_one_file_write_nothing(
    session, tmp_path: Path, t
) -> None:
    await load_register(session, tmp_path, t)
    before = await snapshot(session)
    rows = [[*TASKS[0]] for _ in range(1000)]
    for i, row in enumerate(rows):
        row[0] = str(7000 + i)
        row[12 if i % 2 else 7] = f"không hợp lệ {i}"
    good = [[*row] for row in TASKS]
    path = write_csv(tmp_path / "t.csv", TASK_HEADER, [*good[:2], *rows, *good[2:]])
    result = await import_tasks(session, path, t, now=NOW)
    assert result.exit_code == 1
    assert sorted({e.row for e in result.errors}) == list(range(4, 1004))
    assert await snapshot(session) == before
