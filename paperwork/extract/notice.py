"""A notice read whole: its number, date, kind, signer and summary, and the tasks it assigns."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from models.calendar import WorkingCalendar
from paperwork.extract.names import UnitIndex, UnitName, fold
from paperwork.extract.reading import Block
from paperwork.extract.tasks import ProposedTask, find_tasks

HEADER_BLOCKS = 16
_KINDS = (
    "thông báo kết luận",
    "thông báo",
    "chỉ thị",
    "kế hoạch",
    "quyết định",
    "công văn",
    "công điện",
    "báo cáo",
    "chương trình",
)
_NUMBER = re.compile(r"^số\s*:?\s*(\d+[^\s,;]*)", re.IGNORECASE)
_DATE_LONG = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})")
_DATE_SHORT = re.compile(r",\s*ngày\s+(\d{1,2})/(\d{1,2})/(\d{4})")
_SYMBOL_KINDS = {"tb": "Thông báo", "ct": "Chỉ thị", "kh": "Kế hoạch", "qđ": "Quyết định"}


@dataclass
class Notice:
    kind: str = ""
    number: str = ""
    date: date | None = None
    signer: str = ""
    summary: str = ""
    tasks: list[ProposedTask] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "document": {
                "kind": self.kind,
                "number": self.number,
                "date": self.date.isoformat() if self.date else None,
                "signer": self.signer,
                "summary": self.summary,
            },
            "tasks": [
                {
                    "item": task.item,
                    "content": task.content,
                    "lead_unit": task.lead_unit,
                    "lead_unit_text": task.lead_unit_text,
                    "coordinating_units": task.coordinating_units,
                    "deadline": task.deadline.day.isoformat() if task.deadline.day else None,
                    "deadline_text": task.deadline.text,
                    "recurrence": task.recurrence,
                }
                for task in self.tasks
            ],
        }

    def proposal(self) -> dict:
        """The JSON with what the chat keeps beside it: which deadlines are vague, which
        tasks the task force dropped."""
        content = self.as_json()
        for task, row in zip(self.tasks, content["tasks"], strict=True):
            row["vague"] = task.deadline.vague
            row["dropped"] = False
        return content


def _is_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 5 and all(
        w[0].isupper() and (len(w) == 1 or w[1:].islower()) and w.isalpha() for w in words
    )


def _kind_label(text: str) -> str | None:
    letters = [c for c in text if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return None
    folded = " ".join(fold(text).split())
    if folded in _KINDS:
        lowered = " ".join(text.lower().split())
        return lowered[0].upper() + lowered[1:]
    return None


def read_notice(blocks: list[Block], units: Iterable[UnitName], working: WorkingCalendar) -> Notice:
    blocks = [Block(unicodedata.normalize("NFC", b.text), b.list_item, b.cells) for b in blocks]
    notice = Notice()
    body_start = 0
    kind_at = None
    for i, block in enumerate(blocks[:HEADER_BLOCKS]):
        # A DOCX header is often a table: `Số: …` beside `…, ngày … tháng … năm …`.
        for text in (part.strip() for part in re.split(r"\n| \| ", block.text)):
            if not notice.number and (m := _NUMBER.match(text)):
                notice.number = m.group(1).rstrip(".")
                body_start = max(body_start, i + 1)
            if notice.date is None and (m := _DATE_LONG.search(text) or _DATE_SHORT.search(text)):
                with contextlib.suppress(ValueError):
                    notice.date = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
                    body_start = max(body_start, i + 1)
            if not notice.kind and (label := _kind_label(text)):
                notice.kind, kind_at = label, i
                body_start = max(body_start, i + 1)
            elif text.lower().startswith(("v/v", "về việc")) and not notice.summary:
                notice.summary = re.sub(r"^(v/v|về việc)\s*", "", text, flags=re.IGNORECASE)
                body_start = max(body_start, i + 1)
    if kind_at is not None and kind_at + 1 < len(blocks) and not notice.summary:
        notice.summary = blocks[kind_at + 1].text.strip()
        body_start = max(body_start, kind_at + 2)
    if not notice.kind:
        symbol = notice.number.partition("/")[2].split("-")[0].lower()
        notice.kind = _SYMBOL_KINDS.get(symbol, "Công văn")
    if body_start < len(blocks) and fold(blocks[body_start].text).startswith("kính gửi"):
        body_start += 1
        while body_start < len(blocks) and blocks[body_start].text.startswith(("-", "+", "•")):
            body_start += 1
    body_end = next(
        (i for i in range(body_start, len(blocks)) if fold(blocks[i].text).startswith("nơi nhận")),
        len(blocks),
    )
    tail = blocks[body_end:] if body_end < len(blocks) else blocks[-8:]
    lines = [part.strip() for b in tail for part in re.split(r"\n| \| ", b.text)]
    notice.signer = next((line for line in reversed(lines) if _is_name(line)), "")
    notice.tasks = find_tasks(blocks[body_start:body_end], UnitIndex(units), notice.date, working)
    return notice
