"""No cell we write can run as a formula (OWASP CSV injection), and our imports read it back as written.

Chat text reaches every sheet we write (a result note, a blocker, a name), and a spreadsheet
program runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before
one) as a formula. Every writer passes its text cells through `neutralise`: such a text gets
a single quote in front, which Excel and LibreOffice show as text and people can still read.

The import undoes exactly that quote (`restore`), so an export imports back unchanged. To keep
the two exact inverses, a text that already starts with quotes followed by one of those
characters gets one more quote on the way out and loses one on the way in.
"""

from __future__ import annotations

import re

_RISKY = re.compile(r"^'*[=+\-@\t\r]")
RISKY_FIRST = frozenset("'=+-@\t\r")  # a text that starts with none of these is safe as it is


def neutralise(value: object) -> object:
    """A text that a spreadsheet would run, as a text it shows; other values as they are."""
    if isinstance(value, str) and value[:1] in RISKY_FIRST and _RISKY.match(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """What `neutralise` wrote, back to the text it was given."""
    if text.startswith("'") and _RISKY.match(text[1:]):
        return text[1:]
    return text
