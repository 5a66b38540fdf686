"""The numbers behind the Cost overview, asked from the store through ``finops_xl``'s query API.

Every amount comes from :meth:`CostQueries.cost_table`; nothing here adds money up. The module
only reshapes the store's pivots into the rows of the workbook's Data table and decides which
values of the breakdown dimension get their own column (the largest by total cost) and which fall
into "Other".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from finops_xl.months import add_months
from finops_xl.query.costs import CostQueries, CostTable, QueryError

#: The metrics of the Data table: amortized cost (the overview's measure) and cash.
EFFECTIVE, BILLED = "EffectiveCost", "BilledCost"
#: The one "provider" of an overview broken down by an allocation dimension (owner, pool, …).
ALL_PROVIDERS = "All providers"


@dataclasses.dataclass(frozen=True)
class DataRow:
    """One row of the Data table: the cost of one (month, provider, breakdown value).

    Attributes:
      month: the first day of the month.
      provider: ProviderName.
      value: the breakdown dimension's value (``"(none)"`` where the charges have none).
      effective_cost, billed_cost: the sums from the store (None where no charge falls).
      column: the overview column this value rolls into (1-based; ``len(columns) + 1`` is Other).
      provider_column: the provider's column in the provider block (1-based).
    """

    month: dt.date
    provider: str
    value: str
    effective_cost: Decimal | None
    billed_cost: Decimal | None
    column: int
    provider_column: int


@dataclasses.dataclass(frozen=True)
class OverviewData:
    """What the overview shows.

    Attributes:
      months: first days of the months shown, oldest first.
      by: the breakdown dimension's canonical name (``sub_account``).
      columns: the breakdown values with their own column, largest total EffectiveCost first.
      other: True when the remaining values are grouped in an Other column.
      providers: the providers with charges in the period, largest total EffectiveCost first.
      rows: the Data table, by month, provider and value.
      currency: the billing currency of every amount.
      by_provider: False when the breakdown comes from the allocation (owner, pool, …), which has
        no provider: ``providers`` is then the single :data:`ALL_PROVIDERS`.
      store_version: the store commit the numbers were read at, in words ('' when the store keeps
        no versions).
    """

    months: tuple[dt.date, ...]
    by: str
    columns: tuple[str, ...]
    other: bool
    providers: tuple[str, ...]
    rows: tuple[DataRow, ...]
    currency: str
    by_provider: bool = True
    store_version: str = ""

    @property
    def start(self) -> dt.date:
        return self.months[0]

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        return add_months(self.months[-1], 1)


def pull_overview_data(queries: CostQueries, *, last_month: dt.date, months: int, by: str,
                       top: int) -> OverviewData:
    """Ask the store for the overview's numbers: ``months`` months ending with ``last_month``,
    broken down by ``by`` (its ``top`` largest values get a column each).

    Raises QueryError when the store cannot answer (unknown dimension, several currencies) or
    holds no charges in the period; ValueError for a bad argument.
    """
    if last_month.day != 1:
        raise ValueError(f"last_month must be the first day of a month, got {last_month.isoformat()}")
    if months < 1 or top < 1:
        raise ValueError("months and top must be at least 1")
    month_starts = tuple(add_months(last_month, i - months + 1) for i in range(months))
    start, end = month_starts[0], add_months(last_month, 1)

    totals = queries.cost_table(start, end, rows=by, metric=EFFECTIVE)
    dimension = totals.header[0]
    if dimension in ("month", "date"):
        raise QueryError(f"the overview's months are its rows already: break it down by another "
                         f"dimension than {dimension!r}")
    if not totals.rows:
        raise QueryError(f"the store holds no charges from {start:%Y-%m} to {last_month:%Y-%m}")
    ranked = _ranked(totals)
    columns = ranked if len(ranked) <= top else ranked[:top]
    by_provider = queries.has_provider(by)
    providers = (_ranked(queries.cost_table(start, end, rows="provider", metric=EFFECTIVE)) if by_provider
                 else (ALL_PROVIDERS,))

    key = {v: i + 1 for i, v in enumerate(columns)}
    other_key = len(columns) + 1
    rows: list[DataRow] = []
    for month in month_starts:
        next_month = add_months(month, 1)
        effective = _month_cells(queries, month, next_month, by, EFFECTIVE, by_provider)
        billed = _month_cells(queries, month, next_month, by, BILLED, by_provider)
        for provider, value in sorted(effective.keys() | billed.keys()):
            rows.append(DataRow(month, provider, value, effective.get((provider, value)),
                                billed.get((provider, value)), key.get(value, other_key),
                                providers.index(provider) + 1))
    return OverviewData(month_starts, dimension, columns, len(ranked) > len(columns), providers,
                        tuple(rows), totals.currency, by_provider, _store_version(queries))


def _store_version(queries: CostQueries) -> str:
    """The store's head commit in words ('' for a store without versions)."""
    store = getattr(queries, "store", None)
    return store.head_text() if store is not None else ""


def _month_cells(queries: CostQueries, month: dt.date, next_month: dt.date, by: str, metric: str,
                 by_provider: bool) -> dict[tuple[str, str], Decimal]:
    if by_provider:
        return _cells(queries.cost_table(month, next_month, rows=by, columns="provider", metric=metric))
    table = queries.cost_table(month, next_month, rows=by, metric=metric)
    return {(ALL_PROVIDERS, row[0]): row[1] for row in table.rows if row[1] is not None}


def _ranked(table: CostTable) -> tuple[str, ...]:
    """The row values of a one-column pivot, largest amount first (ties by value)."""
    return tuple(r[0] for r in sorted(table.rows, key=lambda r: (-(r[1] or Decimal(0)), r[0])))


def _cells(table: CostTable) -> dict[tuple[str, str], Decimal]:
    """(column value, row value) → amount of a pivot, for the cells where charges fall."""
    return {(column, row[0]): amount
            for row in table.rows
            for column, amount in zip(table.header[1:], row[1:]) if amount is not None}
