"""Variance against budget, and "why did it jump?": month-over-month change in drivers and words.

Budget variance (GLOSSARY "Variance")
-------------------------------------
A budget is a CSV of ``owner, service_category, month (YYYY-MM), amount`` with optional
``quantity, unit`` (``load_budget``). Actual cost comes from the allocation, by owner, service
category and month:

* direct cost (allocation lines with a group) takes the group's ``ServiceCategory`` from
  ``allocation_groups``;
* shared cost (a pool's split, which mixes categories) is reported under the category
  ``SHARED`` ("Shared") for each owner, so a budget can hold a line for it or leave it unbudgeted;
* unallocated cost stays with the owner ``UNALLOCATED``.

For each owner × category × month of the budget (and every actual cell in the budget's months, with
budget 0 when unbudgeted): variance = actual − budget (positive = overspend), % = variance ÷ budget.
Where the budget line has a quantity, actual volume is Σ ``PricingQuantity`` of the owner's direct
rows in that category and month whose ``PricingUnit`` is the budget's unit, and::

    price effect  = (actual unit price − budget unit price) × actual volume
    volume effect = (actual volume − budget volume) × budget unit price
    price effect + volume effect = variance                      (exactly: ``price_volume``)

with unit price = amount ÷ volume (the cell's whole amount over its volume in the budget's unit).
Attributing volume to owners needs the allocation rules (the taxonomy places each row in its
allocation group); by default they are read from where the latest allocation run says it took them.

Why did it jump?
----------------
``explain_change`` decomposes the change of total cost from one month to the next (months of
ChargePeriodStart, as the allocation keys them; EffectiveCost by default) into one exact partition:

1. each row's amount is split into a *usage* part and a *commitment* part: on rows that a commitment
   covers or leaves unused (CommitmentDiscountStatus set) the usage part is ContractedCost and the
   commitment part is the rest (amount − ContractedCost: minus the discount on used capacity, plus
   the cost of unused capacity); commitment purchase rows are all commitment part. Elsewhere all of
   it is usage;
2. usage changes are grouped by sub-account × service (each with its split into resources new this
   month, resources gone since last month, resources in both, and rows without a ResourceId, and
   its largest-moving SKU); commitment changes by provider ("commitment coverage change");
3. drivers are ranked by absolute change; the top ``top`` are named and the rest is one ``other``
   line, so the drivers add up to the change exactly.

The same change is also broken down by each single dimension (``views``: sub-account, service, SKU,
resource new/gone/continuing, pricing), each an exact partition with its own ``other`` line. The
aggregation is SQL; the sentences (``ChangeExplanation.sentences``) are written in Python from the
few lines the SQL returns.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import duckdb

from finops_xl.close.price_volume import price_volume
from finops_xl.close.reconciliation import (
    add_months,
    sql_timestamp,
)
from finops_xl.close.variance_budget import (  # noqa: F401
    BUDGET_COLUMNS,
    BUDGET_OPTIONAL,
    METRICS,
    QUANTUM,
    RATIO,
    SHARED,
    ZERO,
    BudgetError,
    BudgetLine,
    _exact,
    _ratio,
    load_budget,
)
from finops_xl.close.variance_change import (  # noqa: F401
    Breakdown,
    ChangeExplanation,
    Driver,
    explain_change,
)
from finops_xl.store.sources import sql_identifier, sql_literal

# ---- price / volume -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VarianceLine:
    """One owner × service category × month.

    Attributes:
      owner, service_category, month: the cell.
      budget, actual: amounts (the metric's currency).  variance: actual − budget (+ = overspend).
      variance_pct: variance ÷ budget (a fraction; None when the budget is 0).
      unit: the budget's volume unit, or None.  budget_volume, actual_volume: in that unit.
      budget_unit_price, actual_unit_price: amount ÷ volume (None without volume).
      price_effect, volume_effect: their sum is ``variance`` (None without volumes).
    """

    owner: str
    service_category: str
    month: dt.date
    budget: Decimal
    actual: Decimal
    variance: Decimal
    variance_pct: Decimal | None
    unit: str | None = None
    budget_volume: Decimal | None = None
    actual_volume: Decimal | None = None
    budget_unit_price: Decimal | None = None
    actual_unit_price: Decimal | None = None
    price_effect: Decimal | None = None
    volume_effect: Decimal | None = None


@dataclasses.dataclass(frozen=True)
class VarianceReport:
    """Budget vs actual for the budget's months.

    Attributes:
      metric, currency: what "actual" is.  lines: every budgeted or spent cell, by month, owner,
      category.  budget, actual, variance: totals.  notes: what the reader should know.
    """

    metric: str
    currency: str
    lines: tuple[VarianceLine, ...]
    notes: tuple[str, ...] = ()

    @property
    @_exact
    def budget(self) -> Decimal:
        return sum((ln.budget for ln in self.lines), ZERO)

    @property
    @_exact
    def actual(self) -> Decimal:
        return sum((ln.actual for ln in self.lines), ZERO)

    @property
    @_exact
    def variance(self) -> Decimal:
        return self.actual - self.budget


@_exact
def variance(
    con: duckdb.DuckDBPyConnection,
    budget: Sequence[BudgetLine] | str | Path,
    *,
    metric: str = "EffectiveCost",
    currency: str | None = None,
    rules=None,
) -> VarianceReport:
    """Budget vs actual by owner × service category × month (see the module docstring).

    Parameters:
      con: a store connection with an allocation (``CostStore.reader()`` after ``allocate``).
      budget: budget lines or the path of a budget CSV (``load_budget``).
      metric: ``EffectiveCost`` (amortized, default) or ``BilledCost``.
      currency: the allocation currency the budget is in; needed only when the months have several.
      rules: allocation ``Rules`` to attribute volumes to owners (only for lines with a quantity);
        default: the rules file the latest allocation run names.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    if isinstance(budget, (str, Path)):
        budget = load_budget(budget)
    budget = list(budget)
    if not budget:
        raise ValueError("the budget has no lines")
    _require_allocation(con, "budget variance by owner")
    months = sorted({b.month for b in budget})
    month_list = "(" + ", ".join(f"DATE '{m.isoformat()}'" for m in months) + ")"
    currency = _allocation_currency(con, month_list, currency)
    m = sql_identifier(metric)
    actual = {(o, c, mo): Decimal(v or 0) for o, c, mo, v in con.execute(f"""
        SELECT a.owner,
               CASE WHEN a.group_id IS NULL THEN {sql_literal(SHARED)}
                    ELSE coalesce(g.ServiceCategory, '(none)') END AS service_category,
               a.month, sum(a.{m})
        FROM allocated_charges a LEFT JOIN allocation_groups g ON g.group_id = a.group_id
        WHERE a.currency = {sql_literal(currency)} AND a.month IN {month_list}
        GROUP BY ALL
    """).fetchall()}
    notes: list[str] = [f"actual = allocated {metric} in {currency}; shared (pool) cost under '{SHARED}'"]
    with_qty = [b for b in budget if b.quantity is not None]
    volumes: dict[tuple, Decimal] = {}
    if with_qty:
        if any(b.service_category == SHARED for b in with_qty):
            notes.append(f"'{SHARED}' cost has no volume of its own: its quantities are not decomposed")
        volumes = _owner_volumes(con, _rules_for(con, rules, notes), months, currency,
                                 sorted({b.unit for b in with_qty}))
    budget_by = {(b.owner, b.service_category, b.month): b for b in budget}
    owners_with_cost = {o for o, _, _ in actual}
    for o in sorted({b.owner for b in budget} - owners_with_cost):
        notes.append(f"budget owner {o!r} has no allocated cost in these months (check its spelling "
                     "against the allocation's owners)")
    lines = []
    for key in sorted(set(budget_by) | set(actual), key=lambda k: (k[2], k[0], k[1])):
        owner, category, month = key
        b = budget_by.get(key)
        bud = b.amount if b else ZERO
        act = actual.get(key, ZERO)
        var = act - bud
        pct = _ratio(var, bud)
        line = VarianceLine(owner, category, month, bud, act, var, pct)
        if b is not None and b.quantity is not None and category != SHARED:
            qa = volumes.get((owner, category, month, b.unit), ZERO)
            effects = price_volume(act, qa, bud, b.quantity)
            line = dataclasses.replace(
                line, unit=b.unit, budget_volume=b.quantity, actual_volume=qa,
                budget_unit_price=_ratio(bud, b.quantity), actual_unit_price=_ratio(act, qa),
                price_effect=effects[0] if effects else None,
                volume_effect=effects[1] if effects else None)
        lines.append(line)
    return VarianceReport(metric, currency, tuple(lines), tuple(notes))


def _require_allocation(con, what: str) -> None:
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                        "('allocated_charges', 'allocation_groups')").fetchall()[0][0]
    if found < 2:
        raise ValueError(f"{what} needs an allocation: run `finops-xl allocate` (or "
                         "finops_xl.allocation.engine.allocate) on the store first")


def _allocation_currency(con, month_list: str, currency: str | None) -> str:
    if currency:
        return currency.upper()
    found = [c for (c,) in con.execute(f"SELECT DISTINCT currency FROM allocated_charges WHERE month IN "
                                       f"{month_list} ORDER BY 1").fetchall()]
    if len(found) > 1:
        raise ValueError(f"the allocation has {', '.join(found)} in these months: say which currency "
                         "the budget is in (currency=...)")
    return found[0] if found else "USD"


def _rules_for(con, rules, notes: list[str]):
    from finops_xl.allocation.engine import rules_digest
    from finops_xl.allocation.rules import load_rules

    run = con.execute("SELECT rules_source, rules_digest FROM allocation_runs ORDER BY run_id DESC "
                      "LIMIT 1").fetchall()
    source, digest = run[0] if run else (None, None)
    if rules is None:
        if not source or not Path(source).is_file():
            raise ValueError("budget quantities need the allocation rules to attribute volume to owners: "
                             f"pass rules=load_rules(...) (the allocation names {source!r}, not a file here)")
        rules = load_rules(source)
    if digest and rules_digest(rules) != digest:
        notes.append("the rules given differ from those the allocation ran with: volumes follow the "
                     "allocation's groups, looked up with the rules given")
    return rules


def _owner_volumes(con, rules, months: list[dt.date], currency: str,
                   units: list[str]) -> dict[tuple, Decimal]:
    """(owner, service category, month, unit) → Σ PricingQuantity of the owner's direct rows."""
    from finops_xl.allocation.engine import tag_column

    group_cols = {c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'allocation_groups'"
    ).fetchall()}
    charge_cols = {c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'charges'").fetchall()}
    derived = {"group_id", "month", "currency", "rows", "BilledCost", "EffectiveCost", "owner",
               "owner_method", "pool_id"}
    keys = sorted((group_cols & charge_cols) - derived)
    dims = [d for d in rules.taxonomy.names if tag_column(d) in group_cols]
    tag_keys = [k for (k,) in con.execute(
        "SELECT DISTINCT unnest(json_keys(Tags)) FROM cost_daily WHERE Tags IS NOT NULL").fetchall()]
    tag_exprs = "".join(
        f", {rules.taxonomy.sql(d, tag_keys, tags='CAST(Tags AS JSON)')} AS {sql_identifier(tag_column(d))}"
        for d in dims)
    lo, hi = months[0], add_months(months[-1], 1)
    rng = f"c.ChargePeriodStart >= {sql_timestamp(lo)} AND c.ChargePeriodStart < {sql_timestamp(hi)}"
    on = " AND ".join(["r.month = g.month", "r.currency = g.currency"]
                      + [f"r.{sql_identifier(k)} IS NOT DISTINCT FROM g.{sql_identifier(k)}"
                         for k in [*keys, *(tag_column(d) for d in dims)]])
    units_sql = ", ".join(sql_literal(u) for u in units)
    rows = con.execute(f"""
        WITH tagsets AS (
            SELECT Tags{tag_exprs} FROM (SELECT DISTINCT CAST(Tags AS VARCHAR) AS Tags FROM charges c
                                          WHERE {rng} AND c.PricingUnit IN ({units_sql}))
        ),
        r AS (
            SELECT CAST(date_trunc('month', c.ChargePeriodStart) AS DATE) AS month,
                   c.BillingCurrency AS currency, {', '.join('c.' + sql_identifier(k) for k in keys)}
                   {''.join(', t.' + sql_identifier(tag_column(d)) for d in dims)},
                   c.PricingUnit, c.PricingQuantity
            FROM charges c LEFT JOIN tagsets t ON CAST(c.Tags AS VARCHAR) IS NOT DISTINCT FROM t.Tags
            WHERE {rng} AND c.BillingCurrency = {sql_literal(currency)} AND c.PricingUnit IN ({units_sql})
        )
        SELECT g.owner, g.ServiceCategory, r.month, r.PricingUnit, sum(r.PricingQuantity)
        FROM r JOIN allocation_groups g ON {on}
        WHERE g.pool_id IS NULL AND g.owner IS NOT NULL
        GROUP BY ALL
    """).fetchall()
    wanted = set(months)
    return {(o, c, mo, u): Decimal(q or 0) for o, c, mo, u, q in rows if mo in wanted}
