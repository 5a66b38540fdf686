"""The "Showback" template: each owner's allocated cost by month, with native formulas.

Sheets, in tab order:

1. **Settings** — the store, the rules file, the period, the currency, the runtime; named cells
   (``StorePath``, ``RulesFile``, ``PeriodStart``, ``PeriodEnd``, ``Currency``, ``Runtime``).
2. **Summary** (opens first) — owners down, months across: native ``SUMIFS`` over the Data table,
   ``SUM`` totals both ways, the month-over-month change, a check that the grid ties to the table,
   and a stacked column chart of monthly cost by owner. The ``ROUNDING`` row is what rounding each
   owner to the cent leaves: with it the total equals the allocation (and the store) exactly.
3. **Coverage** — allocation coverage per month (direct, shared, unallocated shares; allocated
   as a native formula; crawl / walk ≥ 80% / run ≥ 90%) and a chart of the shares.
4. **One statement sheet per owner** — months down, the statement's parts across (direct usage,
   commitment amortization, credits, one column per shared-cost pool), native ``SUMIFS`` and
   ``SUM`` totals, and a check against the owner's total in the Data table.
5. **Data** — the ``ShowbackData`` table: one row per owner × month × part, as
   ``finops_xl.allocation.showback.statements`` gives it (see ``showback_data``).
6. **Rules** — the allocation rules as text, for the auditor.
7. **Live** — ``FINOPS.COST`` asks the store for each month's total, beside the Summary's.

Formulas match on numeric keys (the month's date, the owner key, the component key) and never on
owner names: a name that looks like a formula, holds a wildcard or differs only in case cannot
change a total. Owner names are always text; sheet names made from them are cut to what Excel
allows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from finops_xl import excel_functions as registry
from openpyxl.utils.cell import get_column_letter

from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft, start_sheet
from finops_workbooks.live_sheet import add_in_note, start_live_sheet, tie_table
from finops_workbooks.opportunities import SHEET as OPPORTUNITIES_SHEET
from finops_workbooks.opportunities import OpportunitiesData, opportunities_sheet
from finops_workbooks.tags import SHEET as TAGS_SHEET
from finops_workbooks.tags import tags_sheet
from finops_workbooks.model import (
    PLAIN,
    Chart,
    DefinedName,
    Formula,
    Sheet,
    Style,
    Table,
    WorkbookSpec,
    quote_sheet,
    ref,
)
from finops_workbooks.showback_data import ShowbackData, shape_showback
from finops_xl import __version__
from finops_xl.allocation.rules import ROUNDING, Rules
from finops_xl.allocation.showback import RUN, WALK, Coverage, StatementLine

SETTINGS, SUMMARY, COVERAGE, DATA, RULES, LIVE = (
    "Settings", "Summary", "Coverage", "Data", "Rules", "Live")
TABLE = "ShowbackData"
#: The Data table's columns; the amount column is named after the metric (``EffectiveCost``).
KEY_COLUMNS = ("Month", "Owner", "Component")
KEY_COLUMNS_AFTER = ("Owner key", "Component key")
TOTAL = "Total"
CHANGE = "Change vs prior month"
SOURCE_NOTE = ("Values from the store's current allocation (allocated_charges), pulled at build time "
               "by finops_xl.allocation.showback; rebuild after running finops-xl allocate again.")
#: Excel refuses these as sheet names (besides the template's own).
_RESERVED_SHEETS = ("History",)
#: The ROUNDING row: sub-cent amounts, shown with enough decimals to see them.
_ROUNDING_MONEY = Style(number_format='_(* #,##0.000000_);_(* \\(#,##0.000000\\);_(* "-"??_);_(@_)',
                        italic=True, color="595959")
_MONTH_HEADER = f.HEADER.but(number_format=f.MONTH)
_DATA_MONTH = Style(number_format="yyyy-mm", align="left")
_TABLE_KEY = f.KEY.but(size=None)


def build_showback(statement_lines: Iterable[StatementLine], coverage_rows: Iterable[Coverage],
                   rules: Rules, *, store_path: str, rules_source: str, last_month: dt.date,
                   months: int = 6, runtime: str = "server", currency: str | None = None,
                   metric: str = "EffectiveCost", rules_note: str = "",
                   opportunities: OpportunitiesData | None = None, tags=None,
                   store_version: str = "") -> WorkbookSpec:
    """The Showback workbook for ``months`` months ending with ``last_month`` (its first day).

    Parameters:
      statement_lines, coverage_rows: ``statements(con, metric)`` and ``coverage(con)`` of the
        store's allocation (lines of other months and currencies are left out).
      rules: the rules the allocation used, shown on the Rules sheet.
      store_path, rules_source: where the numbers and the rules came from (Settings).
      runtime: the Excel runtime of the Live sheet's ``FINOPS.COST`` (server, classic, lite).
      currency: the billing currency shown; needed only when the period holds several.
      metric: the measure the statement lines are in (a heading; EffectiveCost or BilledCost).
      rules_note: a sentence on the rules' provenance (``showback_data.describe_run``).
      opportunities: the savings ledger's opportunities and measured savings; adds the
        Opportunities sheet (``opportunities.py``).
      tags: the tag governance of ``last_month`` (``finops_xl.report.governance.TagGovernance``);
        adds the Tag governance sheet (``tags.py``).
      store_version: the store commit the allocation was read at, in words (Settings).

    Raises ValueError for a bad argument or a period without allocated cost.
    """
    if runtime not in registry.RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: use one of {', '.join(registry.RUNTIMES)}")
    if metric not in ("EffectiveCost", "BilledCost"):
        raise ValueError(f"metric must be EffectiveCost or BilledCost, not {metric!r}")
    data = shape_showback(statement_lines, coverage_rows, last_month=last_month, months=months,
                          currency=currency, pool_order=[p.id for p in rules.pools])
    owner_dim = rules.owner
    statement_names = _statement_sheet_names(data.owners)
    summary, total_row = _summary_sheet(data, owner_dim, metric)
    statement_sheets = tuple(_statement_sheet(data, owner, name, owner_dim, metric)
                             for owner, name in zip(data.owners, statement_names))
    sheets = (_settings_sheet(data, store_path, rules_source, rules_note, runtime, owner_dim, metric,
                              store_version),
              summary, _coverage_sheet(data, metric),
              *((tags_sheet(tags),) if tags is not None else ()), *statement_sheets,
              *((opportunities_sheet(opportunities),) if opportunities is not None else ()),
              _data_sheet(data, metric),
              _rules_sheet(rules, rules_source, rules_note), _live_sheet(data, runtime, total_row))
    return WorkbookSpec(
        sheets=sheets,
        names=tuple(DefinedName(name, SETTINGS, at) for name, at in _SETTING_CELLS.items()),
        title=f"Showback {data.months[0]:%Y-%m} to {data.months[-1]:%Y-%m}",
        active_sheet=SUMMARY,
    )


def statement_sheet_name(owner: str) -> str:
    """A sheet name Excel accepts made from an owner's name (before making it unique)."""
    name = re.sub(r"[\[\]:*?/\\\x00-\x1f]", "_", owner).strip().strip("'").strip()
    return name[:31].rstrip() or "owner"


def _statement_sheet_names(owners: tuple[str, ...]) -> tuple[str, ...]:
    taken = {n.casefold() for n in (SETTINGS, SUMMARY, COVERAGE, DATA, RULES, LIVE, OPPORTUNITIES_SHEET, TAGS_SHEET,
                                    *_RESERVED_SHEETS)}
    names = []
    for owner in owners:
        base = name = statement_sheet_name(owner)
        n = 1
        while name.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[:31 - len(suffix)].rstrip() + suffix
        taken.add(name.casefold())
        names.append(name)
    return tuple(names)


def _col(name: str) -> str:
    return f"{TABLE}[{name}]"


def _fixed_row(row: int, column: int) -> str:
    """A reference with its row fixed: ``_fixed_row(5, 3)`` → ``"C$5"``."""
    return f"{get_column_letter(column)}${row}"


def table_header(metric: str) -> tuple[str, ...]:
    """The Data table's header: the amount column is named after the metric."""
    return (*KEY_COLUMNS, metric, *KEY_COLUMNS_AFTER)


def _sumifs(metric: str, *criteria: tuple[str, str]) -> Formula:
    """``=SUMIFS(ShowbackData[<metric>], column, criterion, ...)``."""
    args = "".join(f",{_col(column)},{criterion}" for column, criterion in criteria)
    return Formula(f"=SUMIFS({_col(metric)}{args})")


def _period_text(data: ShowbackData) -> str:
    first, last = data.months[0], data.months[-1]
    return f"{first:%b %Y}" if first == last else f"{first:%b %Y} to {last:%b %Y}"


def _measure(metric: str) -> str:
    return "EffectiveCost (amortized)" if metric == "EffectiveCost" else f"{metric}"


# ---- Settings -------------------------------------------------------------------------------

_SETTING_CELLS = {"StorePath": "B4", "RulesFile": "B5", "PeriodStart": "B6", "PeriodEnd": "B7",
                  "Currency": "B10", "Runtime": "B11"}


def _settings_sheet(data: ShowbackData, store_path: str, rules_source: str, rules_note: str,
                    runtime: str, owner_dim: str, metric: str, store_version: str = "") -> Sheet:
    s = start_sheet(SETTINGS, "Showback: settings",
                    SOURCE_NOTE)
    s.put_row(3, 1, ("Setting", "Value", "Notes"), f.HEADER_LEFT)
    rows = (
        ("Cost store", str(store_path), PLAIN, "the finops-xl cost store (DuckDB file) the values came from"),
        ("Rules file", str(rules_source), PLAIN, rules_note or "the allocation rules (see the Rules sheet)"),
        ("First month", data.months[0], f.MONTH_CELL, "first month shown; charges count in the month they start"),
        ("Last month", data.months[-1], f.MONTH_CELL, "last month shown (included)"),
        ("Owner", owner_dim, PLAIN, "the taxonomy dimension that names an owner"),
        ("Metric", metric, PLAIN, "amortized cost: commitment fees spread onto the usage they cover"
         if metric == "EffectiveCost" else "the measure of every amount"),
        ("Currency", data.currency, PLAIN, "billing currency of every amount; others are never added in"),
        ("Excel runtime", runtime, PLAIN, "how the Live sheet's FINOPS functions run: server, classic or lite"),
        ("Rounding", "to the cent, largest remainder", PLAIN,
         "each owner's month is rounded so its parts add up to it; the ROUNDING line keeps the rest"),
        ("Built by", f"finops-xl {__version__} (finops_workbooks.showback)", PLAIN, ""),
        ("Store version", store_version or "not recorded (the store keeps no versions)", PLAIN,
         "the store commit the allocation was read at when the workbook was built"),
    )
    s.settings_rows(4, rows)
    s.widths(16, min(max(len(str(store_path)), len(str(rules_source)), 26) + 2, 90), 90)
    return s.build()


# ---- Data -----------------------------------------------------------------------------------


def _data_sheet(data: ShowbackData, metric: str) -> Sheet:
    s = SheetDraft(DATA, landscape=True)
    for i, r in enumerate(data.rows):
        row = 2 + i
        s.put(row, 1, r.month, _DATA_MONTH)
        s.put_row(row, 2, (r.owner, r.component))
        s.put(row, 4, r.amount, f.MONEY)
        s.put_row(row, 5, (r.owner_key, r.component_key), _TABLE_KEY)
    last_row = max(2, 1 + len(data.rows))
    header = table_header(metric)
    s.table(Table(TABLE, f"A1:{ref(last_row, len(header))}", header))
    owner_width = max([len(header[1])] + [len(r.owner) for r in data.rows])
    component_width = max([len(header[2])] + [len(r.component) for r in data.rows])
    for column, width in enumerate((11, min(owner_width + 3, 40), min(component_width + 3, 40), 17, 12, 16),
                                   start=1):
        s.width(column, width)
    s.freeze = "A2"
    return s.build()


# ---- Summary --------------------------------------------------------------------------------

_HEAD_ROW = 6


def _summary_sheet(data: ShowbackData, owner_dim: str, metric: str) -> tuple[Sheet, int]:
    """The Summary sheet, and its Total row (for the Live sheet)."""
    s = SheetDraft(SUMMARY, landscape=True)
    months = data.months
    first_col, last_col = 3, 2 + len(months)
    total_col, change_col = last_col + 1, last_col + 2
    first_row = _HEAD_ROW + 1
    rounding_row = first_row + len(data.owners)
    total_row = rounding_row + 1
    label = owner_dim.replace("_", " ").capitalize()

    s.put(1, 1, "Showback summary", f.TITLE)
    s.put(2, 1, f"{_measure(metric)} in {data.currency} allocated to each {owner_dim.replace('_', ' ')}, "
                f"{_period_text(data)}; largest {months[-1]:%b %Y} total first.", f.NOTE)
    s.put(3, 1, f"Every amount is a native SUMIFS over the Data sheet (table {TABLE}) on the month "
                f"(row {_HEAD_ROW}) and the owner key (column B).", f.NOTE)
    s.put(4, 1, f"{ROUNDING} is what rounding each owner to the cent leaves: with it the total ties "
                "to the allocation exactly.", f.NOTE)

    s.put(_HEAD_ROW, 1, label, f.HEADER_LEFT)
    s.put(_HEAD_ROW, 2, "key", f.HEADER)
    for c, month in enumerate(months, start=first_col):
        s.put(_HEAD_ROW, c, month, _MONTH_HEADER)
    s.put(_HEAD_ROW, total_col, TOTAL, f.HEADER)
    if len(months) > 1:
        s.put(_HEAD_ROW, change_col, f"Change {months[-1]:%b} vs {months[-2]:%b}", f.HEADER)
    for i, owner in enumerate((*data.owners, ROUNDING)):
        r = first_row + i
        rounding = owner == ROUNDING
        s.put(r, 1, owner, f.NOTE if rounding else PLAIN)
        s.put(r, 2, data.owner_key(owner), f.KEY)
        money = _ROUNDING_MONEY if rounding else f.MONEY
        for c in range(first_col, last_col + 1):
            s.put(r, c, _sumifs(metric, ("Month", _fixed_row(_HEAD_ROW, c)),
                                ("Owner key", f"$B{r}")), money)
        s.put(r, total_col, Formula(f"=SUM({ref(r, first_col)}:{ref(r, last_col)})"),
              _ROUNDING_MONEY if rounding else f.MONEY_TOTAL)
        if len(months) > 1 and not rounding:
            prev, cur = ref(r, last_col - 1), ref(r, last_col)
            s.put(r, change_col, Formula(f'=IF({prev}=0,"",{cur}/{prev}-1)'), f.CHANGE)
    s.put(total_row, 1, TOTAL, f.MONTH_TOTAL)
    for c in range(first_col, total_col + 1):
        s.put(total_row, c, Formula(f"=SUM({ref(first_row, c)}:{ref(rounding_row, c)})"), f.MONEY_TOTAL)
    if len(months) > 1:
        prev, cur = ref(total_row, last_col - 1), ref(total_row, last_col)
        s.put(total_row, change_col, Formula(f'=IF({prev}=0,"",{cur}/{prev}-1)'), f.CHANGE)
        s.put(total_row + 1, 1, CHANGE, f.LABEL)
        for c in range(first_col + 1, last_col + 1):
            prev, cur = ref(total_row, c - 1), ref(total_row, c)
            s.put(total_row + 1, c, Formula(f'=IF({prev}=0,"",{cur}/{prev}-1)'), f.CHANGE)
    check_row = total_row + 2
    s.put(check_row, 1, "Check: Data table total minus grid total (0 when they tie out)", f.NOTE)
    s.put(check_row, total_col, Formula(f"=SUM({_col(metric)})-{ref(total_row, total_col)}"), f.MONEY)

    # the chart, and below it its data: the grid turned, months down (ROUNDING left out)
    chart_row = check_row + 2
    chart_height = 9.0
    block = chart_row + int(chart_height / 0.53) + 2
    s.put(block, 1, f"Chart data: the grid above with months down ({ROUNDING} left out)", f.NOTE)
    s.put(block + 1, 1, "Month", f.HEADER_LEFT)
    s.put(block + 1, 2, None, f.HEADER)
    for j, owner in enumerate(data.owners):
        s.put(block + 1, first_col + j, owner, f.HEADER)
    for i, month in enumerate(months):
        r = block + 2 + i
        s.put(r, 1, month, f.MONTH_CELL)
        for j in range(len(data.owners)):
            s.put(r, first_col + j, Formula(f"={ref(first_row + j, first_col + i)}"), f.MONEY)
    last_data_row = block + 1 + len(months)
    if data.owners:
        s.chart(Chart(
            name="CostByOwner", kind="bar", stacked=True,
            title=f"Monthly {metric} by {owner_dim.replace('_', ' ')}",
            data_ref=f"{ref(block + 1, first_col)}:{ref(last_data_row, first_col - 1 + len(data.owners))}",
            categories_ref=f"A{block + 2}:A{last_data_row}",
            anchor=f"A{chart_row}", y_title=data.currency, y_number_format="#,##0",
            width_cm=min(max(18.0, 2.6 * len(months) + 8), 30.0), height_cm=chart_height,
        ))

    owner_width = max([len(label), 12] + [len(o) for o in data.owners])
    s.widths(min(owner_width + 2, 40), 5)
    for c in range(first_col, max(change_col, first_col - 1 + len(data.owners)) + 1):
        s.width(c, 14)
    s.width(total_col, 15)
    s.fit_height(_HEAD_ROW, range(1, change_col + 1))
    s.fit_height(block + 1, range(first_col, first_col + len(data.owners)))
    s.freeze = f"C{first_row}"
    return s.build(), total_row


# ---- Coverage -------------------------------------------------------------------------------

_COVERAGE_HEADER = ("Month", "Direct", "Shared", "Unallocated", "Allocated (direct + shared)",
                    "Maturity", "Month total")
_PERCENT = Style(number_format=f.PERCENT)


def _coverage_sheet(data: ShowbackData, metric: str) -> Sheet:
    s = start_sheet(COVERAGE, "Allocation coverage",
                    f"Share of each month's {metric} that reached an owner directly (owner tag, account "
                    "default or hierarchy), through a split, or not at all.")
    s.put(3, 1, f"FinOps Framework maturity: allocated ≥ {WALK:.0%} is walk, ≥ {RUN:.0%} is run, "
                "below is crawl.", f.NOTE)
    s.put(4, 1, "Shares are of net cost in all currencies: where the unallocated part is mostly "
                "credits, direct can exceed 100%.", f.NOTE)
    head = 6
    s.put(head, 1, _COVERAGE_HEADER[0], f.HEADER_LEFT)
    s.put_row(head, 2, _COVERAGE_HEADER[1:-1], f.HEADER)
    s.put(head, len(_COVERAGE_HEADER), f"{_COVERAGE_HEADER[-1]} ({data.currency})", f.HEADER)
    by_month = {c.month: c for c in data.coverage}
    for r, month in enumerate(data.months, start=head + 1):
        s.put(r, 1, month, f.MONTH_CELL)
        cov = by_month.get(month)
        if cov is None:
            s.put(r, 2, "no allocated cost this month", f.NOTE)
            continue
        s.put_row(r, 2, (cov.direct, cov.shared, cov.unallocated), _PERCENT)
        s.put(r, 5, Formula(f"=B{r}+C{r}"), _PERCENT.but(bold=True))
        s.put(r, 6, cov.maturity, Style(bold=True, align="center"))
        s.put(r, 7, _sumifs(metric, ("Month", f"$A{r}")), f.MONEY)
    last = head + len(data.months)
    targets = last + 2
    s.put(targets, 1, "Targets", f.LABEL)
    s.put_row(targets + 1, 1, ("walk", WALK), _PERCENT)
    s.put_row(targets + 2, 1, ("run", RUN), _PERCENT)
    s.put(targets + 1, 3, "allocated share at which the practice reaches walk", f.NOTE)
    s.put(targets + 2, 3, "allocated share at which the practice reaches run", f.NOTE)
    if data.coverage:
        s.chart(Chart(
            name="CoverageShares", kind="bar", stacked=True, title="Allocation coverage by month",
            data_ref=f"B{head}:D{last}", categories_ref=f"A{head + 1}:A{last}",
            anchor=f"A{targets + 4}", y_title="share of cost", y_number_format="0%",
            width_cm=min(max(16.0, 2.4 * len(data.months) + 6), 26.0), height_cm=8.0,
        ))
    s.widths(12, 12, 12, 13, 15, 11, 17)
    s.fit_height(head, range(1, len(_COVERAGE_HEADER) + 1))
    s.freeze = f"B{head + 1}"
    return s.build()


# ---- statements -----------------------------------------------------------------------------


def _statement_sheet(data: ShowbackData, owner: str, name: str, owner_dim: str, metric: str) -> Sheet:
    s = SheetDraft(name, landscape=True)
    components = data.components
    months = data.months
    key_row, head = 6, 7
    first, last = head + 1, head + len(months)
    total_col = 2 + len(components)
    change_col = total_col + 1
    dim = owner_dim.replace("_", " ")

    s.put(1, 1, f"Showback statement: {owner}", f.TITLE)
    s.put(2, 1, f"{_measure(metric)} in {data.currency} allocated to this {dim}, {_period_text(data)}, "
                "by the rules on the Rules sheet.", f.NOTE)
    s.put(3, 1, "Direct usage: cost tagged or mapped to the owner. Commitment amortization: reserved "
                "instance and savings plan fees spread onto the usage they cover.", f.NOTE)
    s.put(4, 1, "Credits: negative. Shared: the owner's part of each shared-cost pool. Amounts are "
                f"SUMIFS over table {TABLE} on the month, owner key and column key.", f.NOTE)
    s.put(5, 1, dim.capitalize(), f.LABEL)
    s.put(5, 2, owner, f.LABEL)
    s.put(5, 3, "owner key", f.KEY)
    s.put(5, 4, data.owner_key(owner), f.KEY.but(align="left"))
    total_row = s.month_grid(
        key_row=key_row, head_row=head, headings=[heading for _, heading in components],
        months=months,
        amount=lambda r, c: _sumifs(metric, ("Month", f"$A{r}"), ("Owner key", "$D$5"),
                                    ("Component key", _fixed_row(key_row, c))),
        total=TOTAL, change=CHANGE)
    check_row = total_row + 2
    s.put(check_row, 1, f"Check: statement total minus this {dim}'s total in the Data table "
                        "(0 when they tie out)", f.NOTE)
    s.put(check_row, total_col, Formula(f"={ref(total_row, total_col)}-SUMIFS({_col(metric)},"
                                        f"{_col('Owner key')},$D$5)"), f.MONEY)
    s.chart(Chart(
        name="StatementParts", kind="bar", stacked=True, title=f"Monthly {metric} by part",
        data_ref=f"B{head}:{ref(last, total_col - 1)}", categories_ref=f"A{first}:A{last}",
        anchor=f"A{check_row + 2}", y_title=data.currency, y_number_format="#,##0",
        width_cm=min(max(18.0, 2.6 * len(months) + 8), 30.0), height_cm=8.0,
    ))

    s.widths(12, 15)
    for c in range(3, total_col):
        s.width(c, 15)
    s.width(total_col, 15)
    s.width(change_col, 13)
    s.fit_height(head, range(1, change_col + 1))
    s.freeze = f"B{first}"
    return s.build()


# ---- Rules ----------------------------------------------------------------------------------


def _rules_sheet(rules: Rules, rules_source: str, rules_note: str) -> Sheet:
    s = SheetDraft(RULES, landscape=True)
    accounts = [*rules.account_defaults, *(rules.hierarchy.rows if rules.hierarchy else ())]
    widths = (min(max([18, *(len(a) + 2 for a in accounts)]), 40), 40, 18, 44, 30, 18)
    for column, width in enumerate(widths, start=1):
        s.width(column, width)
    cell = Style(wrap=True)

    def table_rows(row: int, rows) -> int:
        for values in rows:
            row += 1
            s.put_row(row, 1, values, cell)
            s.fit_height(row, range(1, len(values) + 1))
        return row

    s.put(1, 1, "Allocation rules", f.TITLE)
    s.put(2, 1, f"As read from {rules_source}.", f.NOTE)
    if rules_note:
        s.put(3, 1, rules_note[0].upper() + rules_note[1:] + ".",
              f.NOTE.but(color="C00000", bold=True) if rules_note.startswith("WARNING") else f.NOTE)
    s.put(4, 1, "Order: each charge gets its direct owner (owner tag through the taxonomy, then the "
                "account default, then the account hierarchy);", f.NOTE)
    s.put(5, 1, "then the first pool whose filter matches claims it; pools are split in the order "
                "listed, each to the owners with direct cost that month unless it names them.", f.NOTE)
    row = 7
    s.put(row, 1, "Owner dimension", f.LABEL)
    s.put(row, 2, rules.owner)

    row += 2
    s.put(row, 1, "Shared-cost pools", f.LABEL)
    s.put(row, 2, "split in this order; a pool never receives from itself or a later pool", f.NOTE)
    row += 1
    s.put_row(row, 1, ("Pool", "Filter", "Split", "Weights", "Receivers", "Basis"), f.HEADER_LEFT)
    row = table_rows(row, ((pool.id, _filter_text(pool.filter), pool.split,
                            _weights_text(pool.percentages, pool.drivers, pool.split),
                            ", ".join(pool.to) or "owners with direct cost that month", pool.basis)
                           for pool in rules.pools))
    if not rules.pools:
        row = table_rows(row, [("(none)",)])

    row += 2
    s.put(row, 1, "Tag taxonomy", f.LABEL)
    s.put(row, 2, "keys and values match ignoring case, separators and provider prefixes", f.NOTE)
    row += 1
    s.put_row(row, 1, ("Dimension", "Tag keys (first found wins)", "Value", "Also written as"),
              f.HEADER_LEFT)
    taxonomy = []
    for dim in rules.taxonomy.dimensions:
        values = list(dim.values.items()) or [("(as tagged, lower-cased)", ())]
        taxonomy.extend((dim.name, ", ".join(dim.keys) if i == 0 else "", canonical, ", ".join(variants))
                        for i, (canonical, variants) in enumerate(values))
    row = table_rows(row, taxonomy)

    row += 2
    s.put(row, 1, "Account defaults", f.LABEL)
    s.put(row, 2, "owner of a sub-account's charges that carry no owner tag", f.NOTE)
    row += 1
    s.put_row(row, 1, ("Sub-account", "Owner"), f.HEADER_LEFT)
    row = table_rows(row, [(str(a), str(o)) for a, o in rules.account_defaults.items()] or [("(none)", "")])

    if rules.hierarchy is not None:
        row += 2
        s.put(row, 1, "Account hierarchy", f.LABEL)
        s.put(row, 2, f"from {rules.hierarchy.source}", f.NOTE)
        columns = rules.hierarchy.columns
        row += 1
        s.put_row(row, 1, ("Sub-account", *columns), f.HEADER_LEFT)
        table_rows(row, ((account, *(attrs.get(c, "") for c in columns))
                         for account, attrs in rules.hierarchy.rows.items()))
    return s.build()


def _filter_text(flt: Mapping[str, tuple[str | None, ...]]) -> str:
    parts = []
    for dim, values in flt.items():
        shown = " or ".join("(none)" if v is None else v for v in values)
        parts.append(f"{dim} = {shown}")
    return "; ".join(parts)


def _weights_text(percentages: Mapping, drivers: Mapping, split: str) -> str:
    if split == "fixed":
        return ", ".join(f"{owner} {pct}%" for owner, pct in percentages.items())
    if split == "driver":
        return ", ".join(f"{owner}{f' ({month})' if month else ''} {weight}"
                         for (owner, month), weight in drivers.items())
    if split == "even":
        return "equal parts"
    return "each receiver's direct cost"


# ---- Live -----------------------------------------------------------------------------------


def _live_sheet(data: ShowbackData, runtime: str, total_row: int) -> Sheet:
    s, supported = start_live_sheet(LIVE, "Live: each month's total, asked from the store by FINOPS.COST",
                                    runtime, "the other sheets")
    if not supported:
        return s.build()
    cost = registry.function("COST")
    s.put(2, 1, add_in_note(runtime), f.NOTE)
    s.put(3, 1, "without it they show #NAME?. Nothing else depends on them. The difference is 0 "
                "while the store holds the charges the allocation saw.", f.NOTE)
    summary = quote_sheet(SUMMARY)
    tie_table(s, 4, runtime, "Month", "Summary total", data.months,
              lambda r: cost.formula(runtime, f"A{r}", f"EDATE(A{r},1)", '"currency"', "Currency"),
              lambda i: f"={summary}!{ref(total_row, 3 + i)}", key_style=f.MONTH_CELL)
    s.widths(16, 24, 18, 14)
    return s.build()
