"""The dashboard's trend charts as SVG, drawn by matplotlib on the server: the on-time rate
and the overdue count per week over the last six months."""

from __future__ import annotations

from io import BytesIO

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from locales import Translator
from models.dashboard import Week

# Text stays text in the SVG (the browser draws it with the page's fonts, Vietnamese included);
# no id or date in the file, so the same data gives the same bytes.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "dondoc"

GREEN, RED = "#2e7d32", "#c62828"


def trend_svg(weeks: list[Week], t: Translator, title: str) -> bytes:
    """Two small panels one above the other: on-time rate (%) and overdue tasks, per week."""
    labels = [w.end.strftime("%d/%m") for w in weeks]
    rates = [None if w.on_time_rate is None else round(100 * w.on_time_rate, 1) for w in weeks]
    figure = Figure(figsize=(8, 4.6), dpi=96)
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.plot(
        range(len(weeks)),
        [float("nan") if r is None else r for r in rates],
        color=GREEN,
        marker="o",
        markersize=3,
    )
    top.set_ylim(0, 105)
    top.set_ylabel(t._("On time (%)"))
    top.set_title(title, fontsize=11)
    bottom.bar(range(len(weeks)), [w.overdue for w in weeks], color=RED)
    bottom.set_ylabel(t._("Overdue"))
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    step = max(1, len(weeks) // 9)
    bottom.set_xticks(range(0, len(weeks), step), labels[::step], fontsize=8)
    bottom.set_xlabel(t._("Week ending"))
    for axes in (top, bottom):
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    out = BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
