"""Showback and chargeback statements, and the allocation-coverage KPI, from ``allocated_charges``.

A statement line is one owner in one month and currency:

    direct usage + commitment amortization + credits + shared (one column per pool) = total

- *direct usage*: direct lines other than the two below;
- *commitment amortization*: direct EffectiveCost of usage covered by a commitment
  (CommitmentDiscountStatus = Used), i.e. the prepaid fee spread onto the owner's usage;
- *credits*: direct lines with ChargeCategory = Credit (negative);
- *shared*: what each pool gave the owner.

Statements are in the currency's minor unit (cents). Rounding is the largest-remainder method twice:
across owners, so the owners' rounded totals add up to the month's total rounded once; then inside
each line, so its columns add up to its rounded total. What rounding leaves (less than a cent per
month) is shown on a ``ROUNDING`` line, so the statement adds up to the source exactly.

Allocation coverage (FinOps Framework, allocated ÷ total): the share of the month's EffectiveCost
that reached an owner directly (tag or mapping), by a split, or not at all. Targets: ≥ 80% allocated
(walk), ≥ 90% (run). The shares are of net cost, so a month whose unallocated part is mostly credits
can show a direct share above 100%.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal

import duckdb

from finops_xl.allocation.rules import ROUNDING
from finops_xl.allocation.split import largest_remainder
from finops_xl.money import minor_unit

#: FinOps Framework allocation-coverage targets.
WALK, RUN = Decimal("0.80"), Decimal("0.90")


@dataclasses.dataclass(frozen=True)
class StatementLine:
    """One owner's month, in the currency's minor unit.

    Attributes:
      owner, month, currency: whose, when, in what.
      direct, commitment, credits: the direct parts (see module docstring).
      shared: pool id → amount.  total: the sum of all of them.
      change: total ÷ previous month's total − 1 (None without a previous month or from 0).
    """

    owner: str
    month: dt.date
    currency: str
    direct: Decimal
    commitment: Decimal
    credits: Decimal
    shared: tuple[tuple[str, Decimal], ...]
    total: Decimal
    change: Decimal | None


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Allocation coverage of one month (shares of the month's EffectiveCost; they add up to 1)."""

    month: dt.date
    direct: Decimal
    shared: Decimal
    unallocated: Decimal

    @property
    def allocated(self) -> Decimal:
        return self.direct + self.shared

    @property
    def maturity(self) -> str:
        """``run`` (≥ 90% allocated), ``walk`` (≥ 80%) or ``crawl``."""
        return "run" if self.allocated >= RUN else "walk" if self.allocated >= WALK else "crawl"


def statements(con: duckdb.DuckDBPyConnection, metric: str = "EffectiveCost") -> tuple[StatementLine, ...]:
    """Every owner's statement lines (plus ROUNDING lines), ordered by month, currency, owner."""
    if metric not in ("EffectiveCost", "BilledCost"):
        raise ValueError(f"metric must be EffectiveCost or BilledCost, not {metric!r}")
    parts: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = con.execute(f"""
        SELECT a.month, a.currency, a.owner,
               CASE WHEN a.kind = 'shared' THEN 'shared:' || a.pool_id
                    WHEN g.ChargeCategory = 'Credit' THEN 'credits'
                    WHEN g.CommitmentDiscountStatus = 'Used' THEN 'commitment'
                    ELSE 'direct' END AS part,
               sum(a.{metric})
        FROM allocated_charges a LEFT JOIN allocation_groups g USING (group_id)
        GROUP BY ALL ORDER BY ALL
    """).fetchall()
    for month, currency, owner, part, amount in rows:
        parts[(month, currency, owner)][part] += Decimal(amount)
    by_month: dict[tuple, list] = defaultdict(list)
    for (month, currency, owner), p in parts.items():
        by_month[(month, currency)].append((owner, p))
    out: list[StatementLine] = []
    previous: dict[tuple[str, str], Decimal] = {}
    for (month, currency) in sorted(by_month):
        owners = sorted(by_month[(month, currency)], key=lambda x: x[0])
        exact = [sum(p.values(), Decimal(0)) for _, p in owners]
        quantum = Decimal(1).scaleb(-minor_unit(currency))
        month_total = sum(exact, Decimal(0))
        rounded_totals = round_parts(exact, quantum)
        for (owner, p), total in zip(owners, rounded_totals):
            keys = sorted(p)
            cells = dict(zip(keys, round_parts([p[k] for k in keys], quantum, total=total)))
            prev = previous.get((owner, currency))
            change = (total / prev - 1) if prev else None
            previous[(owner, currency)] = total
            out.append(StatementLine(
                owner, month, currency, cells.get("direct", Decimal(0)),
                cells.get("commitment", Decimal(0)), cells.get("credits", Decimal(0)),
                tuple((k.removeprefix("shared:"), v) for k, v in cells.items() if k.startswith("shared:")),
                total, change))
        residual = month_total - sum(rounded_totals, Decimal(0))
        out.append(StatementLine(ROUNDING, month, currency, Decimal(0), Decimal(0), Decimal(0), (),
                                 residual, None))
    return tuple(out)


def round_parts(amounts: list[Decimal], quantum: Decimal, total: Decimal | None = None) -> list[Decimal]:
    """``amounts`` rounded to ``quantum`` so they add up to ``total`` (default: their sum rounded
    half-even to ``quantum``), by the largest-remainder method (see ``split.largest_remainder``).

    >>> round_parts([Decimal("0.333"), Decimal("0.333"), Decimal("0.334")], Decimal("0.01"))
    [Decimal('0.33'), Decimal('0.33'), Decimal('0.34')]
    """
    if not amounts:
        return []
    if total is None:
        total = sum(amounts, Decimal(0)).quantize(quantum)
    if all(a == 0 for a in amounts):
        return largest_remainder(total, [Decimal(1)] * len(amounts), quantum) if total else \
            [Decimal(0).quantize(quantum)] * len(amounts)
    # parts proportional to each amount's own size: the rounded part stays next to the amount
    floors = [a.quantize(quantum, rounding="ROUND_FLOOR") for a in amounts]
    left = int((total - sum(floors, Decimal(0))) / quantum)
    order = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] - floors[i]), i))
    if left >= 0:
        for i in order[:left]:
            floors[i] += quantum
    else:
        for i in list(reversed(order))[: -left]:
            floors[i] -= quantum
    return floors


def coverage(con: duckdb.DuckDBPyConnection) -> tuple[Coverage, ...]:
    """Allocation coverage by month (see the module docstring)."""
    acc: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for month, kind, amount in con.execute(
        "SELECT month, kind, sum(EffectiveCost) FROM allocated_charges GROUP BY ALL"
    ).fetchall():
        acc[month][kind] += Decimal(amount)
    out = []
    for month in sorted(acc):
        k = acc[month]
        total = sum(k.values(), Decimal(0))
        shares = [k[part] / total if total else Decimal(0) for part in ("direct", "shared", "unallocated")]
        out.append(Coverage(month, *shares))
    return tuple(out)



def monthly_coverage(store, day: dt.date) -> Coverage:
    """Coverage of the month containing ``day`` from ``store``'s current allocation."""
    from finops_xl.query.errors import QueryError
    from finops_xl.store.errors import StoreError

    with store.reader() as con:
        present = con.execute("SELECT count(*) FROM information_schema.tables "
                              "WHERE table_name = 'allocated_charges'").fetchall()[0][0]
        if not present:
            raise StoreError(f"the store {store.path} has no allocation yet: run "
                             "finops-xl allocate --rules FILE")
        found = {c.month: c for c in coverage(con)}
    month = day.replace(day=1)
    if month not in found:
        months = ", ".join(m.strftime("%Y-%m") for m in sorted(found)) or "none"
        raise QueryError(f"no allocated cost in {month:%Y-%m} (allocated months: {months})")
    return found[month]
