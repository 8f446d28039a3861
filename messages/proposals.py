"""How the bot shows the tasks it read from a notice, before the task force creates them."""

from __future__ import annotations

from datetime import date
from typing import Any

from locales import Translator
from paperwork.extract.sheet import needs_choice

SHORT = 110


def shorten(text: str, limit: int = SHORT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def document_title(t: Translator, document: dict[str, Any]) -> str:
    """`Thông báo 412/TB-UBND ngày 15/10/2026`, or what of it the notice gave."""
    if document.get("number") and document.get("date"):
        return t._(
            "{kind} {number} of {date}",
            kind=document.get("kind") or "",
            number=document["number"],
            date=t.date(date.fromisoformat(document["date"])),
        ).strip()
    return document.get("number") or t._("the notice (no number found)")


def task_line(t: Translator, number: int, task: dict[str, Any]) -> str:
    lead = task["lead_unit"] or (
        t._("? ({written})", written=shorten(task["lead_unit_text"], 40))
        if task.get("lead_unit_text")
        else "?"
    )
    if task["deadline"]:
        deadline = t._("due {date}", date=t.date(date.fromisoformat(task["deadline"])))
    elif task.get("vague"):
        deadline = t._("due ? ({written})", written=task["deadline_text"])
    else:
        deadline = t._("no deadline (ongoing)")
    line = t._(
        "{number}. {content} — lead {lead}; {deadline}",
        number=number,
        content=shorten(task["content"]),
        lead=lead,
        deadline=deadline,
    )
    if task["coordinating_units"]:
        line += t._("; with {units}", units=", ".join(task["coordinating_units"]))
    return line


def open_tasks(content: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(n, task) for n, task in enumerate(content["tasks"], 1) if not task.get("dropped")]


def proposal_text(t: Translator, content: dict[str, Any]) -> str:
    tasks = open_tasks(content)
    lines = [
        t.ngettext(
            "📄 {document}: {n} proposed task; nothing is created until /giao.",
            "📄 {document}: {n} proposed tasks; nothing is created until /giao.",
            len(tasks),
            document=document_title(t, content["document"]),
        )
    ]
    lines += [task_line(t, n, task) for n, task in tasks]
    lines.append(status_line(t, content))
    return "\n".join(lines)


def status_line(t: Translator, content: dict[str, Any]) -> str:
    """What is left to decide, and the commands that decide it."""
    unsure = [n for n, task in open_tasks(content) if needs_choice(task)]
    if unsure:
        first = unsure[0]
        return t.ngettext(
            "⚠️ {n} task needs a choice (?): /sua {first} chutri SXD · /sua {first} hanchot"
            " 31/12/2026 · /bo {first}. Then /giao creates them all.",
            "⚠️ {n} tasks need a choice (?): /sua {first} chutri SXD · /sua {first} hanchot"
            " 31/12/2026 · /bo {first}. Then /giao creates them all.",
            len(unsure),
            first=first,
        )
    return t._(
        "All is ready: /giao creates them. Change one: /sua 1 hanchot 31/12/2026 · drop one: /bo 1"
    )
