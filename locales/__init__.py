"""Gettext catalogs and the one place that turns dates and numbers into words for a reader."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

DOMAIN = "dondoc"
DEFAULT_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")
CATALOG_DIR = Path(__file__).parent
# The city's time: every "today" and every date and time a reader sees is read in it.
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def catalog_path(language: str) -> Path:
    return CATALOG_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(language: str) -> NullTranslations:
    """Compile the .po in memory, so the catalog in git is the only copy and never stale."""
    path = catalog_path(language)
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Translator:
    """Everything one reader sees: their language's strings, dates and numbers."""

    language: str

    def _(self, message: str, /, **values: object) -> str:
        text = _translations(self.language).gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        text = _translations(self.language).ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def number(self, value: int | float) -> str:
        return _decimal(value, self.language)

    def date(self, day: date | None, *, weekday: bool = False) -> str:
        """`24/11/2026`, or `thứ Ba, 24/11/2026` where the weekday matters."""
        if day is None:
            return ""
        return _date(day, weekday, self.language)

    def datetime(self, moment: datetime) -> str:
        return format_datetime(
            moment.astimezone(TIMEZONE), "HH:mm dd/MM/yyyy", locale=self.language
        )


def translator(language: str | None) -> Translator:
    """The translator for a language code, falling back to Vietnamese."""
    language = (language or DEFAULT_LANGUAGE).lower()
    if language not in LANGUAGES or not Locale.parse(language):
        language = DEFAULT_LANGUAGE
    return Translator(language)


@lru_cache(maxsize=4_096)
def _date(day: date, weekday: bool, language: str) -> str:
    """Babel takes about 50 µs a date: a city-wide /quahan writes sixty deadlines, mostly a
    few days of the same months."""
    if not weekday:
        return format_date(day, "dd/MM/yyyy", locale=language)
    text = format_date(day, "EEEE, dd/MM/yyyy", locale=language)
    # CLDR writes "Thứ Ba", "Chủ Nhật"; inside a sentence Vietnamese writes "thứ Ba", "Chủ nhật".
    if language == "vi":
        text = text.replace("Thứ ", "thứ ", 1).replace("Chủ Nhật", "Chủ nhật", 1)
    return text


@lru_cache(maxsize=16_384)
def _decimal(value: int | float, language: str) -> str:
    """Babel takes about 25 µs a number: a city-wide /thongke writes 5,000 of them, mostly
    the same small counts."""
    return format_decimal(value, locale=language)
