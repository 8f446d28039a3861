"""The dashboard's HTML pages: the city view, a unit's page, a task's page, and the refusal.

Plain HTML and CSS, no script: sorting and filtering are links and a GET form the server
answers, so the page works in any browser and can change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from locales import Translator
from models.scoring import Colour, Colours, Formula, Ranked, colour

STYLE = """
body{font-family:system-ui,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
header{background:#7a1010;color:#fff;padding:12px 20px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;font-size:13px;opacity:.9}main{padding:16px 20px;max-width:1200px}
a{color:#0b4f9c}table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{padding:6px 8px;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
th a{color:inherit;text-decoration:none}th a:hover{text-decoration:underline}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.green td:first-child{border-left:6px solid #2e7d32}tr.yellow td:first-child{border-left:6px solid #f9a825}
tr.red td:first-child{border-left:6px solid #c62828}
.dot{display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:6px;vertical-align:middle}
.green .dot,.dot.green{background:#2e7d32}.yellow .dot,.dot.yellow{background:#f9a825}.red .dot,.dot.red{background:#c62828}
.rule{background:#fff;border:1px solid #ddd;padding:8px 12px;font-size:13px;margin:0 0 12px}
.tiles{display:flex;gap:12px;margin:0 0 12px;flex-wrap:wrap}.tile{background:#fff;border:1px solid #ddd;padding:8px 14px;min-width:120px}
.tile b{font-size:22px;display:block}form{margin:0 0 12px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
nav{margin:0 0 12px;font-size:14px}nav a.on{font-weight:bold;text-decoration:none;color:#1b1b1b}
img.chart{max-width:100%;background:#fff;border:1px solid #ddd;margin:12px 0}
.flag{font-size:12px;padding:0 4px;border-radius:3px;background:#fff3e0;color:#8a4b00}
#card th{width:220px}.refused{background:#fff;border:1px solid #ddd;padding:20px;max-width:640px}
"""

SORTS = (
    "rank",
    "name",
    "score",
    "open",
    "due_soon",
    "overdue",
    "done_on_time",
    "done_late",
    "not_updated",
    "at_risk",
    "rate",
)

Nagged = tuple[Mapping[str, int], Mapping[str, int]]  # unit code → not updated, at risk


def page(t: Translator, title: str, subtitle: str, body: Iterable[str]) -> str:
    return (
        f'<!DOCTYPE html><html lang="{t.language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<main>{''.join(body)}</main></body></html>"
    )


class Numbers:
    """`Translator.number` for a page of a thousand rows: the same few values come back
    again and again, and Babel takes tens of microseconds for each."""

    def __init__(self, t: Translator) -> None:
        self.t = t
        self.memo: dict[int | float, str] = {}
        self.decimal = t.number(0.5).strip("05")  # "," in Vietnamese, "." in English

    def __call__(self, value: int | float) -> str:
        found = self.memo.get(value)
        if found is None:
            if isinstance(value, float) and not value.is_integer():
                whole, _, fraction = f"{abs(value):.2f}".partition(".")
                sign = "-" if value < 0 else ""
                found = f"{sign}{self(int(whole))}{self.decimal}{fraction.rstrip('0')}"
            elif 0 <= value < 1000:
                found = str(int(value))  # nothing to group
            else:
                found = self.t.number(int(value))
            self.memo[value] = found
        return found


def _percent(t: Translator, rate: float | None) -> str:
    return "—" if rate is None else f"{t.number(round(100 * rate, 1))}%"


def colour_name(t: Translator, c: Colour) -> str:
    return {Colour.GREEN: t._("green"), Colour.YELLOW: t._("yellow"), Colour.RED: t._("red")}[c]


def colour_rule(t: Translator, colours: Colours) -> str:
    return t._(
        "Red: a task overdue more than {days} working days, or less than {red} of the "
        "period's finished tasks done on time. Yellow: any task overdue, or less than "
        "{yellow} on time. Green: the rest.",
        days=t.number(colours.red_overdue_working_days),
        red=_percent(t, colours.red_on_time_rate),
        yellow=_percent(t, colours.yellow_on_time_rate),
    )


@dataclass(frozen=True)
class CityQuery:
    """What the reader asked of the city view: period, sort, order and filters."""

    period: str = "thang"
    sort: str = "rank"
    descending: bool = False
    text: str = ""
    colour: str = ""

    def link(self, **changes: object) -> str:
        values = {
            "ky": self.period,
            "sx": self.sort,
            "chieu": "giam" if self.descending else "tang",
            "q": self.text,
            "mau": self.colour,
        }
        values.update({k: str(v) for k, v in changes.items()})
        return "?" + urlencode({k: v for k, v in values.items() if v})


def _sort_value(row: Ranked, key: str, nagged: Nagged) -> object:
    f = row.facts
    silent, risky = nagged
    values: dict[str, object] = {
        "rank": row.rank,
        "name": row.name.casefold(),
        "score": row.score,
        "open": f.open,
        "due_soon": f.due_soon,
        "overdue": f.overdue,
        "done_on_time": f.done_on_time,
        "done_late": f.done_late,
        "not_updated": silent.get(row.code, 0),
        "at_risk": risky.get(row.code, 0),
        "rate": -1.0 if f.on_time_rate is None else f.on_time_rate,
    }
    return values[key]


def city_page(
    t: Translator,
    rows: list[Ranked],
    formula: Formula,
    query: CityQuery,
    *,
    home: str,
    period: str,
    as_of: datetime,
    expires: datetime,
    nagged: Nagged = ({}, {}),
) -> str:
    colours = formula.colours
    painted = [(r, colour(r.facts, colours)) for r in rows]
    tiles = {c: sum(1 for _, p in painted if p is c) for c in Colour}
    wanted = query.text.casefold().strip()
    shown = [
        (r, c)
        for r, c in painted
        if (not wanted or wanted in r.name.casefold() or wanted in r.code.casefold())
        and (not query.colour or c.value == query.colour)
    ]
    shown.sort(
        key=lambda rc: (_sort_value(rc[0], query.sort, nagged), rc[0].rank),
        reverse=query.descending,
    )
    headers = [
        ("rank", t._("Place"), "n"),
        ("name", t._("Unit"), ""),
        ("score", t._("Score"), "n"),
        ("open", t._("Open"), "n"),
        ("due_soon", t._("Due soon"), "n"),
        ("overdue", t._("Overdue"), "n"),
        ("done_on_time", t._("Done on time"), "n"),
        ("done_late", t._("Done late"), "n"),
        ("not_updated", t._("Not updated"), "n"),
        ("at_risk", t._("At risk"), "n"),
        ("rate", t._("On-time rate"), "n"),
    ]
    head = "".join(
        f'<th class="{css}"><a href="{escape(query.link(sx=key, chieu="tang" if query.sort == key and query.descending else ("giam" if query.sort == key else "tang")))}" '
        f'data-sort="{key}">{escape(label)}{_arrow(query, key)}</a></th>'
        for key, label, css in headers
    )
    number = Numbers(t)
    body = "".join(_unit_row(t, number, r, c, home, nagged) for r, c in shown)
    selected = {c: " selected" if query.colour == c else "" for c in ("", *Colour)}
    options = "".join(
        f'<option value="{value}"{selected[value]}>{escape(label)}</option>'
        for value, label in (
            ("", t._("all colours")),
            *((c.value, colour_name(t, c)) for c in Colour),
        )
    )
    hint, button = t._("Unit name or code"), t._("Filter")
    count = t._("{shown} of {total} units", shown=t.number(len(shown)), total=t.number(len(rows)))
    return page(
        t,
        t._("Dashboard — the whole city"),
        t._(
            "{period}, figures as of {time}; scoring formula {version}. Read-only; this link "
            "works until {expires}.",
            period=period[:1].upper() + period[1:],
            time=t.datetime(as_of),
            version=formula.version,
            expires=t.datetime(expires),
        ),
        [
            _period_nav(t, query),
            f'<p class="rule" id="rule">{escape(colour_rule(t, colours))}</p>',
            '<div class="tiles">',
            *(
                f'<div class="tile {c.value}" id="tile-{c.value}"><b>{t.number(tiles[c])}</b>'
                f'<span class="dot"></span>{escape(colour_name(t, c))}</div>'
                for c in (Colour.RED, Colour.YELLOW, Colour.GREEN)
            ),
            "</div>",
            '<form method="get" id="filter">',
            f'<input type="hidden" name="ky" value="{escape(query.period)}">',
            f'<input type="hidden" name="sx" value="{escape(query.sort)}">',
            f'<input type="search" name="q" value="{escape(query.text)}" placeholder="{escape(hint)}">',
            f'<select name="mau">{options}</select>',
            f'<button type="submit">{escape(button)}</button>',
            f'<span id="count">{escape(count)}</span>',
            "</form>",
            f'<table id="units"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>',
            f'<img class="chart" src="{home}/chart.svg" alt="{escape(trend_alt(t))}">',
        ],
    )


def _arrow(query: CityQuery, key: str) -> str:
    if query.sort != key:
        return ""
    return " ▼" if query.descending else " ▲"


def _period_nav(t: Translator, query: CityQuery) -> str:
    links = []
    for value, label in (("thang", t._("This month")), ("quy", t._("This quarter"))):
        on = ' class="on"' if query.period == value else ""
        links.append(f'<a{on} href="{escape(query.link(ky=value))}">{escape(label)}</a>')
    return f"<nav>{' · '.join(links)}</nav>"


def _unit_row(
    t: Translator, number: Numbers, r: Ranked, c: Colour, home: str, nagged: Nagged
) -> str:
    f = r.facts
    silent, risky = nagged
    rate = "—" if f.on_time_rate is None else f"{number(round(100 * f.on_time_rate, 1))}%"
    cells = [
        f'<td class="n">{number(r.rank)}</td>',
        f'<td><span class="dot"></span><a href="{home}/u/{r.key}">{escape(r.name)}</a> ({escape(r.code)})</td>',
        f'<td class="n score">{number(r.score)}</td>',
        *(
            f'<td class="n">{number(v)}</td>'
            for v in (f.open, f.due_soon, f.overdue, f.done_on_time, f.done_late)
        ),
        f'<td class="n not-updated">{number(silent.get(r.code, 0))}</td>',
        f'<td class="n at-risk">{number(risky.get(r.code, 0))}</td>',
        f'<td class="n">{rate}</td>',
    ]
    return f'<tr class="{c.value}" data-colour="{c.value}" data-code="{escape(r.code)}">{"".join(cells)}</tr>'


def trend_alt(t: Translator) -> str:
    return t._("Trend over the last 6 months")


def refused_page(t: Translator, reason: str) -> str:
    messages = {
        "invalid": t._("This link is not valid: it may have been copied incompletely or changed."),
        "expired": t._("This link has expired: a dashboard link works for 12 hours."),
        "revoked": t._(
            "This link no longer works: the chat account it was given to has been unlinked, "
            "or the account is no longer active."
        ),
        "not_allowed": t._("This page is not open to the holder of this link."),
    }
    again = t._("Send /bangdieukhien to the bot for a new link.")
    return page(
        t,
        t._("The dashboard cannot be opened"),
        t._("Task tracking and urging system"),
        [
            f'<div class="refused" id="refused"><p>{escape(messages[reason])}</p>',
            f"<p>{escape(again)}</p></div>",
        ],
    )
