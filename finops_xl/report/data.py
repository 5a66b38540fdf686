"""Everything the leader pack shows, gathered from the store (SQL over ``CostStore.reader()``).

Amounts are EffectiveCost (amortized) of the month by ChargePeriodStart, as the allocation keys
months; an owner's cost is their allocated cost (direct plus their shares of pools). Budgets,
business volumes and revenue come from the user's CSV files, when given.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

from finops_xl.months import add_months
from finops_xl.report import ReportError
from finops_xl.report.bridge import Bridge, bridge
from finops_xl.report.governance import TagGovernance, tag_governance

ZERO = Decimal(0)
TREND_MONTHS = 6


def _dec(x) -> Decimal:
    return ZERO if x is None else Decimal(x)


@dataclasses.dataclass(frozen=True)
class UnitMetric:
    """A cost per business unit, month by month; ``worsening`` when it rose three months running."""

    owner: str
    metric: str
    series: tuple[tuple[dt.date, Decimal | None], ...]
    worsening: bool


@dataclasses.dataclass(frozen=True)
class Expiry:
    name: str
    provider: str
    end: dt.date
    days_left: int
    utilization: Decimal | None
    suggestion: str


@dataclasses.dataclass(frozen=True)
class Action:
    """An open optimization opportunity in money, with what to do."""

    owner: str
    resource: str
    savings: Decimal
    action: str


@dataclasses.dataclass(frozen=True)
class OwnerPage:
    owner: str
    total: Decimal
    previous: Decimal
    trend: tuple[tuple[dt.date, Decimal], ...]
    budget: Decimal | None
    drivers: tuple[tuple[str, Decimal], ...]  # the top three changes by service (or shared pool)
    actions: tuple[Action, ...]
    open_savings: Decimal
    commitment_coverage: Decimal | None


@dataclasses.dataclass(frozen=True)
class ReportData:
    month: dt.date
    currency: str
    total: Decimal
    previous: Decimal
    budget: Decimal | None
    forecast: Decimal | None
    forecast_note: str
    trend: tuple[tuple[dt.date, Decimal], ...]
    bridge: Bridge
    explanation: str
    unit_metrics: tuple[UnitMetric, ...]
    infra_margin: tuple[tuple[dt.date, Decimal | None], ...]
    commitment_utilization: Decimal | None
    commitment_coverage: Decimal | None
    expiries: tuple[Expiry, ...]
    realized_savings: Decimal
    open_savings: Decimal
    owners: tuple[OwnerPage, ...]
    governance: TagGovernance


def gather(store, month: dt.date, *, owner: str | None = None, budget: Path | None = None,
           business: Path | None = None) -> ReportData:
    """The report of ``month`` (first day) from ``store``; only ``owner``'s page when given."""
    with store.reader() as con:
        from finops_xl.report.governance import require_allocation

        require_allocation(con)
        gov = tag_governance(con, month)
        currency = _currency(con, month)
        trend = _monthly(con, month, "TRUE")
        total, previous = dict(trend).get(month, ZERO), dict(trend).get(add_months(month, -1), ZERO)
        b = bridge(con, month, currency)
        from finops_xl.close.variance import explain_change

        explanation = explain_change(con, month, currency=currency, top=3).text() if previous else ""
        forecast, note = _forecast(con, month, currency)
        util, cover, expiries = _commitments(con, month)
        realized, open_total, actions = _savings(con, month, currency)
        lines = _budget(budget, month) if budget else None
        owners = _owners(con, month, owner, lines, actions)
        metrics, margin = _business(con, month, business) if business else ((), ())
    return ReportData(month, currency, total, previous,
                      sum((v for (o, _), v in lines.items()), ZERO) if lines is not None else None,
                      forecast, note, trend, b, explanation, metrics, margin, util, cover, expiries,
                      realized, open_total, owners, gov)


def _currency(con, month: dt.date) -> str:
    found = [c for (c,) in con.execute(
        "SELECT DISTINCT currency FROM allocated_charges WHERE month = ? ORDER BY 1", [month]).fetchall()]
    if not found:
        raise ReportError(f"no allocated cost in {month:%Y-%m}: pick another --month")
    if len(found) > 1:
        raise ReportError(f"{month:%Y-%m} is billed in {', '.join(found)}: the report needs one currency")
    return found[0]


def _monthly(con, month: dt.date, where: str, params: list | None = None) -> tuple[tuple[dt.date, Decimal], ...]:
    first = add_months(month, -(TREND_MONTHS - 1))
    rows = con.execute(f"""
        SELECT month, sum(EffectiveCost) FROM allocated_charges
        WHERE month BETWEEN ? AND ? AND {where} GROUP BY month ORDER BY month
    """, [first, month, *(params or [])]).fetchall()
    return tuple((m, _dec(v)) for m, v in rows)


def _forecast(con, month: dt.date, currency: str) -> tuple[Decimal | None, str]:
    """The month as forecast from the consecutive months before it (ETS without seasonality; the
    run rate when there are too few)."""
    from finops_xl.planning.forecast import forecast

    rows = con.execute("SELECT month, sum(EffectiveCost) FROM allocated_charges WHERE month < ? "
                       "AND currency = ? GROUP BY month ORDER BY month", [month, currency]).fetchall()
    history: list[tuple[dt.date, Decimal]] = []
    for m, v in reversed(rows):
        if history and m != add_months(history[0][0], -1) or not history and m != add_months(month, -1):
            break
        history.insert(0, (m, _dec(v)))
    if len(history) < 2:
        return None, "too little history to forecast"
    for method in ("ets", "run_rate"):
        try:
            f = forecast(history, 1, method=method, seasonality=None)
        except (ValueError, ArithmeticError):
            continue
        return f.rows[0].forecast, f"{f.method_used} forecast from the {len(history)} months before"
    return None, "the forecast did not converge"


def _commitments(con, month: dt.date):
    from finops_xl.commitments.portfolio import expiry_calendar_from_store, monthly_kpis

    kpis = monthly_kpis(con, month, by="all")
    util = next((k.utilization for k in kpis), None)
    cover = next((k.coverage for k in kpis), None)
    try:
        cal = expiry_calendar_from_store(con, add_months(month, 1) - dt.timedelta(days=1))
    except (ValueError, LookupError):
        cal = []
    expiries = tuple(Expiry(r.name or r.id, r.provider, r.end, r.days_left,
                            r.utilization, r.suggestion) for r in cal if r.days_left <= r.window)
    return (None if util is None else Decimal(util), None if cover is None else Decimal(cover),
            tuple(sorted(expiries, key=lambda e: e.end))[:5])


def _savings(con, month: dt.date, currency: str):
    from finops_xl.optimization import ledger

    if not con.execute("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_name = 'opportunities'").fetchall()[0][0]:
        return ZERO, ZERO, ()
    realized = ledger.realized_total(con, month)
    opens = ledger.open_savings(con, month).get(currency, ZERO)
    acts = tuple(Action(o.owner or "(no owner)", o.resource_name or o.resource_id, o.estimated_savings, o.action)
                 for o in ledger.opportunities(con) if o.currency == currency and o.month == month)
    return realized, opens, acts


def _budget(path: Path, month: dt.date) -> dict[tuple[str, str], Decimal]:
    from finops_xl.close.variance import load_budget

    return {(b.owner, b.service_category): b.amount for b in load_budget(path) if b.month == month}


def _owners(con, month, only, budget, actions) -> tuple[OwnerPage, ...]:
    names = [o for (o,) in con.execute(
        "SELECT owner FROM allocated_charges WHERE month = ? AND owner <> 'UNALLOCATED' "
        "GROUP BY owner HAVING sum(EffectiveCost) <> 0 ORDER BY sum(EffectiveCost) DESC, owner",
        [month]).fetchall()]
    if only is not None:
        if only not in names:
            raise ReportError(f"no allocated cost for owner {only!r} in {month:%Y-%m} "
                              f"(owners: {', '.join(sorted(names))}): check --owner")
        names = [only]
    prev = add_months(month, -1)
    pages = []
    for name in names:
        trend = _monthly(con, month, "owner = ?", [name])
        d = dict(trend)
        drivers = con.execute("""
            SELECT CASE WHEN a.kind = 'shared' THEN 'shared: ' || a.pool_id
                        ELSE coalesce(g.ServiceName, '(no service)') END AS driver,
                   sum(CASE WHEN a.month = ? THEN a.EffectiveCost ELSE -a.EffectiveCost END) AS change
            FROM allocated_charges a LEFT JOIN allocation_groups g USING (group_id)
            WHERE a.owner = ? AND a.month IN (?, ?) GROUP BY driver
            ORDER BY abs(change) DESC, driver LIMIT 3
        """, [month, name, month, prev]).fetchall()
        (cov,) = con.execute("""
            SELECT sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'),
                   sum(EffectiveCost) FILTER (WHERE ChargeCategory = 'Usage'
                                              AND PricingCategory IN ('Standard', 'Committed'))
            FROM allocation_groups WHERE month = ? AND owner = ? AND pool_id IS NULL
        """, [month, name]).fetchall()
        mine = tuple(sorted((a for a in actions if a.owner == name), key=lambda a: -a.savings))
        owner_budget = (sum((v for (o, _), v in budget.items() if o == name), ZERO)
                        if budget is not None else None)
        pages.append(OwnerPage(name, d.get(month, ZERO), d.get(prev, ZERO), trend, owner_budget,
                               tuple((k, _dec(v)) for k, v in drivers), mine[:5],
                               sum((a.savings for a in mine), ZERO),
                               _dec(cov[0]) / _dec(cov[1]) if cov[1] else None))
    return tuple(pages)


def read_business(path: Path) -> list[tuple[dt.date, str, str, Decimal]]:
    """``month,owner,metric,value`` rows; one-line errors naming file, row, column and value."""
    out = []
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read it ({exc.strerror}): check --business") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = {"month", "owner", "metric", "value"} - set(reader.fieldnames or ())
        if missing:
            raise ReportError(f"{path}: no column {', '.join(sorted(missing))}: the header must be "
                              "month,owner,metric,value")
        for i, row in enumerate(reader, start=2):
            try:
                month = dt.date.fromisoformat(row["month"].strip() + "-01")
            except ValueError:
                raise ReportError(f"{path}, row {i}, column month: {row['month']!r} is not YYYY-MM") from None
            try:
                value = Decimal(row["value"].replace(",", "").strip())
            except InvalidOperation:
                raise ReportError(f"{path}, row {i}, column value: {row['value']!r} is not a number") from None
            out.append((month, (row["owner"] or "").strip(), row["metric"].strip(), value))
    return out


def _business(con, month: dt.date, path: Path):
    from finops_xl.planning.unit_economics import infra_share, unit_costs, worsening

    rows = read_business(path)
    first = add_months(month, -(TREND_MONTHS - 1))
    costs = {(m, o): _dec(v) for m, o, v in con.execute(
        "SELECT month, owner, sum(EffectiveCost) FROM allocated_charges WHERE month BETWEEN ? AND ? "
        "GROUP BY ALL", [first, month]).fetchall()}
    volumes = {(m, o, k): v for m, o, k, v in rows if o and first <= m <= month}
    metrics = []
    by_key: dict[tuple[str, str], list] = {}
    for r in unit_costs(costs, volumes):
        by_key.setdefault((r.owner, r.metric), []).append((r.month, r.cost_per_unit))
    for (o, k), series in sorted(by_key.items()):
        metrics.append(UnitMetric(o, k, tuple(series), month in worsening(series, 3, "up")))
    totals: dict[dt.date, Decimal] = {}
    for (m, _), v in costs.items():
        totals[m] = totals.get(m, ZERO) + v
    revenue = {m: v for m, o, k, v in rows if not o and k == "revenue" and first <= m <= month}
    cogs = {m: v for m, o, k, v in rows if not o and k == "cogs" and first <= m <= month}
    margin = tuple((s.month, s.of_gross_margin) for s in infra_share(totals, revenue, cogs))
    return tuple(metrics), margin
