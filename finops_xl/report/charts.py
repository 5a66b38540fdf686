"""The report's charts: Vega-Lite specifications built with altair, rendered to SVG offline by
vl-convert (no browser, no network), so the HTML embeds them as they are."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import altair as alt
import vl_convert

BLUE, GREY, RED, GREEN = "#2f5597", "#a6a6a6", "#c00000", "#548235"
_FONT = "Helvetica, Arial, sans-serif"


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG document (its XML declaration dropped, to inline it in HTML)."""
    spec = chart.configure(font=_FONT).configure_view(stroke=None).to_dict()
    text = vl_convert.vegalite_to_svg(spec)
    return text[text.index("<svg"):]


def _f(x: Decimal | None) -> float | None:
    return None if x is None else float(x)


def monthly_bars(trend: tuple[tuple[dt.date, Decimal], ...], title: str, *, budget: Decimal | None = None,
                 width: int = 420, height: int = 130) -> str:
    data = [{"month": f"{m:%b %Y}", "order": i, "cost": _f(v)} for i, (m, v) in enumerate(trend)]
    bars = alt.Chart(alt.Data(values=data)).mark_bar(color=BLUE).encode(
        x=alt.X("month:N", sort=alt.SortField("order"), title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("cost:Q", title="cost", axis=alt.Axis(format="~s")),
        tooltip=["month:N", alt.Tooltip("cost:Q", format=",.2f")])
    layers = [bars]
    if budget is not None:
        rule = alt.Chart(alt.Data(values=[{"budget": _f(budget)}])).mark_rule(
            color=RED, strokeDash=[4, 3]).encode(y="budget:Q")
        layers.append(rule)
    return svg(alt.layer(*layers).properties(title=title, width=width, height=height))


def waterfall(previous_label: str, previous: Decimal, parts: list[tuple[str, Decimal]],
              current_label: str, current: Decimal, *, width: int = 440, height: int = 160) -> str:
    """A bridge: the previous total, each driver as a floating bar, the current total."""
    rows, level = [], float(previous)
    rows.append({"step": previous_label, "order": 0, "start": 0.0, "end": level, "kind": "total",
                 "amount": level})
    for i, (label, amount) in enumerate(parts, start=1):
        a = float(amount)
        rows.append({"step": label, "order": i, "start": level, "end": level + a,
                     "kind": "up" if a >= 0 else "down", "amount": a})
        level += a
    rows.append({"step": current_label, "order": len(parts) + 1, "start": 0.0, "end": float(current),
                 "kind": "total", "amount": float(current)})
    ends = [v for r in rows for v in ((r["start"], r["end"]) if r["kind"] != "total" else (r["end"],))]
    low, high = min(ends), max(ends)
    pad = (high - low) * 0.15 or abs(high) * 0.05 or 1.0
    chart = alt.Chart(alt.Data(values=rows)).mark_bar(size=30, clip=True).encode(
        x=alt.X("step:N", sort=alt.SortField("order"), title=None,
                axis=alt.Axis(labelAngle=-20, labelLimit=120, labelFontSize=9)),
        y=alt.Y("start:Q", title="cost", axis=alt.Axis(format="~s"),
                scale=alt.Scale(zero=False, domain=[max(0.0, low - pad), high + pad / 3])),
        y2="end:Q",
        color=alt.Color("kind:N", legend=None, scale=alt.Scale(
            domain=["total", "up", "down"], range=[BLUE, RED, GREEN])),
        tooltip=["step:N", alt.Tooltip("amount:Q", format=",.2f")])
    return svg(chart.properties(title="What changed the month's cost", width=width, height=height))


def share_trend(series: list[tuple[dt.date, Decimal | None]], target: Decimal, title: str, *,
                width: int = 420, height: int = 110) -> str:
    data = [{"month": f"{m:%b %Y}", "order": i, "share": _f(v)} for i, (m, v) in enumerate(series)]
    line = alt.Chart(alt.Data(values=data)).mark_line(point=True, color=RED).encode(
        x=alt.X("month:N", sort=alt.SortField("order"), title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("share:Q", title="share of spend", axis=alt.Axis(format="%"),
                scale=alt.Scale(domainMin=0)))
    rule = alt.Chart(alt.Data(values=[{"target": _f(target)}])).mark_rule(
        color=GREEN, strokeDash=[4, 3]).encode(y="target:Q")
    return svg(alt.layer(line, rule).properties(title=title, width=width, height=height))


def stacked_shares(rows: list[tuple[str, str, Decimal]], title: str, *, width: int = 420,
                   height: int = 110) -> str:
    """Horizontal 100% bars: (bar, part, amount)."""
    order = list(dict.fromkeys(p for _, p, _ in rows))
    data = [{"bar": b, "part": p, "amount": _f(a), "rank": order.index(p)} for b, p, a in rows]
    chart = alt.Chart(alt.Data(values=data)).mark_bar().encode(
        y=alt.Y("bar:N", title=None, sort=None),
        x=alt.X("sum(amount):Q", stack="normalize", title=None, axis=alt.Axis(format="%")),
        color=alt.Color("part:N", sort=order, title=None,
                        scale=alt.Scale(domain=order, range=[BLUE, "#8faadc", GREY, RED, "#ffc000"][:len(order)]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("rank:Q"))
    return svg(chart.properties(title=title, width=width, height=height))
