"""Unit names as notices write them, folded so `UBND huyện Thuỷ Xuân` finds `Huyện Thủy Xuân`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.organization import Unit

# Old tone placement puts the mark on the last vowel of an open `oa`, `oe`, `uy`
# (Hoà, Thuỷ, Uỷ); the new one on the first (Hòa, Thủy, Ủy). `quý` is `qu` + `ý`: left alone.
_TONES = {
    "à": "ò",
    "á": "ó",
    "ả": "ỏ",
    "ã": "õ",
    "ạ": "ọ",
    "è": "ò",
    "é": "ó",
    "ẻ": "ỏ",
    "ẽ": "õ",
    "ẹ": "ọ",
}
_UY = {"ỳ": "ù", "ý": "ú", "ỷ": "ủ", "ỹ": "ũ", "ỵ": "ụ"}
_OLD_O = re.compile(r"o([àáảãạèéẻẽẹ])(?!\w)")
_OLD_U = re.compile(r"(?<!q)u([ỳýỷỹỵ])(?!\w)")
_ABBREVIATIONS = (
    (re.compile(r"\bubnd\b"), "ủy ban nhân dân"),
    (re.compile(r"\bhđnd\b"), "hội đồng nhân dân"),
    (re.compile(r"\btp\b\.?"), "thành phố"),
    (re.compile(r"&"), " và "),
)
_TOKEN = re.compile(r"\w+|[,;:.()]")
# Words between two units of one list (`Sở Y, UBND huyện Z và Chủ tịch UBND quận W`).
LIST_GLUE = frozenset(
    {",", "và", "với", "cùng", ";", "chủ", "tịch", "giám", "đốc", "thủ", "trưởng", "chánh", "phó"}
)


def fold_letters(text: str) -> str:
    """Lower case and one tone placement; the same length as the NFC text it came from."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _OLD_O.sub(lambda m: _TONES[m.group(1)] + ("a" if m.group(1) in "àáảãạ" else "e"), text)
    return _OLD_U.sub(lambda m: _UY[m.group(1)] + "y", text)


def fold(text: str) -> str:
    """Lower case, one tone placement, abbreviations spelt out, dashes as spaces."""
    text = fold_letters(text)
    for pattern, spelt in _ABBREVIATIONS:
        text = pattern.sub(spelt, text)
    return re.sub(r"[-–—‑]", " ", text)


_RAW_TOKEN = re.compile(r"\w+|[,;:.()&]")


def spans(text: str) -> list[tuple[str, int, int]]:
    """The folded words of a text, each with where it stands in the text as written."""
    out: list[tuple[str, int, int]] = []
    previous = ""
    for m in _RAW_TOKEN.finditer(unicodedata.normalize("NFC", text)):
        raw = m.group(0)
        if raw == "." and previous == "tp":
            continue  # `TP.` is one abbreviation
        previous = raw.lower()
        for word in _TOKEN.findall(fold(raw)):
            out.append((word, m.start(), m.end()))
    return out


def tokens(text: str) -> list[str]:
    return [word for word, _, _ in spans(text)]


@dataclass(frozen=True)
class UnitName:
    """A unit as the extractor knows it: its code and every name it may be written under."""

    code: str
    name: str
    kind: str = "other"
    aliases: tuple[str, ...] = ()


def unit_names(units: Iterable[Unit]) -> list[UnitName]:
    """The units of the register as the extractor reads them, with their aliases."""
    return [
        UnitName(
            u.code,
            u.name,
            str(u.kind),
            tuple(a.strip() for a in (u.aliases or "").split(";") if a.strip()),
        )
        for u in units
    ]


@dataclass(frozen=True)
class Mention:
    code: str
    start: int  # token positions, end exclusive
    end: int


class UnitIndex:
    """Finds the units named in a run of tokens, the longest name first."""

    def __init__(self, units: Iterable[UnitName]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self.names: dict[str, str] = {}
        for unit in units:
            self.names[unit.code] = unit.name
            variants = {unit.name, *unit.aliases}
            if unit.kind in ("district", "commune"):
                variants.add(f"Ủy ban nhân dân {unit.name}")
            for variant in variants:
                words = tuple(w for w in tokens(variant) if w not in ",;:.()")
                if words:
                    self._by_first.setdefault(words[0], []).append((words, unit.code))
            code_words = tuple(tokens(unit.code))
            if len(code_words) == 1 and unit.code.isupper() and len(unit.code) > 3:
                self._by_first.setdefault(code_words[0], []).append((code_words, unit.code))
        for variants in self._by_first.values():
            variants.sort(key=lambda v: -len(v[0]))

    def mentions(self, words: Sequence[str]) -> list[Mention]:
        found: list[Mention] = []
        i = 0
        while i < len(words):
            for variant, code in self._by_first.get(words[i], ()):
                if tuple(words[i : i + len(variant)]) == variant:
                    found.append(Mention(code, i, i + len(variant)))
                    i += len(variant)
                    break
            else:
                i += 1
        return found

    def resolve(self, text: str) -> str | None:
        """The one unit a cell or a command names (`Sở GD&ĐT`, `SXD`), or None."""
        words = tokens(text)
        found = self.mentions(words)
        if found:
            return found[0].code
        wanted = text.strip().casefold()
        return next((code for code in self.names if code.casefold() == wanted), None)
