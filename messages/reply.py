"""A reply as the core writes it — text and buttons, no chat platform in sight — and its cutting to a channel's length."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    """A button whose data is the command it stands for, e.g. `/xong 4102`."""

    label: str
    data: str


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    edit: bool = False  # replace the message the button was pressed on (paging)
    refused: bool = False  # a mistake the person can correct by answering again

    @property
    def button_rows(self) -> list[list[tuple[str, str]]]:
        """The buttons as (label, data) pairs: how the outbox stores them."""
        return rows_of(self.buttons)


def rows_of(buttons: list[list[Button]]) -> list[list[tuple[str, str]]]:
    return [[(b.label, b.data) for b in row] for row in buttons]


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long message at line ends so each part fits the channel's limit."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts
