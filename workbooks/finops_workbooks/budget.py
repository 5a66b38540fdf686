"""The "Budget" template: a driver-based cost budget with a scenario switch, native formulas.

Sheets, in tab order:

1. **Assumptions** — the scenario switch (``Scenario``: base, low or high), the commitment
   coverage and discount (``Coverage``, ``Discount``), the scenario factors table
   (``ScenarioNames``, ``ScenarioFactors``) and the unit cost of each owner × driver. Yellow
   cells are inputs.
2. **Drivers** — the planned volume of each owner × driver by month (inputs).
3. **Forecast** (opens first) — per owner × driver × month: gross = volume × scenario factor ×
   unit cost, net = gross × (1 − Coverage × Discount); monthly totals (``SUM``) and a fiscal-year
   roll-up (``SUMIFS`` over the fiscal-year key row, the key computed here by ``FiscalCalendar``).
   Only ``INDEX``/``MATCH``/``SUM``/``SUMIFS``: the same numbers as
   ``finops_xl.planning.drivers.driver_forecast`` for the chosen scenario.
4. **Trend** (with ``history``) — monthly history, the Python forecast (point, low, high) as
   values with a line chart, and a ``FINOPS.FORECAST`` formula that asks the add-in again
   (needs the finops-xl add-in; nothing else depends on it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from finops_xl import excel_functions as registry

from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft, start_sheet
from finops_workbooks.model import (
    Chart,
    DefinedName,
    Formula,
    Style,
    WorkbookSpec,
    quote_sheet,
    ref,
)
from finops_xl import __version__
from finops_xl.planning.drivers import (
    DEFAULT_SCENARIOS,
    Driver,
    UnitCost,
    _months,
    _scenario,
)
from finops_xl.planning.driver_inputs import read_drivers_csv, read_unit_costs_csv  # noqa: F401 (the CLI reads them here)
from finops_xl.planning.fiscal import FiscalCalendar, as_month
from finops_xl.planning.trend import trend_forecast

ASSUMPTIONS, DRIVERS, FORECAST, TREND = "Assumptions", "Drivers", "Forecast", "Trend"
FIRST_MONTH_COLUMN = 4  # D: month columns on Drivers and Forecast line up
PERCENT = Style(number_format="0.0%", fill="FFF2CC")
FACTOR = Style(number_format="0.00")

_NAMES = {"Scenario": "B4", "Coverage": "B5", "Discount": "B6",
          "ScenarioNames": "A9:A11", "ScenarioFactors": "B9:B11"}
_UNIT_COST_ROW = 14  # first unit-cost row on Assumptions (header on 13)


def build_budget(drivers: Iterable[Driver], unit_costs: Iterable[UnitCost],
                 months: Iterable[dt.date | str], *, commitment: tuple = (0, 0),
                 calendar_start_month: int = 1,
                 history: Sequence[tuple[dt.date, Decimal]] | None = None,
                 runtime: str = "server", scenario: str = "base", portfolio: tuple | None = None) -> WorkbookSpec:
    """The Budget workbook of ``drivers`` × ``unit_costs`` over ``months``.

    ``portfolio`` (``(inventory, actions, savings now)`` from :mod:`finops_xl.commitments`) adds the Commitments
    sheet: the real portfolio's overlay, P&L and cash (:mod:`finops_workbooks.budget_commitments`).

    ``commitment`` is a flat ``(coverage, discount)``; ``scenario`` the initial value of the
    scenario switch (base, low or high); ``history`` (``(month, cost)`` pairs) adds the Trend
    sheet. Unit costs must be one per owner × driver, without ``since`` (use the Python
    ``driver_forecast`` for changing unit costs, price changes and events).
    Raises ValueError for a bad argument or a driver plan missing a month.
    """
    if runtime not in registry.RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: use one of {', '.join(registry.RUNTIMES)}")
    horizon = _months(months)
    _scenario(scenario, DEFAULT_SCENARIOS)  # raises for an unknown name
    calendar = FiscalCalendar(calendar_start_month)
    coverage, discount = (Decimal(str(x)) for x in commitment)
    for name, v in (("coverage", coverage), ("discount", discount)):
        if not 0 <= v <= 1:
            raise ValueError(f"commitment {name} must be a fraction in [0, 1], not {v}")
    drivers_list, unit_costs_list = list(drivers), list(unit_costs)
    drivers, unit_costs = drivers_list, unit_costs_list
    plans = {(d.owner, d.name): d for d in drivers}
    lines: list[tuple[UnitCost, Driver]] = []
    seen = set()
    for uc in sorted(unit_costs, key=lambda u: (u.owner, u.driver)):
        if uc.since is not None or (uc.owner, uc.driver) in seen:
            raise ValueError(f"unit cost of {uc.owner}/{uc.driver}: the budget workbook takes one "
                             "unit cost per owner × driver, without 'since'")
        seen.add((uc.owner, uc.driver))
        plan = plans.get((uc.owner, uc.driver)) or plans.get((None, uc.driver))
        if plan is None:
            raise ValueError(f"no driver plan named {uc.driver!r} (for owner {uc.owner!r})")
        for m in horizon:
            plan.volume(m)  # raises naming driver and month
        lines.append((uc, plan))
    if not lines:
        raise ValueError("no unit costs: nothing to budget")

    sheets = [_assumptions_sheet(lines, scenario, coverage, discount, calendar),
              _drivers_sheet(lines, horizon), _forecast_sheet(lines, horizon, calendar)]
    if history:
        sheets.append(_trend_sheet(history, len(horizon), runtime))
    if portfolio is not None:
        from finops_workbooks.budget_commitments import commitments_sheet
        from finops_xl.planning.drivers import driver_forecast, monthly_totals
        from finops_xl.planning.portfolio_overlay import overlay, plan

        inventory, actions, savings = portfolio
        rows = plan(inventory, actions, horizon, savings)
        gross = monthly_totals(driver_forecast(drivers_list, unit_costs_list, horizon), "gross")
        sheets.append(commitments_sheet(overlay(gross, rows), rows))
    return WorkbookSpec(
        sheets=tuple(sheets),
        names=tuple(DefinedName(n, ASSUMPTIONS, at) for n, at in _NAMES.items()),
        title=f"Budget {horizon[0]:%Y-%m} to {horizon[-1]:%Y-%m}",
        active_sheet=FORECAST,
    )


# ---- Assumptions ------------------------------------------------------------------------------


def _assumptions_sheet(lines, scenario: str, coverage: Decimal, discount: Decimal,
                       calendar: FiscalCalendar):
    s = start_sheet(ASSUMPTIONS, "Budget: assumptions",
                    "Yellow cells are inputs; the Forecast sheet recalculates from them. "
                    f"Fiscal year starts in month {calendar.start_month}. "
                    f"Built by finops-xl {__version__} (finops_workbooks.budget).")
    s.put(4, 1, "Scenario", f.LABEL)
    s.put(4, 2, scenario, f.INPUT)
    s.put(4, 3, "type base, low or high: the volume factor comes from the table below", f.NOTE)
    s.put(5, 1, "Commitment coverage", f.LABEL)
    s.put(5, 2, coverage, PERCENT)
    s.put(5, 3, "share of gross cost covered by commitments", f.NOTE)
    s.put(6, 1, "Commitment discount", f.LABEL)
    s.put(6, 2, discount, PERCENT)
    s.put(6, 3, "discount of the covered share: net = gross × (1 − coverage × discount)", f.NOTE)
    s.put_row(8, 1, ("Scenario", "Volume factor"), f.HEADER_LEFT)
    for i, sc in enumerate(DEFAULT_SCENARIOS):
        s.put(9 + i, 1, sc.name)
        s.put(9 + i, 2, sc.volume_factor, FACTOR.but(fill="FFF2CC"))
    s.put_row(_UNIT_COST_ROW - 1, 1, ("Owner", "Driver", "Unit", "Cost per unit"), f.HEADER_LEFT)
    for i, (uc, plan) in enumerate(lines):
        r = _UNIT_COST_ROW + i
        s.put_row(r, 1, (uc.owner, uc.driver, plan.unit))
        s.put(r, 4, uc.cost_per_unit, f.INPUT.but(number_format=f.ACCOUNTING))
    s.widths(22, 16, 12, 16)
    return s.build()


# ---- Drivers ----------------------------------------------------------------------------------

_DRIVER_HEAD = 3


def _drivers_sheet(lines, horizon):
    s = start_sheet(DRIVERS, "Budget: driver volumes by month (inputs)")
    s.put_row(_DRIVER_HEAD, 1, ("Owner", "Driver", "Unit"), f.HEADER_LEFT)
    for j, month in enumerate(horizon):
        s.put(_DRIVER_HEAD, FIRST_MONTH_COLUMN + j, month, f.HEADER.but(number_format=f.MONTH))
    for i, (uc, plan) in enumerate(lines):
        r = _DRIVER_HEAD + 1 + i
        s.put_row(r, 1, (uc.owner, uc.driver, plan.unit))
        for j, month in enumerate(horizon):
            s.put(r, FIRST_MONTH_COLUMN + j, plan.volume(month), f.INPUT.but(number_format="#,##0.##"))
    s.widths(22, 16)
    for j in range(len(horizon)):
        s.width(FIRST_MONTH_COLUMN + j, 13)
    s.freeze = f"D{_DRIVER_HEAD + 1}"
    return s.build()


# ---- Forecast ---------------------------------------------------------------------------------

FACTOR_CELL = "B3"
KEY_ROW, HEAD_ROW = 5, 6


def _forecast_sheet(lines, horizon, calendar: FiscalCalendar):
    s = SheetDraft(FORECAST, landscape=True)
    n, last_col = len(lines), FIRST_MONTH_COLUMN + len(horizon) - 1
    drivers, assumptions = quote_sheet(DRIVERS), quote_sheet(ASSUMPTIONS)
    s.put(1, 1, "Budget forecast", f.TITLE)
    s.put(2, 1, "gross = volume × scenario factor × unit cost; net = gross × (1 − Coverage × "
                "Discount). Every amount is a native formula over Assumptions and Drivers.", f.NOTE)
    s.put(3, 1, "Scenario factor", f.LABEL)
    s.put(3, 2, Formula("=INDEX(ScenarioFactors,MATCH(Scenario,ScenarioNames,0))"), FACTOR)
    s.put(KEY_ROW, 3, "fiscal year", f.KEY)
    s.put_row(HEAD_ROW, 1, ("Owner", "Driver", "Line"), f.HEADER_LEFT)
    for j, month in enumerate(horizon):
        s.put(KEY_ROW, FIRST_MONTH_COLUMN + j, calendar.fiscal_year(month), f.KEY)
        s.put(HEAD_ROW, FIRST_MONTH_COLUMN + j, month, f.HEADER.but(number_format=f.MONTH))
    factor = "$B$3"

    gross_first = HEAD_ROW + 1
    gross_total = gross_first + n
    net_first = gross_total + 2
    net_total = net_first + n
    for i, (uc, _) in enumerate(lines):
        g, nr = gross_first + i, net_first + i
        s.put_row(g, 1, (uc.owner, uc.driver, "gross"))
        s.put_row(nr, 1, (uc.owner, uc.driver, "net"))
        for c in range(FIRST_MONTH_COLUMN, last_col + 1):
            s.put(g, c, Formula(f"={drivers}!{ref(_DRIVER_HEAD + 1 + i, c)}*{factor}*"
                                f"{assumptions}!$D${_UNIT_COST_ROW + i}"), f.MONEY)
            s.put(nr, c, Formula(f"={ref(g, c)}*(1-Coverage*Discount)"), f.MONEY)
    for row, first, label in ((gross_total, gross_first, "Total gross"),
                              (net_total, net_first, "Total net")):
        s.put(row, 1, label, f.MONTH_TOTAL)
        for c in range(FIRST_MONTH_COLUMN, last_col + 1):
            s.put(row, c, Formula(f"=SUM({ref(first, c)}:{ref(row - 1, c)})"), f.MONEY_TOTAL)

    fy_head = net_total + 2
    s.put_row(fy_head, 1, ("Fiscal year", "key", "Net"), f.HEADER_LEFT)
    keys = _abs_row(KEY_ROW, FIRST_MONTH_COLUMN, last_col)
    totals = _abs_row(net_total, FIRST_MONTH_COLUMN, last_col)
    for i, fy in enumerate(sorted({calendar.fiscal_year(m) for m in horizon})):
        r = fy_head + 1 + i
        s.put(r, 1, f"FY{fy}", f.LABEL)
        s.put(r, 2, fy, f.KEY)
        s.put(r, 3, Formula(f"=SUMIFS({totals},{keys},B{r})"), f.MONEY_TOTAL)
    s.widths(22, 16, 16)
    for j in range(len(horizon)):
        s.width(FIRST_MONTH_COLUMN + j, 14)
    s.freeze = f"D{HEAD_ROW + 1}"
    return s.build()


def _abs_row(row: int, first_col: int, last_col: int) -> str:
    a, b = ref(row, first_col), ref(row, last_col)
    col = lambda at: at.rstrip("0123456789")
    return f"${col(a)}${row}:${col(b)}${row}"


# ---- Trend ------------------------------------------------------------------------------------

_TREND_HEAD = 4


def _trend_sheet(history: Sequence[tuple[dt.date, Decimal]], horizon: int, runtime: str):
    history = [(as_month(m), Decimal(v)) for m, v in history]
    trend = trend_forecast(history, horizon, allow_long=True)
    result = trend.result
    fn = registry.function("FORECAST")
    s = start_sheet(TREND, "Trend: monthly cost history and forecast",
                    f"Forecast by finops-xl when the workbook was built ({result.method_used}"
                    f"{', ' + result.model if result.model else ''}; {result.interval:.0%} interval; method "
                    f"{trend.method}, {trend.chosen_by}): plain values. " + result.note
                    + "".join(f" Warning: {w}." for w in trend.warnings))
    s.put_row(_TREND_HEAD, 1, ("Month", "History", "Forecast", "Low", "High"), f.HEADER)
    first = _TREND_HEAD + 1
    for i, (month, value) in enumerate(history):
        s.put(first + i, 1, month, f.MONTH_CELL)
        s.put(first + i, 2, value, f.MONEY)
    hist_last = first + len(history) - 1
    for i, row in enumerate(result.rows):
        r = hist_last + 1 + i
        s.put(r, 1, row.month, f.MONTH_CELL)
        s.put_row(r, 3, (row.forecast, row.low, row.high), f.MONEY)
    last = hist_last + len(result.rows)
    s.chart(Chart(name="HistoryForecast", kind="line", title="Monthly cost: history and forecast",
                  data_ref=f"B{_TREND_HEAD}:E{last}", categories_ref=f"A{first}:A{last}",
                  anchor=f"G{_TREND_HEAD + horizon + 3}", y_number_format="#,##0",
                  width_cm=max(16.0, 1.2 * (last - first + 1)), height_cm=8.5))
    live = 7  # G
    s.put(_TREND_HEAD, live, f"Live {fn.excel_name(runtime)} (spills month, forecast, low, high)",
          f.HEADER_LEFT)
    s.put(first, live, Formula(fn.formula(runtime, f"B{first}:B{hist_last}",
                                          f"A{first}:A{hist_last}", str(horizon))))
    s.put(3, live, "Needs the finops-xl add-in; without it the cell shows #NAME?. Nothing else "
                   "depends on it.", f.NOTE)
    s.width(1, 12)
    for c in range(2, 6):
        s.width(c, 15)
    s.width(live, 16)
    s.freeze = f"A{first}"
    return s.build()
