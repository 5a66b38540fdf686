"""Tag governance: how much spend carries no owner tag, before any policy spreads it.

Everything is read from the store's current allocation (``allocation_groups`` and
``allocated_charges``, SQL over ``CostStore.reader()``) and, for resources, from ``charges``:

- **untagged**: EffectiveCost of groups without the owner dimension's tag (``tag_<owner>`` NULL),
  whatever later gave them an owner (an account default, the hierarchy, a pool);
- **unallocatable**: the part of it nothing but a policy reached: no tag, no account default, no
  hierarchy entry (``owner`` NULL), outside the shared-cost pools of named services; it is what
  a ``filter: {owner: null}`` pool spreads, or what stays UNALLOCATED;
- **tag-key compliance**: for each taxonomy dimension, the spend whose tag holds one of the
  taxonomy's values, holds another value ("non-standard"), or is missing;
- **coverage by method**: each month's allocated cost split into allocated by tag, by hierarchy or
  account default, shared services split by a pool's rule, untagged spend spread by policy, and
  unallocated. Only the first two are ownership the tags and the hierarchy prove.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from finops_xl.allocation.engine import tag_column
from finops_xl.report import ReportError
from finops_xl.store.sources import sql_identifier, sql_literal

ZERO = Decimal(0)
#: The default target share of untagged spend (FinOps Foundation's "run" maturity allocates ≥ 90%;
#: a tagging target is usually stricter).
TARGET = Decimal("0.05")


def _dec(x) -> Decimal:
    return ZERO if x is None else Decimal(x)


def _records(cls, rows) -> tuple:
    """``cls(key, *amounts)`` for each row of a key and its amounts, the amounts as Decimal (NULL: 0)."""
    return tuple(cls(key, *(_dec(x) for x in amounts)) for key, *amounts in rows)


def _ratio(a: Decimal, b: Decimal) -> Decimal | None:
    return a / b if b else None


def require_allocation(con) -> None:
    found = con.execute("SELECT count(*) FROM information_schema.tables "
                        "WHERE table_name IN ('allocated_charges', 'allocation_groups')").fetchall()[0][0]
    if found < 2:
        raise ReportError("the store has no allocation yet: run finops-xl allocate --rules FILE first")


def run_rules(con):
    """The rules of the latest allocation run (None when its rules file is gone or unreadable)."""
    from finops_xl.allocation.rules import RuleError, load_rules

    rows = con.execute("SELECT rules_source FROM allocation_runs ORDER BY run_id DESC LIMIT 1").fetchall()
    if not rows or not rows[0][0] or not Path(rows[0][0]).is_file():
        return None
    try:
        return load_rules(rows[0][0])
    except (RuleError, OSError):
        return None


def owner_dimension(con) -> str:
    rows = con.execute("SELECT owner FROM allocation_runs ORDER BY run_id DESC LIMIT 1").fetchall()
    return rows[0][0] if rows and rows[0][0] else "team"


def policy_pools(con, rules) -> tuple[str, ...]:
    """Pools that spread ownerless spend (filter ``owner: null``)."""
    if rules is not None:
        return tuple(p.id for p in rules.pools if dict(p.filter) == {"owner": (None,)})
    rows = con.execute("SELECT pools FROM allocation_runs ORDER BY run_id DESC LIMIT 1").fetchall()
    # without the rules: a pool whose every group has no owner is taken for a policy pool
    pools = json.loads(rows[0][0]) if rows and rows[0][0] else []
    found = con.execute("SELECT pool_id FROM allocation_groups WHERE pool_id IS NOT NULL "
                        "GROUP BY pool_id HAVING bool_and(owner IS NULL)").fetchall()
    return tuple(p for (p,) in found if p in pools)


@dataclasses.dataclass(frozen=True)
class CoverageSplit:
    """One month's allocated cost (EffectiveCost) by how it reached its owner."""

    month: dt.date
    by_tag: Decimal
    by_hierarchy: Decimal
    shared_by_rule: Decimal
    spread_by_policy: Decimal
    unallocated: Decimal

    @property
    def total(self) -> Decimal:
        return (self.by_tag + self.by_hierarchy + self.shared_by_rule + self.spread_by_policy
                + self.unallocated)

    @property
    def tag_or_hierarchy(self) -> Decimal:
        return self.by_tag + self.by_hierarchy

    def share(self, part: str) -> Decimal | None:
        return _ratio(getattr(self, part), self.total)


def coverage_split(con, pools: tuple[str, ...]) -> tuple[CoverageSplit, ...]:
    pool_list = ", ".join(sql_literal(p) for p in pools) or "NULL"
    rows = con.execute(f"""
        SELECT month,
               sum(EffectiveCost) FILTER (WHERE kind = 'direct' AND method = 'tag'),
               sum(EffectiveCost) FILTER (WHERE kind = 'direct' AND method <> 'tag'),
               sum(EffectiveCost) FILTER (WHERE kind = 'shared' AND pool_id NOT IN ({pool_list})),
               sum(EffectiveCost) FILTER (WHERE kind = 'shared' AND pool_id IN ({pool_list})),
               sum(EffectiveCost) FILTER (WHERE kind = 'unallocated')
        FROM allocated_charges GROUP BY month ORDER BY month
    """).fetchall()
    return _records(CoverageSplit, rows)


@dataclasses.dataclass(frozen=True)
class UntaggedMonth:
    month: dt.date
    total: Decimal
    untagged: Decimal
    unallocatable: Decimal

    @property
    def untagged_share(self) -> Decimal | None:
        return _ratio(self.untagged, self.total)

    @property
    def unallocatable_share(self) -> Decimal | None:
        return _ratio(self.unallocatable, self.total)


def _unallocatable_sql(pools: tuple[str, ...]) -> str:
    pool_list = ", ".join(sql_literal(p) for p in pools) or "NULL"
    return f"owner IS NULL AND (pool_id IS NULL OR pool_id IN ({pool_list}))"


def untagged_by_month(con, owner_dim: str, pools: tuple[str, ...]) -> tuple[UntaggedMonth, ...]:
    col = sql_identifier(tag_column(owner_dim))
    rows = con.execute(f"""
        SELECT month, sum(EffectiveCost), sum(EffectiveCost) FILTER (WHERE {col} IS NULL),
               sum(EffectiveCost) FILTER (WHERE {_unallocatable_sql(pools)})
        FROM allocation_groups GROUP BY month ORDER BY month
    """).fetchall()
    return _records(UntaggedMonth, rows)


@dataclasses.dataclass(frozen=True)
class UntaggedBy:
    """Untagged spend of one account (or owner) in the month."""

    label: str
    untagged: Decimal
    unallocatable: Decimal
    total: Decimal

    @property
    def share(self) -> Decimal | None:
        return _ratio(self.untagged, self.total)


def untagged_by(con, month: dt.date, owner_dim: str, pools: tuple[str, ...], by: str) -> tuple[UntaggedBy, ...]:
    """``by``: ``account`` (provider and sub-account) or ``owner`` (the owner the hierarchy or an
    account default gave the untagged spend, else "no owner")."""
    col = sql_identifier(tag_column(owner_dim))
    label = ("ProviderName || ' / ' || coalesce(SubAccountName, SubAccountId, '(no sub-account)')"
             if by == "account" else "coalesce(owner, '(no owner)')")
    rows = con.execute(f"""
        SELECT {label} AS label,
               sum(EffectiveCost) FILTER (WHERE {col} IS NULL) AS untagged,
               sum(EffectiveCost) FILTER (WHERE {_unallocatable_sql(pools)}),
               sum(EffectiveCost)
        FROM allocation_groups WHERE month = ? GROUP BY label
        HAVING sum(EffectiveCost) FILTER (WHERE {col} IS NULL) <> 0
        ORDER BY untagged DESC, label
    """, [month]).fetchall()
    return _records(UntaggedBy, rows)


@dataclasses.dataclass(frozen=True)
class Compliance:
    """One taxonomy dimension's tag in the month: spend by the state of its tag."""

    dimension: str
    compliant: Decimal
    nonstandard: Decimal
    missing: Decimal

    @property
    def total(self) -> Decimal:
        return self.compliant + self.nonstandard + self.missing

    @property
    def share(self) -> Decimal | None:
        return _ratio(self.compliant, self.total)


def compliance(con, month: dt.date, rules) -> tuple[Compliance, ...]:
    if rules is None:
        return ()
    present = {c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'allocation_groups'").fetchall()}
    out = []
    for dim in rules.taxonomy.dimensions:
        col = tag_column(dim.name)
        if col not in present:
            continue
        col = sql_identifier(col)
        known = [v for v in dim.values if v not in dim.retired]
        ok = f"{col} IN ({', '.join(sql_literal(v) for v in known)})" if known else f"{col} IS NOT NULL"
        (row,) = con.execute(f"""
            SELECT sum(EffectiveCost) FILTER (WHERE {ok}),
                   sum(EffectiveCost) FILTER (WHERE {col} IS NOT NULL AND NOT ({ok})),
                   sum(EffectiveCost) FILTER (WHERE {col} IS NULL)
            FROM allocation_groups WHERE month = ?
        """, [month]).fetchall()
        out.append(Compliance(dim.name, *(_dec(x) for x in row)))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class UntaggedResource:
    resource_id: str
    resource_name: str | None
    account: str
    service: str | None
    cost: Decimal


def top_untagged_resources(con, month: dt.date, rules, owner_dim: str, n: int = 10
                           ) -> tuple[UntaggedResource, ...]:
    """The ``n`` resources with the most EffectiveCost in ``month`` and no owner tag."""
    if rules is None:
        return ()
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    within = f"ChargePeriodStart >= TIMESTAMP '{month}' AND ChargePeriodStart < TIMESTAMP '{nxt}'"
    keys = [k for (k,) in con.execute(
        f"SELECT DISTINCT unnest(json_keys(CAST(Tags AS JSON))) FROM charges "
        f"WHERE Tags IS NOT NULL AND {within}").fetchall()]
    owner = rules.taxonomy.sql(owner_dim, keys, tags="CAST(Tags AS JSON)")
    rows = con.execute(f"""
        SELECT ResourceId, any_value(ResourceName),
               any_value(ProviderName || ' / ' || coalesce(SubAccountName, SubAccountId, '')),
               any_value(ServiceName), sum(EffectiveCost) AS cost
        FROM charges
        WHERE {within} AND ResourceId IS NOT NULL AND ResourceId <> '' AND {owner} IS NULL
        GROUP BY ResourceId HAVING sum(EffectiveCost) > 0
        ORDER BY cost DESC, ResourceId LIMIT {int(n)}
    """).fetchall()
    return tuple(UntaggedResource(r, nm, a, s, _dec(c)) for r, nm, a, s, c in rows)


@dataclasses.dataclass(frozen=True)
class TagGovernance:
    """Everything the tag governance page, ``finops-xl tags`` and the workbook tab show."""

    month: dt.date
    owner_dimension: str
    target: Decimal
    policy_pools: tuple[str, ...]
    trend: tuple[UntaggedMonth, ...]
    coverage: tuple[CoverageSplit, ...]
    by_account: tuple[UntaggedBy, ...]
    by_owner: tuple[UntaggedBy, ...]
    compliance: tuple[Compliance, ...]
    resources: tuple[UntaggedResource, ...]

    @property
    def current(self) -> UntaggedMonth:
        return next(t for t in self.trend if t.month == self.month)

    @property
    def months_to_target(self) -> int | None:
        """Months until the untagged share reaches the target at the last three months' pace
        (0 when it is there already, None when it is not getting closer)."""
        shares = [t.untagged_share for t in self.trend if t.month <= self.month and t.untagged_share is not None]
        if not shares:
            return None
        if shares[-1] <= self.target:
            return 0
        recent = shares[-4:]
        if len(recent) < 2:
            return None
        pace = (recent[0] - recent[-1]) / (len(recent) - 1)
        if pace <= 0:
            return None
        return int(((shares[-1] - self.target) / pace).to_integral_value(rounding="ROUND_CEILING"))


def tag_governance(con, month: dt.date, *, target: Decimal = TARGET, top: int = 10) -> TagGovernance:
    """Tag governance of ``month`` from the store's current allocation."""
    require_allocation(con)
    rules = run_rules(con)
    dim = owner_dimension(con)
    pools = policy_pools(con, rules)
    trend = untagged_by_month(con, dim, pools)
    if month not in {t.month for t in trend}:
        months = ", ".join(f"{t.month:%Y-%m}" for t in trend) or "none"
        raise ReportError(f"no allocated cost in {month:%Y-%m} (allocated months: {months}); "
                          "pick one of them with --month, or run finops-xl allocate after loading it")
    return TagGovernance(month, dim, target, pools, trend, coverage_split(con, pools),
                         untagged_by(con, month, dim, pools, "account"),
                         untagged_by(con, month, dim, pools, "owner"),
                         compliance(con, month, rules),
                         top_untagged_resources(con, month, rules, dim, top))
