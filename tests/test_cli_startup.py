"""`dondoc --help` loads neither SQLAlchemy, the models, nor any command's libraries (the
time itself is a benchmark: `python -m bench.startup`)."""

from __future__ import annotations

import subprocess
import sys

from bot.cli import PERIODS, TABLES
from models.reports import Period, TableName

HEAVY = (
    "sqlalchemy",
    "alembic",
    "matplotlib",
    "openpyxl",
    "rustpy_xlsxwriter",
    "docx",
    "telegram",
    "nio",
)


def test_the_written_out_choices_are_the_enums() -> None:
    assert [p.value for p in Period] == PERIODS
    assert [t.value for t in TableName] == TABLES


def test_help_loads_nothing_heavy() -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['dondoc', '--help']\n"
        "try:\n"
        "    runpy.run_module('bot.cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "dondoc" in done.stdout and done.stdout.strip().endswith("[]"), done.stdout[-300:]


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    from models.db import _alembic_head, head_revision

    assert head_revision() == _alembic_head() is not None


def test_run_loads_no_chart_workbook_letter_or_jobs_module_before_it_answers() -> None:
    """`dondoc run` imports the bot, its channels and the core; matplotlib and openpyxl load at
    the first chart or workbook, rustpy-xlsxwriter at the first report, the jobs and python-docx at
    the first sweep, every country's holidays in a thread while the channels connect."""
    late = ["matplotlib", "openpyxl", "rustpy_xlsxwriter", "docx", "alembic", "jobs.run"]
    late += ["holidays.countries", "bot.dashboard", "bot.web"]
    probe = (
        "import sys\n"
        "import bot.operator.serving, bot.runtime, bot.channels, models.db\n"
        f"print(sorted(set({late!r}) & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout[-300:]
