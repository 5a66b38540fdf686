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
import functools
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from pathlib import Path

import duckdb

from finops_xl.close.reconciliation import (
    EXACT,
    add_months,
    as_month,
    parse_amount,
    sql_timestamp,
)
from finops_xl.close.price_volume import price_volume
from finops_xl.inputs import csv_rows
from finops_xl.money import round_money
from finops_xl.store.errors import Problem
from finops_xl.store.sources import sql_identifier, sql_literal

ZERO = Decimal(0)
#: Service category of shared (pool) cost in budget-vs-actual.
SHARED = "Shared"
#: Precision of computed effects: the store's 12 decimals.
QUANTUM = Decimal("1e-12")
METRICS = ("EffectiveCost", "BilledCost")

#: Context for ratios (percentages, unit prices, coverage): 28 significant digits.
RATIO = Context(prec=28)

BUDGET_COLUMNS = ("owner", "service_category", "month", "amount")
BUDGET_OPTIONAL = ("quantity", "unit")


def _exact(fn):
    """Run ``fn`` with + and − exact on DECIMAL(38,12) amounts (see ``reconciliation.EXACT``)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with localcontext(EXACT):
            return fn(*args, **kwargs)
    return wrapper


def _ratio(part, whole) -> Decimal | None:
    """part ÷ whole to 28 significant digits (None when whole is 0 or missing)."""
    if not whole:
        return None
    with localcontext(RATIO):
        return Decimal(part or 0) / Decimal(whole)


# ---- budget file ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BudgetLine:
    """One budget cell.

    Attributes:
      owner, service_category: as the allocation names them (``SHARED`` for shared cost).
      month: first day of the month.  amount: budgeted cost (spend positive).
      quantity, unit: budgeted volume in a FOCUS PricingUnit (e.g. ``Hours``), or None.
      source: ``<file>, row N``.
    """

    owner: str
    service_category: str
    month: dt.date
    amount: Decimal
    quantity: Decimal | None = None
    unit: str | None = None
    source: str = ""


class BudgetError(ValueError):
    """A budget file that cannot be used; ``problems`` names file, row and column of each."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        n = len(self.problems)
        super().__init__("\n  ".join([f"{n} problem{'s' if n != 1 else ''} in the budget:",
                                      *(str(p) for p in self.problems)]))


def load_budget(path: str | Path) -> tuple[BudgetLine, ...]:
    """Budget lines from a CSV with ``owner, service_category, month, amount[, quantity, unit]``.

    ``month`` is ``YYYY-MM``; ``amount`` and ``quantity`` plain decimals (``1,234.50`` accepted);
    a quantity needs a unit and the other way round; quantity ≥ 0. One line per owner × category ×
    month. Raises BudgetError listing every problem with file, data row (1-based, header excluded)
    and column.
    """
    label = str(path)
    problems: list[Problem] = []
    lines: list[BudgetLine] = []
    seen: dict[tuple, int] = {}
    for i, val in csv_rows(path, BUDGET_COLUMNS, BUDGET_OPTIONAL, BudgetError):
        bad = len(problems)
        for c in ("owner", "service_category"):
            if not val[c]:
                problems.append(Problem(label, f"empty {c}", row=i, column=c))
        month = None
        if not re.fullmatch(r"\d{4}-\d{2}", val["month"]):
            problems.append(Problem(label, "month must be YYYY-MM", row=i, column="month",
                                    value=val["month"]))
        else:
            try:
                month = as_month(val["month"])
            except ValueError:
                problems.append(Problem(label, "month must be YYYY-MM", row=i, column="month",
                                        value=val["month"]))
        amount = parse_amount(val["amount"])
        if amount is None:
            problems.append(Problem(label, "not a number (use e.g. 1234.56)", row=i, column="amount",
                                    value=val["amount"]))
        quantity, unit = None, val.get("unit") or None
        if val.get("quantity"):
            quantity = parse_amount(val["quantity"])
            if quantity is None or quantity < 0:
                problems.append(Problem(label, "quantity must be a number ≥ 0", row=i,
                                        column="quantity", value=val["quantity"]))
            elif unit is None:
                problems.append(Problem(label, "a quantity needs its unit (a FOCUS PricingUnit, "
                                        "e.g. Hours)", row=i, column="unit"))
        elif unit is not None:
            problems.append(Problem(label, "a unit without a quantity", row=i, column="quantity"))
        key = (val["owner"], val["service_category"], month)
        if len(problems) == bad:
            if key in seen:
                problems.append(Problem(label, f"repeats the line of row {seen[key]} (same owner, "
                                        "service_category and month)", row=i, column="owner",
                                        value=val["owner"]))
                continue
            seen[key] = i
            lines.append(BudgetLine(val["owner"], val["service_category"], month, amount, quantity,
                                    unit, f"{label}, row {i}"))
    if problems:
        raise BudgetError(problems)
    return tuple(lines)


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


# ---- why did it jump? ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Driver:
    """One named part of a month-over-month change.

    Attributes:
      kind: ``service`` (a service in a sub-account), ``commitment`` (a provider's commitment
        discounts) or ``other`` (everything not named).
      label: the driver in words (e.g. "Amazon Elastic Compute Cloud in acme-ml-research").
      provider, sub_account, service: its key (None where it does not apply).
      previous, current, change: its amounts in the two months, and current − previous.
      new, gone, continuing, no_resource: for ``service`` drivers, the change from resources new
        this month, gone since last month, running in both, and rows without a ResourceId (they add
        up to ``change``).
      top_sku: the SKU (instance type, meter or id) that moved most inside it.
      coverage_previous, coverage_current: for ``commitment`` drivers, the provider's commitment
        coverage in each month (see ChangeExplanation).
    """

    kind: str
    label: str
    previous: Decimal
    current: Decimal
    change: Decimal
    provider: str | None = None
    sub_account: str | None = None
    service: str | None = None
    new: Decimal = ZERO
    gone: Decimal = ZERO
    continuing: Decimal = ZERO
    no_resource: Decimal = ZERO
    top_sku: str | None = None
    coverage_previous: Decimal | None = None
    coverage_current: Decimal | None = None

    def share_of(self, total_change: Decimal) -> Decimal | None:
        return _ratio(self.change, total_change)


@dataclasses.dataclass(frozen=True)
class Breakdown:
    """One value of a single-dimension view of the change (``label`` ``(other)`` for the rest)."""

    label: str
    previous: Decimal
    current: Decimal
    change: Decimal


@dataclasses.dataclass(frozen=True)
class ChangeExplanation:
    """Why cost moved from ``previous_month`` to ``month``.

    Attributes:
      month, previous_month, currency, metric: what was compared.
      previous_total, current_total, change: totals and current − previous.
      drivers: the top drivers and an ``other`` line; Σ change = ``change`` exactly.
      views: dimension (``sub_account``, ``service``, ``sku``, ``resource``, ``pricing``) → top
        values and ``(other)``; each adds up to ``change`` exactly.
      coverage_previous, coverage_current: commitment coverage (ListCost of covered usage ÷ ListCost
        of Standard + Committed usage), None without such usage.
    """

    month: dt.date
    previous_month: dt.date
    currency: str
    metric: str
    previous_total: Decimal
    current_total: Decimal
    drivers: tuple[Driver, ...]
    views: Mapping[str, tuple[Breakdown, ...]]
    coverage_previous: Decimal | None = None
    coverage_current: Decimal | None = None

    @property
    @_exact
    def change(self) -> Decimal:
        return self.current_total - self.previous_total

    @property
    def change_pct(self) -> Decimal | None:
        return _ratio(self.change, self.previous_total)

    def sentences(self) -> tuple[str, ...]:
        return _sentences(self)

    def text(self) -> str:
        return " ".join(self.sentences())


def _within(month: dt.date) -> str:
    """SQL: the row's ChargePeriodStart falls in ``month``."""
    return (f"(ChargePeriodStart >= {sql_timestamp(month)} "
            f"AND ChargePeriodStart < {sql_timestamp(add_months(month, 1))})")


def _sku_label() -> str:
    itype = "json_extract_string(SkuPriceDetails, '$.InstanceType')"
    gpus = "TRY_CAST(json_extract_string(SkuPriceDetails, '$.GpuCount') AS DOUBLE)"
    return (f"coalesce(CASE WHEN {itype} IS NOT NULL THEN {itype} || CASE WHEN {gpus} > 0 "
            f"THEN ' GPU instances' ELSE ' instances' END END, nullif(SkuMeter, ''), nullif(SkuId, ''), "
            f"'(no SKU)')")


@_exact
def explain_change(
    con: duckdb.DuckDBPyConnection,
    month: dt.date | str,
    previous: dt.date | str | None = None,
    *,
    metric: str = "EffectiveCost",
    currency: str | None = None,
    top: int = 5,
) -> ChangeExplanation:
    """Decompose the change of total cost from ``previous`` (default: the month before) to ``month``.

    Parameters:
      con: a store connection (``CostStore.reader()``); reads ``charges`` only.
      month, previous: months (``'YYYY-MM'`` or first days), by ChargePeriodStart.
      metric: ``EffectiveCost`` (amortized, default) or ``BilledCost``.
      currency: billing currency; needed only when the months have several.
      top: how many drivers (and values per view) to name before ``other``.

    Returns a ChangeExplanation whose drivers, and each view, add up to the change exactly.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    if top < 1:
        raise ValueError("top must be at least 1")
    cur_m = as_month(month)
    prev_m = as_month(previous) if previous is not None else add_months(cur_m, -1)
    if prev_m == cur_m:
        raise ValueError("compare two different months")
    first, second = sorted((prev_m, cur_m))
    windows = f"({_within(first)} OR {_within(second)})"
    if currency is None:
        found = [c for (c,) in con.execute(
            f"SELECT DISTINCT BillingCurrency FROM charges WHERE {windows} ORDER BY 1").fetchall()]
        if len(found) > 1:
            raise ValueError(f"these months have charges in {', '.join(found)}: pass currency=...")
        currency = found[0] if found else "USD"
    m = sql_identifier(metric)
    is_cur = _within(cur_m)
    base = f"""
        r AS (
            SELECT {is_cur} AS is_cur, ProviderName AS provider,
                   coalesce(nullif(SubAccountName, ''), nullif(SubAccountId, ''), '(no sub-account)') AS sub_account,
                   coalesce(nullif(ServiceName, ''), '(no service)') AS service,
                   {_sku_label()} AS sku, nullif(ResourceId, '') AS resource,
                   coalesce({m}, 0) AS amount,
                   CASE WHEN CommitmentDiscountStatus IS NOT NULL
                            THEN coalesce({m}, 0) - coalesce(ContractedCost, {m}, 0)
                        WHEN ChargeCategory = 'Purchase' AND nullif(CommitmentDiscountId, '') IS NOT NULL
                            THEN coalesce({m}, 0)
                        ELSE 0 END AS commitment,
                   CASE WHEN ChargeCategory = 'Usage' AND PricingCategory IN ('Standard', 'Committed')
                        THEN coalesce(ListCost, 0) ELSE 0 END AS eligible_list,
                   CASE WHEN CommitmentDiscountStatus = 'Used' THEN coalesce(ListCost, 0) ELSE 0 END AS covered_list
            FROM charges WHERE BillingCurrency = {sql_literal(currency)} AND {windows}
        ),
        res AS (
            SELECT resource, bool_or(NOT is_cur) AS in_prev, bool_or(is_cur) AS in_cur
            FROM r WHERE resource IS NOT NULL GROUP BY resource
        ),
        cells AS (
            SELECT provider, sub_account, service, sku,
                   CASE WHEN r.resource IS NULL THEN 'no resource'
                        WHEN res.in_prev AND res.in_cur THEN 'continuing'
                        WHEN res.in_cur THEN 'new' ELSE 'gone' END AS status,
                   coalesce(sum(amount) FILTER (WHERE NOT is_cur), 0) AS prev,
                   coalesce(sum(amount) FILTER (WHERE is_cur), 0) AS cur,
                   coalesce(sum(commitment) FILTER (WHERE NOT is_cur), 0) AS prev_c,
                   coalesce(sum(commitment) FILTER (WHERE is_cur), 0) AS cur_c
            FROM r LEFT JOIN res USING (resource)
            GROUP BY ALL
        )"""
    totals = con.execute(f"""
        WITH {base}
        SELECT coalesce(sum(amount) FILTER (WHERE NOT is_cur), 0), coalesce(sum(amount) FILTER (WHERE is_cur), 0),
               sum(covered_list) FILTER (WHERE NOT is_cur), sum(eligible_list) FILTER (WHERE NOT is_cur),
               sum(covered_list) FILTER (WHERE is_cur), sum(eligible_list) FILTER (WHERE is_cur)
        FROM r
    """).fetchall()[0]
    prev_total, cur_total = Decimal(totals[0]), Decimal(totals[1])
    cov_prev, cov_cur = _ratio(totals[2], totals[3]), _ratio(totals[4], totals[5])

    # drivers: usage by (provider, sub-account, service) with its status split and top SKU; commitment
    # by provider; ranked by |change|
    found = con.execute(f"""
        WITH {base},
        units AS (
            SELECT 'service' AS kind, provider, sub_account, service,
                   sum(prev - prev_c) AS prev, sum(cur - cur_c) AS cur,
                   sum(cur - cur_c - prev + prev_c) FILTER (WHERE status = 'new') AS new,
                   sum(cur - cur_c - prev + prev_c) FILTER (WHERE status = 'gone') AS gone,
                   sum(cur - cur_c - prev + prev_c) FILTER (WHERE status = 'continuing') AS continuing,
                   sum(cur - cur_c - prev + prev_c) FILTER (WHERE status = 'no resource') AS no_resource
            FROM cells GROUP BY provider, sub_account, service
            UNION ALL
            SELECT 'commitment', provider, NULL, NULL, sum(prev_c), sum(cur_c), NULL, NULL, NULL, NULL
            FROM cells GROUP BY provider
        ),
        coverage AS (
            SELECT provider,
                   sum(covered_list) FILTER (WHERE NOT is_cur) AS covered_prev,
                   sum(eligible_list) FILTER (WHERE NOT is_cur) AS eligible_prev,
                   sum(covered_list) FILTER (WHERE is_cur) AS covered_cur,
                   sum(eligible_list) FILTER (WHERE is_cur) AS eligible_cur
            FROM r GROUP BY provider
        ),
        skus AS (
            SELECT provider, sub_account, service,
                   arg_max(sku, abs(d) ORDER BY sku DESC) AS top_sku
            FROM (SELECT provider, sub_account, service, sku, sum(cur - cur_c - prev + prev_c) AS d
                  FROM cells GROUP BY ALL)
            GROUP BY ALL
        )
        SELECT u.*, s.top_sku, c.covered_prev, c.eligible_prev, c.covered_cur, c.eligible_cur
        FROM units u
        LEFT JOIN skus s ON u.kind = 'service' AND s.provider IS NOT DISTINCT FROM u.provider
                        AND s.sub_account = u.sub_account AND s.service = u.service
        LEFT JOIN coverage c ON u.kind = 'commitment' AND c.provider IS NOT DISTINCT FROM u.provider
        WHERE u.cur - u.prev <> 0
        ORDER BY abs(u.cur - u.prev) DESC, u.kind, u.provider NULLS FIRST, u.sub_account, u.service
        LIMIT {int(top)}
    """).fetchall()
    drivers = []
    for kind, provider, sub, service, p, c, new, gone, cont, nores, sku, *cov in found:
        p, c = Decimal(p), Decimal(c)
        label = (f"{service} in {sub}" if kind == "service"
                 else f"{provider or 'the'} commitment discounts")
        drivers.append(Driver(kind, label, p, c, c - p, provider, sub, service,
                              Decimal(new or 0), Decimal(gone or 0), Decimal(cont or 0),
                              Decimal(nores or 0), sku if kind == "service" else None,
                              _ratio(cov[0], cov[1]), _ratio(cov[2], cov[3])))
    drivers.append(_other(drivers, prev_total, cur_total))

    # single-dimension views, each an exact partition with its own (other)
    views_sql = f"""
        WITH {base},
        dims AS (
            SELECT 'sub_account' AS view, sub_account AS label, prev, cur FROM cells
            UNION ALL SELECT 'service', service, prev, cur FROM cells
            UNION ALL SELECT 'sku', sku, prev, cur FROM cells
            UNION ALL SELECT 'resource', status, prev, cur FROM cells
            UNION ALL SELECT 'pricing', 'commitment discounts', prev_c, cur_c FROM cells
            UNION ALL SELECT 'pricing', 'usage at contracted rates', prev - prev_c, cur - cur_c FROM cells
        ),
        agg AS (SELECT view, label, sum(prev) AS prev, sum(cur) AS cur FROM dims GROUP BY ALL)
        SELECT view, label, prev, cur FROM agg WHERE cur - prev <> 0
        QUALIFY row_number() OVER (PARTITION BY view ORDER BY abs(cur - prev) DESC, label) <= {int(top)}
        ORDER BY view, abs(cur - prev) DESC, label
    """
    views: dict[str, list[Breakdown]] = {v: [] for v in ("sub_account", "service", "sku", "resource", "pricing")}
    for view, label, p, c in con.execute(views_sql).fetchall():
        views[view].append(Breakdown(label, Decimal(p), Decimal(c), Decimal(c) - Decimal(p)))
    for items in views.values():
        rest = _other(items, prev_total, cur_total)
        items.append(Breakdown("(other)", rest.previous, rest.current, rest.change))
    return ChangeExplanation(cur_m, prev_m, currency, metric, prev_total, cur_total, tuple(drivers),
                             {k: tuple(v) for k, v in views.items()}, cov_prev, cov_cur)


def _other(named, prev_total: Decimal, cur_total: Decimal) -> Driver:
    p = prev_total - sum((d.previous for d in named), ZERO)
    c = cur_total - sum((d.current for d in named), ZERO)
    return Driver("other", "everything else", p, c, c - p)


# ---- words ----------------------------------------------------------------------------------------


def _money(amount: Decimal, currency: str, signed: bool = False) -> str:
    """``$42,310`` (whole units from 100 up, cents below), ``1,234 EUR`` for other currencies."""
    x = abs(amount)
    x = round_money(x, currency) if x < 100 else x.quantize(Decimal(1), ROUND_HALF_EVEN)
    digits = f"{x:,f}"
    text = f"${digits}" if currency == "USD" else f"{digits} {currency}"
    sign = "−" if amount < 0 else "+" if signed and amount > 0 else ""
    return sign + text


def _pct(x: Decimal, signed: bool = False) -> str:
    text = f"{abs(x):.0%}"
    return ("−" if x < 0 else "+" if signed and x > 0 else "") + text


def _months(e: ChangeExplanation) -> str:
    a, b = e.previous_month, e.month
    if a.year == b.year:
        return f"from {a:%B} to {b:%B} {b.year}"
    return f"from {a:%B %Y} to {b:%B %Y}"


def _detail(d: Driver, e: ChangeExplanation) -> str:
    """What inside a driver moved, in a few words."""
    if d.kind == "commitment":
        if d.coverage_previous is not None and d.coverage_current is not None:
            return (f"coverage {_pct(d.coverage_previous)} in {e.previous_month:%B} → "
                    f"{_pct(d.coverage_current)} in {e.month:%B}")
        return ""
    parts = []
    if d.top_sku and d.top_sku != "(no SKU)":
        parts.append(d.top_sku)
    status = {"new": d.new, "gone": d.gone, "continuing": d.continuing}
    name, part = max(status.items(), key=lambda kv: abs(kv[1]))
    if d.change and part * d.change > 0 and abs(part) * 2 >= abs(d.change):
        parts.append({"new": "new this month", "gone": f"no longer running after {e.previous_month:%B}",
                      "continuing": ("existing resources used more" if part > 0
                                     else "existing resources used less")}[name])
    return ", ".join(parts)


def _named(d: Driver, e: ChangeExplanation, share: bool = False) -> str:
    detail = _detail(d, e)
    label = d.label
    if d.kind == "commitment":
        label = ("less commitment discount on " if d.change > 0 else "more commitment discount on ") + \
                (d.provider or "commitments")
    amount = _money(d.change, e.currency, True)
    part = _ratio(d.change, e.change) if share else None
    if part is not None and 0 < part <= 1:  # a share of the change reads well only within 0–100%
        amount += f", {_pct(part)}"
    return f"{label} ({amount}{'; ' + detail if detail else ''})"


def _sentences(e: ChangeExplanation) -> tuple[str, ...]:
    cur = e.currency
    change = e.change
    named = [d for d in e.drivers if d.kind != "other"]
    other = next(d for d in e.drivers if d.kind == "other")
    if change == 0:
        out = [f"Cost was unchanged at {_money(e.current_total, cur)} {_months(e)}."]
        if named:
            out.append("Movements that cancel out: " + "; ".join(_named(d, e) for d in named[:3]) + ".")
        return tuple(out)
    verb, noun = ("rose", "rise") if change > 0 else ("fell", "fall")
    pct = f" ({_pct(e.change_pct, True)})" if e.change_pct is not None else ""
    out = [f"Cost {verb} {_money(abs(change), cur)}{pct} {_months(e)}, to {_money(e.current_total, cur)}."]
    if not named:
        return tuple(out)
    first, rest = named[0], named[1:]
    share = _ratio(first.change, change)
    if 0 < share <= 1:
        out.append(f"{_pct(share)} of the {noun} is {_named(first, e)}.")
    elif share > 1:
        out.append(f"Movements inside it are larger than the net {noun}; the largest is {_named(first, e)}.")
    else:
        out.append(f"The largest movement runs against it: {_named(first, e)}.")
    same = [d for d in rest if d.change * change > 0]
    against = [d for d in rest if d.change * change < 0]
    if same:
        shares = 0 < share <= 1  # when the net change is smaller than its parts, shares mislead
        out.append("Next: " + "; ".join(_named(d, e, share=shares) for d in same) + ".")
    if against:
        out.append("Partly offset by " + "; ".join(_named(d, e) for d in against) + ".")
    if other.change:
        out.append(f"Everything else nets to {_money(other.change, cur, True)}.")
    return tuple(out)
