"""Driver-based forecasts and bottom-up budgets: cost = Σ unit cost × driver volume, month by month.

A *driver* is a business plan of volumes by month (headcount, MAU, transactions, TB stored); a *unit
cost* says what one unit of a driver costs an owner (team). The forecast runs 1–60 months (1–5 years).

Algorithm (``driver_forecast``), for every month of the horizon:

1. **Scenario** — driver volumes × the scenario's ``volume_factor`` (``DEFAULT_SCENARIOS``: base 1,
   low 0.9, high 1.1); a scenario may bring its own driver table instead.
2. **Unit cost** — for each owner × driver, the ``UnitCost`` with the latest ``since`` ≤ month
   (``since=None`` = from the beginning), × every matching ``PriceChange`` whose ``from_month`` ≤ month,
   × every matching *factor* ``Event`` (a migration changing unit cost) in effect.
3. **Gross** = volume × unit cost.
4. **Amount events** (a launch adds cost, a decommission removes it) are their own rows, with
   ``driver`` = the event's name and no volume or unit cost, so every line says where it came from.
5. **Commitment overlay** — for the month's fiscal year, coverage c and discount d:
   ``discount = gross × c × d``, ``net = gross − discount`` (so net = gross × (1 − c × d)). Applied to
   every row, event rows included.

Events are *step* (the full amount or factor from ``month`` on) or *ramp* (linear over
``ramp_months``: in the k-th month from ``month``, k = 1, 2, …, the share min(k, n) ÷ n of the amount,
or 1 + (factor − 1) × min(k, n) ÷ n of the factor). Several price changes or factor events compound.

Conventions: money and volumes are ``Decimal`` and exact — nothing is rounded in the forecast; budget
rows are rounded half-even to the currency's minor unit when written (``budget_rows_for_variance``).
Cost is positive spend (FOCUS sign), savings reduce it. Fractions, not percents (5% = ``0.05``).
Months are ``datetime.date`` on day 1 (``'YYYY-MM'`` accepted). Fiscal years are named by the calendar
year in which they end (``fiscal.FiscalCalendar``).

The records (``Driver``, ``UnitCost``, ``Event``, …, ``ForecastRow``) are in ``driver_model.py`` and
importable from here.

Pure Python (no DuckDB) so the Excel functions run in xlwings Lite.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import NamedTuple

from finops_xl.money import round_money
from finops_xl.planning.driver_model import (
    DEFAULT_CATEGORY, DEFAULT_SCENARIOS, ONE, ZERO, CommitmentStrategy, Driver, Event, ForecastRow, PriceChange,
    Scenario, UnitCost, _ym, to_decimal)
from finops_xl.planning.fiscal import CALENDAR_YEAR, FiscalCalendar, as_month

__all__ = [
    "ZERO", "ONE", "QUANTUM", "MAX_MONTHS", "DEFAULT_CATEGORY", "BUDGET_CSV_COLUMNS", "to_decimal",
    "Driver", "UnitCost", "Event", "PriceChange", "CommitmentStrategy", "Scenario", "DEFAULT_SCENARIOS",
    "ForecastRow", "driver_forecast", "monthly_totals", "SideBySide", "compare_scenarios",
    "unit_costs_from_history", "TeamBudget", "team_budget", "Gap", "compare_top_down",
    "budget_rows_for_variance", "write_budget_csv",
]

#: Precision of unit costs derived from history: the store's 12 decimals.
QUANTUM = Decimal("1e-12")
#: Longest horizon: five years of months.
MAX_MONTHS = 60
#: Columns ``finops_xl.close.variance.load_budget`` reads (quantity and unit optional).
BUDGET_CSV_COLUMNS = ("owner", "service_category", "month", "amount", "quantity", "unit")


# ---- forecast --------------------------------------------------------------------------------------


def _months(months: Iterable[dt.date | str]) -> tuple[dt.date, ...]:
    ms = tuple(as_month(m) for m in months)
    if not 1 <= len(ms) <= MAX_MONTHS:
        raise ValueError(f"months must hold 1 to {MAX_MONTHS} months (1–5 years), not {len(ms)}")
    if len(set(ms)) != len(ms):
        raise ValueError("months repeats a month")
    return tuple(sorted(ms))


def _scenario(scenario: str | Scenario, scenarios: Sequence[Scenario]) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    for s in scenarios:
        if s.name == scenario:
            return s
    raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(s.name for s in scenarios)}")


def driver_forecast(drivers: Iterable[Driver], unit_costs: Iterable[UnitCost],
                    months: Iterable[dt.date | str], events: Iterable[Event] = (),
                    price_changes: Iterable[PriceChange] = (),
                    commitment: CommitmentStrategy | None = None,
                    scenario: str | Scenario = "base",
                    scenarios: Sequence[Scenario] = DEFAULT_SCENARIOS) -> tuple[ForecastRow, ...]:
    """Monthly cost = Σ unit cost × driver volume, with events, price changes and commitments.

    Parameters:
      drivers: the volume plans; a unit cost of owner O and driver N uses the plan named N whose owner
        is O, else the shared one (owner None).
      unit_costs: per owner × driver (see ``UnitCost.since`` for changes over time).
      months: the horizon, 1–60 months.
      events, price_changes, commitment: see the module docstring.
      scenario: a name in ``scenarios`` or a ``Scenario``.

    Returns:
      ``ForecastRow`` s ordered by month, owner, driver. Exact Decimals, nothing rounded.

    Notes:
      net = volume × unit cost × Π price factors × Π event factors × (1 − c × d). Raises ValueError,
      naming the driver and month, when a plan lacks a month a unit cost needs.
    """
    horizon = _months(months)
    scen = _scenario(scenario, scenarios)
    plans = {(d.owner, d.name): d for d in (scen.drivers if scen.drivers is not None else drivers)}
    events, price_changes = tuple(events), tuple(price_changes)
    by_cell: dict[tuple[str, str], list[UnitCost]] = {}
    for uc in unit_costs:
        by_cell.setdefault((uc.owner, uc.driver), []).append(uc)
    for (owner, name), ucs in by_cell.items():
        sinces = [u.since for u in ucs]
        if len(set(sinces)) != len(sinces):
            raise ValueError(f"unit costs of {owner}/{name} repeat the same 'since' month")
        ucs.sort(key=lambda u: (u.since is not None, u.since or dt.date.min))
    rows: list[ForecastRow] = []
    for month in horizon:
        rate = commitment.rate(month) if commitment is not None else ZERO
        # Steps 1–3: driver cells.
        for (owner, name), ucs in by_cell.items():
            applicable = [u for u in ucs if u.since is None or u.since <= month]
            if not applicable:
                continue
            uc = applicable[-1]
            plan = plans.get((owner, name)) or plans.get((None, name))
            if plan is None:
                raise ValueError(f"no driver plan named {name!r} (for owner {owner!r})")
            volume = plan.volume(month) * scen.volume_factor
            unit_cost = uc.cost_per_unit
            for pc in price_changes:
                if pc.from_month <= month and pc.matches(owner, name):
                    unit_cost *= pc.factor
            for ev in events:
                if ev.factor is not None and ev.matches(owner, name):
                    share = ev.share(month)
                    if share:
                        unit_cost *= ONE + (ev.factor - ONE) * share
            gross = volume * unit_cost
            discount = gross * rate
            rows.append(ForecastRow(month, owner, name, volume, unit_cost, gross, discount,
                                    gross - discount, uc.service_category or DEFAULT_CATEGORY,
                                    uc.source or f"unit cost {owner}/{name}"))
        # Step 4: event amounts as their own rows.
        for ev in events:
            if ev.amount is not None:
                share = ev.share(month)
                if share:
                    gross = ev.amount * share
                    discount = gross * rate
                    rows.append(ForecastRow(month, ev.owner, ev.name, None, None, gross, discount,
                                            gross - discount, ev.service_category or DEFAULT_CATEGORY,
                                            f"event {ev.name} ({ev.kind})"))
    rows.sort(key=lambda r: (r.month, r.owner, r.driver))
    return tuple(rows)


def monthly_totals(rows: Iterable[ForecastRow], field: str = "net") -> tuple[tuple[dt.date, Decimal], ...]:
    """Exact ``(month, Σ field)`` pairs in month order (``field``: ``gross``, ``discount`` or ``net``)."""
    totals: dict[dt.date, Decimal] = {}
    for r in rows:
        totals[r.month] = totals.get(r.month, ZERO) + getattr(r, field)
    return tuple(sorted(totals.items()))


class SideBySide(NamedTuple):
    """One month of scenarios side by side: ``by_scenario`` = ``(name, Σ net)`` in scenario order."""

    month: dt.date
    by_scenario: tuple[tuple[str, Decimal], ...]


def compare_scenarios(drivers: Iterable[Driver], unit_costs: Iterable[UnitCost],
                      months: Iterable[dt.date | str], events: Iterable[Event] = (),
                      price_changes: Iterable[PriceChange] = (),
                      commitment: CommitmentStrategy | None = None,
                      scenarios: Sequence[Scenario] = DEFAULT_SCENARIOS) -> tuple[SideBySide, ...]:
    """Monthly net totals of every scenario, side by side (same inputs, one forecast each)."""
    drivers, unit_costs, events = tuple(drivers), tuple(unit_costs), tuple(events)
    price_changes, months = tuple(price_changes), _months(months)
    per = [(s.name, dict(monthly_totals(driver_forecast(drivers, unit_costs, months, events,
                                                        price_changes, commitment, s, scenarios))))
           for s in scenarios]
    return tuple(SideBySide(m, tuple((name, t.get(m, ZERO)) for name, t in per)) for m in months)


# ---- unit costs from history -----------------------------------------------------------------------


def unit_costs_from_history(history_costs: Iterable[tuple], history_volumes: Iterable[tuple],
                            window: int = 3) -> tuple[UnitCost, ...]:
    """Unit cost per owner × driver = Σ cost ÷ Σ volume over a trailing window.

    Parameters:
      history_costs: ``(month, owner, driver, cost)`` rows (several per cell and month are summed).
      history_volumes: ``(month, owner, driver, volume)`` rows (summed likewise).
      window: months in the window (≥ 1).

    Returns:
      ``UnitCost`` s ordered by owner, driver, with ``source`` naming the window; ``since`` None.

    Notes:
      Window rule: for each owner × driver, the months that have both a cost and a volume; the window
      is the latest ``window`` of them (fewer if history is shorter). The unit cost is
      volume-weighted — Σ cost ÷ Σ volume over the window, not a mean of monthly ratios — rounded
      half-even to 12 decimals. A cell whose window volume is 0, or that has cost but no volume in
      any month, is reported in one ValueError listing every such cell.
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a whole number of months ≥ 1, not {window!r}")
    costs: dict[tuple[str, str], dict[dt.date, Decimal]] = {}
    vols: dict[tuple[str, str], dict[dt.date, Decimal]] = {}
    for target, rows, what in ((costs, history_costs, "cost"), (vols, history_volumes, "volume")):
        for month, owner, driver, value in rows:
            m = as_month(month)
            cell = target.setdefault((owner, driver), {})
            cell[m] = cell.get(m, ZERO) + to_decimal(value, f"{what} of {owner}/{driver} in {_ym(m)}")
    problems, out = [], []
    for (owner, driver), cmonths in sorted(costs.items()):
        vmonths = vols.get((owner, driver), {})
        both = sorted(set(cmonths) & set(vmonths))[-window:]
        if not both:
            problems.append(f"{owner}/{driver}: cost but no volume in any month")
            continue
        total_cost = sum((cmonths[m] for m in both), ZERO)
        total_vol = sum((vmonths[m] for m in both), ZERO)
        if total_vol == 0:
            problems.append(f"{owner}/{driver}: volume is 0 over {_ym(both[0])}..{_ym(both[-1])}")
            continue
        out.append(UnitCost(owner, driver,
                            (total_cost / total_vol).quantize(QUANTUM, rounding=ROUND_HALF_EVEN),
                            source=f"history {_ym(both[0])}..{_ym(both[-1])} ({len(both)} months)"))
    if problems:
        raise ValueError("cannot derive unit costs:\n  " + "\n  ".join(problems))
    return tuple(out)


# ---- bottom-up budget ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TeamBudget:
    """A bottom-up budget for one fiscal year.

    Attributes:
      fiscal_year: named by the calendar year in which it ends.  calendar: its fiscal calendar.
      lines: the forecast rows (owner = team) behind it.
    """

    fiscal_year: int
    calendar: FiscalCalendar
    lines: tuple[ForecastRow, ...]

    def by_team(self) -> dict[str, tuple[tuple[dt.date, Decimal], ...]]:
        """Each team's monthly budget (Σ net), all twelve months in order (0 where it has no line)."""
        months = self.calendar.months(self.fiscal_year)
        out = {}
        for team in sorted({r.owner for r in self.lines}):
            totals = dict(monthly_totals(r for r in self.lines if r.owner == team))
            out[team] = tuple((m, totals.get(m, ZERO)) for m in months)
        return out

    @property
    def total(self) -> Decimal:
        """Σ net of every line (exact)."""
        return sum((r.net for r in self.lines), ZERO)


def team_budget(plans: Mapping[str, Iterable[Driver]], unit_costs: Iterable[UnitCost],
                fiscal_year: int, calendar: FiscalCalendar = CALENDAR_YEAR,
                events: Iterable[Event] = (), price_changes: Iterable[PriceChange] = (),
                commitment: CommitmentStrategy | None = None,
                scenario: str | Scenario = "base") -> TeamBudget:
    """Bottom-up budget: each team's own driver plans × its unit costs, for the 12 months of
    ``fiscal_year``.

    ``plans`` maps team → its drivers; each plan is taken as that team's (``Driver.owner`` = team), so
    two teams may both plan ``headcount``. Unit costs are matched by owner = team.
    """
    drivers = [dataclasses.replace(d, owner=team) for team, ds in plans.items() for d in ds]
    lines = driver_forecast(drivers, unit_costs, calendar.months(fiscal_year), events,
                            price_changes, commitment, scenario)
    return TeamBudget(fiscal_year, calendar, lines)


class Gap(NamedTuple):
    """Bottom-up against top-down.

    Attributes:
      bottom_up, target: totals.  gap: bottom_up − target (positive = the teams ask for more than the
      target).  gap_pct: gap ÷ target (a fraction; None when the target is 0).
    """

    bottom_up: Decimal
    target: Decimal
    gap: Decimal
    gap_pct: Decimal | None


def compare_top_down(bottom_up_total, target) -> Gap:
    """The gap between a bottom-up total and a top-down target.

    >>> compare_top_down(Decimal("110"), Decimal("100"))
    Gap(bottom_up=Decimal('110'), target=Decimal('100'), gap=Decimal('10'), gap_pct=Decimal('0.1'))
    """
    b, t = to_decimal(bottom_up_total, "bottom_up_total"), to_decimal(target, "target")
    g = b - t
    return Gap(b, t, g, g / t if t else None)


def budget_rows_for_variance(rows: Iterable[ForecastRow] | TeamBudget,
                             pricing_units: Mapping[str, str] | None = None,
                             field: str = "net", currency: str = "USD") -> tuple[dict[str, str], ...]:
    """Budget lines in the shape ``finops_xl.close.variance.load_budget`` reads.

    Parameters:
      rows: forecast rows or a ``TeamBudget``.
      pricing_units: driver name → FOCUS PricingUnit (e.g. ``{"storage": "GB-Mo"}``) for drivers whose
        volume is a billed quantity; only then is a quantity written.
      field: ``net`` (after commitment discount, EffectiveCost-like; default) or ``gross``.

    Returns:
      One dict per owner × service_category × month with ``owner, service_category, month`` (YYYY-MM),
      ``amount`` (Σ field, rounded half-even to the currency's minor unit) and ``quantity, unit``
      (Σ volume and its unit when every row of the line is a driver in ``pricing_units`` with the same
      unit; else empty), ordered by owner, category, month.
    """
    lines = rows.lines if isinstance(rows, TeamBudget) else tuple(rows)
    pricing_units = pricing_units or {}
    cells: dict[tuple[str, str, dt.date], list[ForecastRow]] = {}
    for r in lines:
        cells.setdefault((r.owner, r.service_category, r.month), []).append(r)
    out = []
    for (owner, category, month), rs in sorted(cells.items()):
        amount = round_money(sum((getattr(r, field) for r in rs), ZERO), currency)
        units = {pricing_units.get(r.driver) if r.volume is not None else None for r in rs}
        quantity = unit = ""
        if len(units) == 1 and None not in units:
            unit = units.pop()
            quantity = str(sum((r.volume for r in rs), ZERO))
        out.append({"owner": owner, "service_category": category, "month": _ym(month),
                    "amount": str(amount), "quantity": quantity, "unit": unit})
    return tuple(out)


def write_budget_csv(rows: Iterable[Mapping[str, str]], path: str | Path) -> Path:
    """Write ``budget_rows_for_variance`` output as a CSV ``load_budget`` reads; returns the path."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=BUDGET_CSV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in BUDGET_CSV_COLUMNS})
    return path
