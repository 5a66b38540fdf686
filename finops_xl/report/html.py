"""The leader pack's layout: one self-contained HTML document (no scripts, no external files; charts
inline as SVG), one ``<section class="page">`` per printed page: finance, one per owner, tag
governance. The words are a CFO's and a VP of Engineering's, not FOCUS column names."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

from finops_xl.money import format_money
from finops_xl.report import charts
from finops_xl.report.bridge import sentence
from finops_xl.report.data import OwnerPage, ReportData
from finops_xl.report.governance import TagGovernance

CSS = """
@page { size: A4 landscape; margin: 10mm 12mm; }
* { box-sizing: border-box; }
body { font: 9.5pt/1.3 Helvetica, Arial, sans-serif; color: #1f1f1f; margin: 0; background: #fff; }
.page { padding: 6mm 4mm; break-after: page; page-break-after: always; overflow: hidden; }
.page:last-child { break-after: auto; page-break-after: auto; }
@media print { .page { height: 189mm; padding: 0; } }
@media screen { .page { max-width: 277mm; margin: 0 auto 8mm; border-bottom: 1px solid #d9d9d9; } }
h1 { font-size: 17pt; margin: 0 0 2mm; color: #1f3864; }
h2 { font-size: 11.5pt; margin: 3mm 0 1.5mm; color: #2f5597; }
.lead { font-size: 11pt; margin: 0 0 3mm; }
.kpis { display: flex; gap: 3mm; margin: 0 0 3mm; }
.kpi { flex: 1; border: 1px solid #d9e1f2; border-radius: 2mm; padding: 2mm 3mm; background: #f7f9fd; }
.kpi .label { font-size: 8.5pt; color: #595959; }
.kpi .value { font-size: 14pt; font-weight: bold; }
.kpi .note { font-size: 8pt; color: #595959; }
.cols { display: flex; gap: 6mm; }
.cols > div { flex: 1; min-width: 0; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
th, td { padding: 0.8mm 1.5mm; border-bottom: 1px solid #e7e6e6; text-align: left; vertical-align: top; }
th { background: #d9e1f2; }
td.num, th.num { text-align: right; white-space: nowrap; }
.flag { color: #c00000; font-weight: bold; }
.good { color: #548235; font-weight: bold; }
.small { font-size: 8.5pt; color: #595959; }
svg { max-width: 100%; height: auto; }
table.fixed { table-layout: fixed; }
table.fixed td { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
"""


def _e(text) -> str:
    return html.escape(str(text))


def _pct(x: Decimal | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x:+.1%}" if signed else f"{x:.1%}"


class _Money:
    def __init__(self, currency: str):
        self.currency = currency

    def __call__(self, amount: Decimal | None, signed: bool = False) -> str:
        if amount is None:
            return "n/a"
        text = format_money(amount, self.currency)
        return ("+" + text if signed and amount > 0 else text) + f" {self.currency}"


def _kpi(label: str, value: str, note: str = "", cls: str = "") -> str:
    return (f'<div class="kpi"><div class="label">{_e(label)}</div>'
            f'<div class="value {cls}">{value}</div><div class="note">{note}</div></div>')


def _vs(money, actual: Decimal, other: Decimal | None, what: str) -> tuple[str, str]:
    if other is None:
        return f"no {what}", ""
    diff = actual - other
    pct = diff / other if other else None
    cls = "flag" if diff > 0 else "good"
    return f"{_e(money(diff, signed=True))} ({_pct(pct, signed=True)}) vs {what}", cls


def render(data: ReportData, *, title: str = "Cloud cost leader pack") -> str:
    money = _Money(data.currency)
    pages = [finance_page(data, money)]
    pages += [owner_page(data, o, money) for o in data.owners]
    pages.append(governance_page(data.governance, money, data.currency))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)} — {data.month:%B %Y}</title><style>{CSS}</style></head>"
            f"<body>{''.join(pages)}</body></html>\n")


def finance_page(d: ReportData, money) -> str:
    vs_budget, budget_cls = _vs(money, d.total, d.budget, "budget")
    vs_last, last_cls = _vs(money, d.total, d.previous or None, "last month")
    kpis = "".join([
        _kpi(f"Cloud cost, {d.month:%B %Y}", f'<span class="month-total">{_e(money(d.total))}</span>',
             f'<span class="{last_cls}">{vs_last}</span>'),
        _kpi("Budget", _e(money(d.budget)), f'<span class="{budget_cls}">{vs_budget}</span>'),
        _kpi("Forecast for the month", _e(money(d.forecast)),
             _e(d.forecast_note) + (f"; actual {_pct((d.total - d.forecast) / d.forecast, signed=True)}"
                                    if d.forecast else "")),
        _kpi("Savings", _e(money(d.realized_savings)),
             f"realized this month; {_e(money(d.open_savings))} a month still open"),
    ])
    b = d.bridge
    bridge_svg = charts.waterfall(f"{b.previous_month:%b}", b.previous,
                                  [(label, a) for _, label, a in b.parts], f"{b.month:%b}", b.current)
    trend_svg = charts.monthly_bars(d.trend, "Monthly cloud cost", budget=d.budget)
    bridge_rows = "".join(f"<tr><td>{_e(label)}</td><td class='num'>{_e(money(a, signed=True))}</td></tr>"
                          for _, label, a in b.parts)
    unit_rows = "".join(
        f"<tr><td>{_e(m.owner)}: cost per {_e(m.metric.removesuffix('s') if m.metric.endswith('users') else m.metric)}</td>"
        f"<td class='num'>{_unit(m.series[-1][1] if m.series else None)}</td>"
        f"<td class='num'>{_trend_word(m.series)}</td>"
        f"<td>{'<span class=flag>▲ 3 months</span>' if m.worsening else ''}</td></tr>"
        for m in d.unit_metrics)
    margin = d.infra_margin[-1][1] if d.infra_margin else None
    margin_prev = d.infra_margin[-2][1] if len(d.infra_margin) > 1 else None
    if margin is not None:
        unit_rows += (f"<tr><td>Cloud cost as a share of gross margin</td><td class='num'>{_pct(margin)}</td>"
                      f"<td class='num'>{_pct(margin_prev)} last month</td>"
                      f"<td>{'<span class=flag>up</span>' if margin_prev is not None and margin > margin_prev else ''}</td></tr>")
    unit_block = (f"<table><tr><th>Unit economics</th><th class='num'>this month</th><th class='num'>trend</th><th></th></tr>"
                  f"{unit_rows}</table>") if unit_rows else "<p class='small'>No business volumes given (--business).</p>"
    expiry = "".join(f"<tr><td>{_e(x.name)}</td><td>{x.end:%d %b %Y}</td><td class='num'>{x.days_left} days</td>"
                     f"<td class='num'>{_pct(x.utilization)}</td><td>{_e(x.suggestion)}</td></tr>" for x in d.expiries)
    commit = (f"<p>Commitments cover <b>{_pct(d.commitment_coverage)}</b> of eligible usage and are "
              f"<b>{_pct(d.commitment_utilization)}</b> used.</p>"
              + (f"<table><tr><th>Expiring soon</th><th>ends</th><th class='num'>left</th><th class='num'>used</th>"
                 f"<th>advice</th></tr>{expiry}</table>" if expiry else "<p class='small'>No commitment ends in the next 90 days.</p>"))
    return (f'<section class="page" data-page="finance"><h1>Cloud cost, {d.month:%B %Y}: finance summary</h1>'
            f'<p class="lead">{_e(sentence(b, money))}</p><div class="kpis">{kpis}</div>'
            f'<div class="cols"><div>{bridge_svg}<table><tr><th>Driver of the change</th><th class="num">amount</th></tr>'
            f'{bridge_rows}</table><p class="small">{_e(d.explanation)}</p></div>'
            f'<div>{trend_svg}<h2>Unit economics</h2>{unit_block}<h2>Commitments</h2>{commit}</div></div></section>')


def _unit(x: Decimal | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.4f}" if abs(x) < 1 else f"{x:,.2f}"


def _trend_word(series) -> str:
    values = [v for _, v in series if v is not None]
    if len(values) < 2 or not values[0]:
        return ""
    return f"{(values[-1] / values[0] - 1):+.1%} in {len(values) - 1} months"


def owner_page(d: ReportData, o: OwnerPage, money) -> str:
    vs_last, last_cls = _vs(money, o.total, o.previous or None, "last month")
    vs_budget, budget_cls = _vs(money, o.total, o.budget, "budget")
    kpis = "".join([
        _kpi(f"{o.owner}: cost in {d.month:%B %Y}", f'<span class="owner-total">{_e(money(o.total))}</span>',
             f'<span class="{last_cls}">{vs_last}</span>'),
        _kpi("Budget", _e(money(o.budget)), f'<span class="{budget_cls}">{vs_budget}</span>'),
        _kpi("Open savings", _e(money(o.open_savings)), f"a month, in {len(o.actions)} top actions below"),
        _kpi("Commitment coverage", _pct(o.commitment_coverage), "of your eligible usage cost"),
    ])
    drivers = "".join(f"<tr><td>{_e(k)}</td><td class='num'>{_e(money(v, signed=True))}</td></tr>" for k, v in o.drivers)
    actions = "".join(f"<tr><td>{_e(a.resource)}</td><td>{_e(a.action)}</td>"
                      f"<td class='num'>{_e(money(a.savings))}</td></tr>" for a in o.actions)
    change = o.total - o.previous
    lead = (f"{o.owner} spent {money(o.total)} in {d.month:%B %Y}, "
            f"{'up' if change > 0 else 'down'} {money(abs(change))} on {d.bridge.previous_month:%B}"
            + (f"; {_e(o.drivers[0][0])} moved most ({money(o.drivers[0][1], signed=True)})." if o.drivers else "."))
    return (f'<section class="page" data-page="owner" data-owner="{_e(o.owner)}">'
            f"<h1>{_e(o.owner)}: cloud cost, {d.month:%B %Y}</h1><p class='lead'>{_e(lead)}</p>"
            f'<div class="kpis">{kpis}</div><div class="cols"><div>'
            f'{charts.monthly_bars(o.trend, f"{o.owner}: monthly cost", budget=o.budget)}'
            f"<h2>Top three drivers of the change</h2><table><tr><th>what moved</th><th class='num'>change</th></tr>"
            f"{drivers}</table></div><div><h2>Your open savings: what to do</h2>"
            + (f"<table><tr><th>resource</th><th>action</th><th class='num'>saves a month</th></tr>{actions}</table>"
               if actions else "<p>No open opportunities this month.</p>")
            + "</div></div></section>")


def governance_page(g: TagGovernance, money, currency: str) -> str:
    cur = g.current
    to_target = g.months_to_target
    outlook = ("at target" if to_target == 0 else f"about {to_target} months to the target at the recent pace"
               if to_target else "not getting closer to the target")
    kpis = "".join([
        _kpi("Untagged spend", f'<span class="untagged">{_e(money(cur.untagged))}</span>',
             f'<span class="untagged-share">{_pct(cur.untagged_share)}</span> of the month, before any policy spread'),
        _kpi("Unallocatable", _e(money(cur.unallocatable)),
             f"{_pct(cur.unallocatable_share)}: no tag, account default or hierarchy reaches it"),
        _kpi("Target", _pct(g.target), _e(outlook)),
    ])
    months = [c for c in g.coverage if c.total]
    cov_rows = [(f"{c.month:%b %Y}", part, amount) for c in months[-6:] for part, amount in (
        ("by tag", c.by_tag), ("by hierarchy or account", c.by_hierarchy),
        ("shared services by rule", c.shared_by_rule), ("untagged, spread by policy", c.spread_by_policy),
        ("unallocated", c.unallocated))]
    cov_svg = charts.stacked_shares(cov_rows, "Allocation coverage: how cost reached its owner")
    trend = [(t.month, t.untagged_share) for t in g.trend if t.month <= g.month and t.total][-6:]
    trend_svg = charts.share_trend(trend, g.target, "Untagged share of spend, and the target")
    acc = "".join(f"<tr><td>{_e(a.label)}</td><td class='num'>{_e(money(a.untagged))}</td>"
                  f"<td class='num'>{_pct(a.share)}</td></tr>" for a in g.by_account[:6])
    own = "".join(f"<tr><td>{_e(a.label)}</td><td class='num'>{_e(money(a.untagged))}</td></tr>" for a in g.by_owner[:4])
    comp = "".join(f"<tr><td>{_e(c.dimension)}</td><td class='num'>{_pct(c.share)}</td>"
                   f"<td class='num'>{_pct(c.nonstandard / c.total if c.total else None)}</td>"
                   f"<td class='num'>{_pct(c.missing / c.total if c.total else None)}</td></tr>" for c in g.compliance)
    res = "".join(f"<tr><td>{_e(r.resource_name or r.resource_id)}</td><td>{_e(r.account)}</td>"
                  f"<td>{_e(r.service or '')}</td><td class='num'>{_e(money(r.cost))}</td></tr>" for r in g.resources[:5])
    last = next((c for c in g.coverage if c.month == g.month), None)
    split = (f"Allocation coverage in {g.month:%B}: <b>{_pct(last.share('tag_or_hierarchy'))}</b> allocated by tag or "
             f"hierarchy, {_pct(last.share('shared_by_rule'))} shared services split by rule, "
             f"<b>{_pct(last.share('spread_by_policy'))}</b> spread by policy, {_pct(last.share('unallocated'))} unallocated."
             if last else "")
    return (f'<section class="page" data-page="tags"><h1>Tag governance, {g.month:%B %Y}</h1>'
            f"<p class='lead'>{split}</p><div class='kpis'>{kpis}</div><div class='cols'><div>{trend_svg}"
            f"<h2>Untagged spend by account</h2><table class='fixed'><tr><th style='width:56%'>account</th>"
            f"<th class='num' style='width:24%'>untagged</th><th class='num' style='width:20%'>of the account</th></tr>{acc}</table>"
            f"<h2>Who carries it (by hierarchy or default)</h2><table>{own}</table></div>"
            f"<div>{cov_svg}<h2>Tag-key compliance</h2><table><tr><th>tag</th><th class='num'>valid</th>"
            f"<th class='num'>non-standard</th><th class='num'>missing</th></tr>{comp}</table>"
            f"<h2>Top untagged resources</h2><table class='fixed'><tr><th style='width:36%'>resource</th>"
            f"<th style='width:28%'>account</th><th style='width:18%'>service</th>"
            f"<th class='num' style='width:18%'>cost</th></tr>{res}</table></div></div></section>")
