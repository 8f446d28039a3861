"""Every setting the program reads is a row of one of the README's tables: the README is
what a city's IT operator reads."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_dondoc_setting_is_in_a_readme_table() -> None:
    read = set(re.findall(r'"(DONDOC_[A-Z_]+)"', (ROOT / "bot" / "config.py").read_text()))
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("|")]
    missing = sorted(name for name in read if not any(f"`{name}`" in row for row in rows))
    assert read and not missing, missing
