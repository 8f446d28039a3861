"""The outline of a notice: its items' levels and labels, its sentences, its task tables."""

from __future__ import annotations

import re

from paperwork.extract.names import fold
from paperwork.extract.reading import Block


def split_sentences(text: str) -> list[str]:
    parts, start = [], 0
    for m in re.finditer(r"[.;]\s+", text):
        after = text[m.end() : m.end() + 1]
        before = text[max(0, m.start() - 3) : m.start()]
        if after.isupper() and not re.search(r"\b[A-Z]{1,3}$", before):
            parts.append(text[start : m.start() + 1].strip())
            start = m.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def table_columns(row: tuple[str, ...]) -> dict[str, int] | None:
    """The columns of a task table's header row, or None when the row is not one."""
    columns: dict[str, int] = {}
    for index, text in enumerate(row):
        folded = fold(text)
        if "chủ trì" in folded:
            columns.setdefault("lead", index)
        elif "phối hợp" in folded:
            columns.setdefault("coordinating", index)
        elif re.search(r"\b(thời hạn|thời gian|hạn|tiến độ)\b", folded):
            columns.setdefault("deadline", index)
        elif re.search(r"\b(nội dung|nhiệm vụ|công việc)\b", folded):
            columns.setdefault("content", index)
        elif folded.strip() in ("tt", "stt", "số tt"):
            columns.setdefault("item", index)
    return columns if {"content", "lead"} <= columns.keys() else None


_MARKERS = [
    (0, re.compile(r"^([IVX]+)\.\s+")),
    (2, re.compile(r"^(\d+\.\d+)\.?\s+")),
    (1, re.compile(r"^(\d+)[.)]\s+")),
    (3, re.compile(r"^([a-zđ])\)\s+")),
    (4, re.compile(r"^([-+•])\s*")),
]
PLAIN = 9


def marker(block: Block) -> tuple[int, str, str]:
    """The level of a block in the notice's outline, its label, and its text without it."""
    if block.list_item:
        return (3 if block.list_item == "number" else 4), "", block.text
    for level, pattern in _MARKERS:
        if m := pattern.match(block.text):
            return level, m.group(1), block.text[m.end() :]
    return PLAIN, "", block.text
