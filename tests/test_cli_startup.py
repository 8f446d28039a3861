"""`dondoc --help` loads neither SQLAlchemy, the models, nor any command's libraries (the
time itself is a benchmark: `python -m bench.startup`)."""

from __future__ import annotations

import subprocess
import sys

from bot.cli import PERIODS, TABLES
from models.reports import Period, TableName

HEAVY = ("sqlalchemy", "alembic", "matplotlib", "openpyxl", "xlsxwriter", "docx", "telegram", "nio")


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
