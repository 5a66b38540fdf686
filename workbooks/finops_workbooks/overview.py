"""The "Cost overview" template: monthly cost by a breakdown dimension, with native formulas.

Sheets, in tab order:

1. **Settings** — the store, the period, the breakdown, the runtime; named cells (``StorePath``,
   ``PeriodStart``, ``PeriodEnd``, ``RowsBy``, ``Runtime``, ``Currency``, ``ExportsFolder``,
   ``RefreshStatus``) for the macros.
2. **Overview** (opens first) — months down, the largest values of the breakdown across (then
   Other and Total), a month-over-month change, a provider × month block and a stacked column chart
   of monthly cost by provider. Every number is a native ``SUMIFS``/``SUM``/``IF`` formula over the
   Data table, so an auditor can trace it; the formulas match on numeric keys (the month's date,
   the column's key) and never on billing text, so names that look like formulas, wildcards or
   differ only in case cannot change a total.
3. **Data** — the ``CostData`` table: EffectiveCost and BilledCost per (month, provider, value),
   pulled from the store at build time (see ``overview_data``).
4. **Live** — ``FINOPS.COST`` formulas that ask the store again when Excel recalculates; they need
   the finops-xl add-in, and nothing else depends on them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from finops_xl import excel_functions as registry

from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft, start_sheet
from finops_workbooks.live_sheet import add_in_note, start_live_sheet, tie_table
from finops_workbooks.model import (
    PLAIN,
    Chart,
    DefinedName,
    Formula,
    Style,
    Table,
    WorkbookSpec,
    quote_sheet,
    ref,
)
from finops_workbooks.overview_data import OverviewData, pull_overview_data
from finops_xl import __version__
from finops_xl.query.costs import CostQueries

SETTINGS, OVERVIEW, DATA, LIVE = "Settings", "Overview", "Data", "Live"
TABLE = "CostData"
OTHER, TOTAL = "Other", "Total"
SOURCE_NOTE = "Values pulled from the store at build time; source: finops-xl cost store."


def build_overview(queries: CostQueries, *, store_path: str, last_month: dt.date, months: int = 6,
                   by: str = "sub_account", runtime: str = "server", top: int = 8) -> WorkbookSpec:
    """The Cost overview workbook for ``months`` months ending with ``last_month`` (its first
    day), broken down by ``by`` (any dimension of ``queries``; the ``top`` largest values get a
    column each), with ``FINOPS.*`` formulas for ``runtime`` on the Live sheet.

    Raises QueryError when the store cannot answer, ValueError for a bad argument.
    """
    if runtime not in registry.RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: use one of {', '.join(registry.RUNTIMES)}")
    data = pull_overview_data(queries, last_month=last_month, months=months, by=by, top=top)
    table_header = _table_header(data.by)
    overview, totals = _overview_sheet(data, table_header)
    return WorkbookSpec(
        sheets=(_settings_sheet(data, store_path, runtime), overview,
                _data_sheet(data, table_header), _live_sheet(data, runtime, totals)),
        names=tuple(DefinedName(name, SETTINGS, at) for name, at in _SETTING_CELLS.items()),
        title=f"Cost overview {data.start:%Y-%m} to {data.months[-1]:%Y-%m}",
        active_sheet=OVERVIEW,
    )


# ---- Settings -------------------------------------------------------------------------------

_SETTING_CELLS = {"StorePath": "B4", "PeriodStart": "B5", "PeriodEnd": "B6", "RowsBy": "B7",
                  "Currency": "B9", "Runtime": "B10", "ExportsFolder": "B11",
                  "RefreshStatus": "B12"}


def _settings_sheet(data: OverviewData, store_path: str, runtime: str):
    s = start_sheet(SETTINGS, "Cost overview: settings",
                    SOURCE_NOTE)
    s.put_row(3, 1, ("Setting", "Value", "Notes"), f.HEADER_LEFT)
    rows = (
        ("Cost store", str(store_path), PLAIN, "the finops-xl cost store (DuckDB file) the values came from"),
        ("First month", data.months[0], f.MONTH_CELL, "first month shown; charges are counted by the day they start"),
        ("Last month", data.months[-1], f.MONTH_CELL, "last month shown (included)"),
        ("Breakdown by", data.by, PLAIN, "the dimension across the Overview grid and in the Data table"),
        ("Metric", "EffectiveCost", PLAIN, "amortized cost; the Data table also holds BilledCost (cash)"),
        ("Currency", data.currency, PLAIN, "billing currency of every amount"),
        ("Excel runtime", runtime, PLAIN, "how the Live sheet's FINOPS functions run: server, classic or lite"),
        ("Exports folder", None, f.INPUT, "folder of new billing exports, for the Refresh macro (optional)"),
        ("Refresh status", None, PLAIN, "written by the Refresh macro"),
        ("Built by", f"finops-xl {__version__} (finops_workbooks.overview)", PLAIN, ""),
        ("Store version", data.store_version or "not recorded (the store keeps no versions)", PLAIN,
         "the store commit the values were read at when the workbook was built"),
    )
    s.settings_rows(4, rows)
    s.widths(18, min(max(len(str(store_path)) + 2, 28), 90), 66)
    return s.build()


# ---- Data -----------------------------------------------------------------------------------


def _table_header(by: str) -> tuple[str, ...]:
    value_column = by if by.casefold() != "provider" else f"{by} (breakdown)"
    return ("Month", "Provider", value_column, "EffectiveCost", "BilledCost", "Column key",
            "Provider key")


_DATA_MONTH = Style(number_format="yyyy-mm", align="left")


def _data_sheet(data: OverviewData, header: tuple[str, ...]):
    s = SheetDraft(DATA, landscape=True)
    for i, r in enumerate(data.rows):
        row = 2 + i
        s.put(row, 1, r.month, _DATA_MONTH)
        s.put_row(row, 2, (r.provider, r.value))
        s.put_row(row, 4, (r.effective_cost, r.billed_cost), f.MONEY)
        s.put_row(row, 6, (r.column, r.provider_column), f.KEY.but(size=None))
    last_row = max(2, 1 + len(data.rows))
    s.table(Table(TABLE, f"A1:{ref(last_row, len(header))}", header))
    value_width = max([len(header[2])] + [len(r.value) for r in data.rows])
    s.widths(11, 14, min(value_width + 2, 48), 17, 17, 12, 12)
    s.freeze = "A2"
    return s.build()


# ---- Overview -------------------------------------------------------------------------------

_KEY_ROW, _HEAD_ROW = 4, 5


@dataclasses.dataclass(frozen=True)
class _Totals:
    """Where the Overview keeps the totals the Live sheet compares with (1-based)."""

    month_total_column: int  # the grid's Total column
    first_month_row: int
    provider_total_row: int  # the provider block's Total row
    first_provider_column: int


def _overview_sheet(data: OverviewData, header: tuple[str, ...]):
    """The Overview sheet, and where its totals are (for the Live sheet)."""
    s = SheetDraft(OVERVIEW, landscape=True)
    col = {name: f"{TABLE}[{name}]" for name in header}
    months = data.months
    first = _HEAD_ROW + 1
    labels = list(data.columns) + ([OTHER] if data.other else [])
    total_col = 2 + len(labels)
    change_col = total_col + 1

    s.put(1, 1, "Cost overview", f.TITLE)
    s.put(2, 1, f"EffectiveCost (amortized) in {data.currency} by {data.by} and month, "
                f"{months[0]:%b %Y} to {months[-1]:%b %Y}"
                + (f": the {len(data.columns)} largest {data.by} values, the rest in Other." if data.other else "."),
          f.NOTE)
    s.put(3, 1, "Every amount is a native formula over the Data sheet (table CostData). "
                "The small keys match the Data table's key columns.", f.NOTE)

    # the grid: months down, breakdown values across
    total_row = s.month_grid(
        key_row=_KEY_ROW, head_row=_HEAD_ROW, headings=labels, months=months,
        amount=lambda r, c: Formula(f"=SUMIFS({col['EffectiveCost']},{col['Month']},$A{r},"
                                    f"{col['Column key']},{ref(_KEY_ROW, c)})"),
        total=TOTAL, change="Change vs prior month")
    check_row = total_row + 1
    s.put(check_row, 1, "Check: Data table total minus grid total (0 when they tie out)", f.NOTE)
    s.put(check_row, total_col, Formula(f"=SUM({col['EffectiveCost']})-{ref(total_row, total_col)}"),
          f.MONEY)

    # the provider block and its chart
    top = check_row + 3
    p_first, p_last = top + 3, top + 2 + len(months)
    p_total_col = 2 + len(data.providers)
    s.put(top, 1, f"Monthly cost by provider ({data.currency})", f.LABEL)
    s.put(top + 1, 1, "key", f.KEY)
    s.put(top + 2, 1, "Month", f.HEADER_LEFT)
    for i, provider in enumerate(data.providers):
        s.put(top + 1, 2 + i, i + 1, f.KEY)
        s.put(top + 2, 2 + i, provider, f.HEADER)
    s.put(top + 2, p_total_col, "Total EffectiveCost", f.HEADER)
    s.put(top + 2, p_total_col + 1, "Total BilledCost", f.HEADER)
    for r, month in enumerate(months, start=p_first):
        s.put(r, 1, month, f.MONTH_CELL)
        for c in range(2, p_total_col):
            s.put(r, c, Formula(f"=SUMIFS({col['EffectiveCost']},{col['Month']},$A{r},"
                                f"{col['Provider key']},{ref(top + 1, c)})"), f.MONEY)
        s.put(r, p_total_col, Formula(f"=SUM({ref(r, 2)}:{ref(r, p_total_col - 1)})"), f.MONEY_TOTAL)
        s.put(r, p_total_col + 1, Formula(f"=SUMIFS({col['BilledCost']},{col['Month']},$A{r})"),
              f.MONEY_TOTAL)
    s.put(p_last + 1, 1, TOTAL, f.MONTH_TOTAL)
    for c in range(2, p_total_col + 2):
        s.put(p_last + 1, c, Formula(f"=SUM({ref(p_first, c)}:{ref(p_last, c)})"), f.MONEY_TOTAL)
    s.chart(Chart(
        name="CostByProvider", kind="bar", stacked=True,
        title="EffectiveCost by provider",
        data_ref=f"{ref(top + 2, 2)}:{ref(p_last, p_total_col - 1)}",
        categories_ref=f"A{p_first}:A{p_last}",
        anchor=ref(top, p_total_col + 3),
        y_title=data.currency, y_number_format="#,##0",
        width_cm=max(16.0, 3.0 * len(months)), height_cm=8.5,
    ))

    s.width(1, 12)
    for c in range(2, max(total_col, p_total_col + 2)):
        s.width(c, 16)
    s.width(total_col, 16)
    s.width(change_col, 13)
    s.fit_height(_HEAD_ROW, range(1, change_col + 1))
    s.fit_height(top + 2, range(1, p_total_col + 2))
    s.freeze = f"B{first}"
    return s.build(), _Totals(total_col, first, p_last + 1, 2)


# ---- Live -----------------------------------------------------------------------------------


def _live_sheet(data: OverviewData, runtime: str, totals: _Totals):
    s, supported = start_live_sheet(LIVE, "Live: the same totals, asked from the store by FINOPS.COST",
                                    runtime, "the Overview sheet")
    if not supported:
        return s.build()
    cost = registry.function("COST")
    s.put(2, 1, add_in_note(runtime) + " without it they show #NAME?. Nothing on the Overview sheet depends on "
                "them.", f.NOTE)
    overview = quote_sheet(OVERVIEW)
    tie_table(s, 4, runtime, "Month", "Overview total", data.months,
              lambda r: cost.formula(runtime, f"A{r}", f"EDATE(A{r},1)"),
              lambda i: f"={overview}!{ref(totals.first_month_row + i, totals.month_total_column)}",
              key_style=f.MONTH_CELL)
    if not data.by_provider:  # allocated cost has no provider to ask FINOPS.COST about
        s.widths(16, 22, 18, 14)
        return s.build()
    top = 6 + len(data.months)
    tie_table(s, top, runtime, "Provider", "Overview total", data.providers,
              lambda r: cost.formula(runtime, "PeriodStart", "EDATE(PeriodEnd,1)", '"provider"', f"A{r}"),
              lambda i: f"={overview}!{ref(totals.provider_total_row, totals.first_provider_column + i)}")
    s.widths(16, 22, 18, 14)
    return s.build()
