"""Buttons as commands to type, for channels that show none (Zalo, Matrix)."""

from __future__ import annotations

from locales import translator


def with_typed_commands(text: str, buttons: list[list[tuple[str, str]]], language: str) -> str:
    """The text with each button listed under it as the command it stands for, headed in the
    reader's language: `• ✅ Hoàn thành: /xong 4102`."""
    if not buttons:
        return text
    heading = translator(language)._("Reply with:")
    choices = "\n".join(f"• {label}: {data}" for row in buttons for label, data in row)
    return f"{text}\n\n{heading}\n{choices}"
