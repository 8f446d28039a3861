"""The sheet of link codes a unit's office prints and hands out: one row per official."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from locales import Translator
from paperwork.tabular import write_table


@dataclass(frozen=True)
class CodeRow:
    unit: str
    official_code: str
    name: str
    position: str
    link_code: str


def write_link_codes(
    path: Path,
    rows: Sequence[CodeRow],
    valid_until: datetime,
    how: Sequence[str],
    t: Translator,
) -> None:
    """XLSX or CSV by the suffix. `how` are the linking steps, one per channel, with
    `{code}` where the person's code goes."""
    headers = [
        t._("Unit"),
        t._("Official code"),
        t._("Full name"),
        t._("Position"),
        t._("Link code"),
        t._("Valid until"),
        t._("How to link"),
    ]
    until = t.datetime(valid_until)
    write_table(
        path,
        headers,
        (
            [
                row.unit,
                row.official_code,
                row.name,
                row.position,
                row.link_code,
                until,
                "\n".join(step.format(code=row.link_code) for step in how),
            ]
            for row in rows
        ),
    )
