"""The numbers behind the Showback workbook, shaped from ``finops_xl.allocation.showback``.

Every amount comes from :func:`~finops_xl.allocation.showback.statements` (already rounded to the
currency's minor unit, with a ``ROUNDING`` line per month) and every share from
:func:`~finops_xl.allocation.showback.coverage`. Nothing here adds money up: the module picks the
period and currency, orders owners and pools, gives them the numeric keys the workbook's SUMIFS
match on, and reads which allocation run (and rules file) the store holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal

from finops_xl.allocation.engine import rules_digest
from finops_xl.allocation.rules import ROUNDING, Rules
from finops_xl.allocation.showback import Coverage, StatementLine, coverage, statements
from finops_xl.months import add_months
from finops_xl.store.store import CostStore, table_columns

#: The statement's parts, in column order: (component text in the Data table, column heading).
DIRECT, COMMITMENT, CREDITS = "direct", "commitment", "credits"
FIXED_COMPONENTS = ((DIRECT, "Direct usage"), (COMMITMENT, "Commitment amortization"),
                    (CREDITS, "Credits"))
#: The component of a ROUNDING line.
ROUNDING_COMPONENT = "rounding"
SHARED_PREFIX = "shared:"


class NoAllocationError(LookupError):
    """The store holds no allocation (``allocated_charges``) to show."""


@dataclasses.dataclass(frozen=True)
class DataRow:
    """One row of the Data table: one part of one owner's month.

    Attributes:
      month: the first day of the month.
      owner: the owner (``ROUNDING`` for the month's rounding line).
      component: ``direct``, ``commitment``, ``credits``, ``shared:<pool id>`` or ``rounding``.
      amount: as ``statements()`` gives it (minor unit; the rounding line exact).
      owner_key: the owner's row on the Summary (1-based; ROUNDING is last).
      component_key: the component's column on the statements (1-based; rounding is last).
    """

    month: dt.date
    owner: str
    component: str
    amount: Decimal
    owner_key: int
    component_key: int


@dataclasses.dataclass(frozen=True)
class ShowbackData:
    """What the Showback workbook shows.

    Attributes:
      months: first days of the months shown, oldest first.
      currency: the billing currency of every amount.
      owners: the owners (ROUNDING excluded), largest last-month total first, then by name.
      pools: the shared-cost pools with a part in the period, in the rules' order.
      rows: the Data table, by month, owner key and component key.
      lines: the statement lines of the period and currency (ROUNDING lines included).
      coverage: allocation coverage of the months shown that have charges, oldest first.
    """

    months: tuple[dt.date, ...]
    currency: str
    owners: tuple[str, ...]
    pools: tuple[str, ...]
    rows: tuple[DataRow, ...]
    lines: tuple[StatementLine, ...]
    coverage: tuple[Coverage, ...]

    @property
    def components(self) -> tuple[tuple[str, str], ...]:
        """(component, column heading) of every statement column, in key order (rounding excluded)."""
        return FIXED_COMPONENTS + tuple((SHARED_PREFIX + p, f"Shared: {p}") for p in self.pools)

    def owner_key(self, owner: str) -> int:
        return len(self.owners) + 1 if owner == ROUNDING else self.owners.index(owner) + 1

    @property
    def rounding_key(self) -> int:
        return len(self.owners) + 1


def shape_showback(lines: Iterable[StatementLine], coverage_rows: Iterable[Coverage], *,
                   last_month: dt.date, months: int, currency: str | None = None,
                   pool_order: Sequence[str] = ()) -> ShowbackData:
    """The statement lines and coverage of ``months`` months ending with ``last_month`` (its first
    day), in ``currency`` (needed only when the period holds several), shaped for the workbook.

    Raises ValueError for a bad argument, a period without allocated cost, or an ambiguous currency.
    """
    if last_month.day != 1:
        raise ValueError(f"last_month must be the first day of a month, got {last_month.isoformat()}")
    if months < 1:
        raise ValueError("months must be at least 1")
    month_starts = tuple(add_months(last_month, i - months + 1) for i in range(months))
    in_period = [line for line in lines if line.month in month_starts]
    currencies = sorted({line.currency for line in in_period})
    if not currencies:
        raise ValueError(f"the allocation holds no cost from {month_starts[0]:%Y-%m} to "
                         f"{last_month:%Y-%m}")
    if currency is None:
        if len(currencies) > 1:
            raise ValueError(f"the period holds several billing currencies ({', '.join(currencies)}), "
                             "which are never added together: pick one with currency")
        currency = currencies[0]
    elif currency not in currencies:
        raise ValueError(f"no allocated cost in {currency} from {month_starts[0]:%Y-%m} to "
                         f"{last_month:%Y-%m} (currencies: {', '.join(currencies)})")
    chosen = tuple(line for line in in_period if line.currency == currency)

    last_total = {line.owner: line.total for line in chosen if line.month == last_month}
    owners = tuple(sorted({line.owner for line in chosen if line.owner != ROUNDING},
                          key=lambda o: (o not in last_total, -last_total.get(o, 0), o)))
    seen = {pool for line in chosen for pool, _ in line.shared}
    pools = tuple(p for p in pool_order if p in seen) + tuple(sorted(seen - set(pool_order)))

    component_key = {c: i + 1 for i, (c, _) in enumerate(FIXED_COMPONENTS)}
    component_key |= {SHARED_PREFIX + p: len(FIXED_COMPONENTS) + i + 1 for i, p in enumerate(pools)}
    component_key[ROUNDING_COMPONENT] = len(component_key) + 1
    owner_key = {o: i + 1 for i, o in enumerate(owners)} | {ROUNDING: len(owners) + 1}
    rows = []
    for line in chosen:
        if line.owner == ROUNDING:
            parts = [(ROUNDING_COMPONENT, line.total)]
        else:
            parts = [(DIRECT, line.direct), (COMMITMENT, line.commitment), (CREDITS, line.credits)]
            parts += [(SHARED_PREFIX + pool, amount) for pool, amount in line.shared]
        rows.extend(DataRow(line.month, line.owner, c, amount, owner_key[line.owner], component_key[c])
                    for c, amount in parts)
    rows.sort(key=lambda r: (r.month, r.owner_key, r.component_key))
    cov = tuple(sorted((c for c in coverage_rows if c.month in month_starts), key=lambda c: c.month))
    return ShowbackData(month_starts, currency, owners, pools, tuple(rows), chosen, cov)


# ---- the store's allocation -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AllocationRun:
    """The allocation a store holds (its row in ``allocation_runs``).

    Attributes:
      run_id: the run's number.  ran_at: when it ran (UTC).
      rules_source: the rules file it used, as given.  rules_digest: fingerprint of those rules.
      owner: the owner dimension.  pools: the pool ids, in order.
    """

    run_id: int
    ran_at: dt.datetime | None
    rules_source: str
    rules_digest: str
    owner: str
    pools: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Allocation:
    """What the store holds of its current allocation: statements, coverage, the run."""

    lines: tuple[StatementLine, ...]
    coverage: tuple[Coverage, ...]
    run: AllocationRun | None
    store_version: str = ""  # the store commit it was read at, in words ('' without versions)


def read_allocation(store: CostStore, metric: str = "EffectiveCost", *, current: bool = True) -> Allocation:
    """The statements and coverage of the store's current allocation, and the run that made it.

    Raises StoreNotFoundError without a store, NoAllocationError when nothing was allocated yet,
    ``allocation.freshness.StaleAllocationError`` when the allocation is older than the last load
    (unless ``current=False``: only the run record is wanted, e.g. for its rules file).
    """
    from finops_xl.allocation.freshness import check_allocation_current

    with store.reader() as con:
        if not table_columns(con, "allocated_charges"):
            raise NoAllocationError(f"the cost store {store.path} holds no allocation")
        if current:
            check_allocation_current(con)
        run = None
        if table_columns(con, "allocation_runs"):
            found = con.execute(
                "SELECT run_id, ran_at, rules_source, rules_digest, owner, pools FROM allocation_runs "
                "ORDER BY run_id DESC LIMIT 1").fetchall()
            if found:
                run_id, ran_at, source, digest, owner, pools = found[0]
                run = AllocationRun(int(run_id), ran_at, str(source), str(digest), str(owner),
                                    tuple(json.loads(pools) if pools else ()))
        return Allocation(statements(con, metric), coverage(con), run, store.head_text())


def describe_run(run: AllocationRun | None, rules: Rules) -> str:
    """One sentence for the auditor: which run the numbers come from, and whether ``rules`` are
    the rules it used."""
    if run is None:
        return "the store does not record which rules its allocation used"
    when = f" at {run.ran_at:%Y-%m-%d %H:%M} UTC" if run.ran_at else ""
    if rules_digest(rules) == run.rules_digest:
        return f"allocation run {run.run_id}{when} used exactly these rules"
    return (f"WARNING: these rules differ from the ones allocation run {run.run_id}{when} used "
            f"({run.rules_source}); run finops-xl allocate again before publishing")


def read_tags(store: CostStore, month: dt.date):
    """The tag governance of ``month`` from the store's current allocation (None when the month
    has no allocated cost), for the Tag governance sheet."""
    from finops_xl.report import ReportError
    from finops_xl.report.governance import tag_governance

    with store.reader() as con:
        try:
            return tag_governance(con, month)
        except ReportError:
            return None
