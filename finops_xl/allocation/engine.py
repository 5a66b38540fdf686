"""Allocation: every cost in the store assigned to an owner, by rules, tying to the source exactly.

Steps (run in the allocation writer, so a run is all-or-nothing and readers never see half of one):

1. **Groups.** Charges are grouped by everything a rule can see: month (of ChargePeriodStart), billing
   currency, provider, billing account, sub-account, service, service category, region, charge and
   pricing category, commitment status, and each taxonomy dimension read from the tags. Rows in
   one group are indistinguishable to every rule, so allocating the group allocates each of its
   rows the same way. The groups come from the store's daily cube (an exact roll-up of ``charges``
   kept by every load), one SQL statement; each keeps its key, so it leads back to its rows
   (``allocation_groups``).
2. **Direct owner** per group, by precedence: owner tag → account default → hierarchy → none.
3. **Pools.** Each group is claimed by the first pool whose filter matches (``rules.py``).
4. **Lines.** Unpooled groups become ``direct`` lines (or ``unallocated`` without an owner). Each
   pool's total per month and currency is split among its receivers, metric by metric, with the
   largest-remainder method at 1e-12 so the parts add up to the pool exactly; a pool with no
   receivers becomes an ``unallocated`` line.
5. **Check.** For every month and currency, Σ lines = Σ source for BilledCost and EffectiveCost,
   exactly (against the daily cube, which every load keeps equal to ``charges``; the tests check
   both); otherwise the run fails and nothing is written.

Every step is set-based SQL run through an engine (``finops_xl.engine``): DuckDB for the store, or
Spark (``finops_xl.engine.spark_store``), the same statements on both. Only step 4's pool splits
run in Python, over small aggregates (pools × months × currencies × owners).

Results: ``allocation_groups``, ``allocated_charges`` (the lines: owner, owner attributes, kind,
method, rule, pool, group, share, amounts) and ``allocation_runs``, in the store's allocation file
(``CostStore.allocation_path``; every store reader sees them as views). A run replaces them all,
with the same copy-and-swap as a load, under the store's lock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections import defaultdict
from decimal import Decimal

import duckdb
import pyarrow as pa

from finops_xl.engine import Engine
from finops_xl.engine.duckdb_engine import DuckDBEngine

from finops_xl.allocation.rules import FILTER_COLUMNS, UNALLOCATED, Pool, Rules
from finops_xl.allocation.showback import Coverage, coverage
from finops_xl.allocation.split import largest_remainder
from finops_xl.store.sources import sql_identifier, sql_literal
from finops_xl.store.store import CostStore

#: Amount precision of allocated lines: the store's 12 decimals.
QUANTUM = Decimal("1e-12")

#: Owner attributes carried on every line (from the tag taxonomy or the account hierarchy).
ATTRIBUTES = ("business_unit", "product", "cost_center", "environment")

_GROUP_KEYS = ("ProviderName", "BillingAccountId", "SubAccountId", "SubAccountName", "ServiceName",
               "ServiceCategory", "RegionId", "ChargeCategory", "PricingCategory",
               "CommitmentDiscountStatus")


@dataclasses.dataclass(frozen=True)
class AllocationReport:
    """What a run did.

    Attributes:
      run_id: its id in ``allocation_runs``.  groups: charge groups allocated.
      lines: allocated lines written.  coverage: allocation coverage by month.
      seconds: wall time.
    """

    run_id: int
    groups: int
    lines: int
    coverage: tuple[Coverage, ...]
    seconds: float


def tag_column(dimension: str) -> str:
    """The allocation-group column holding a taxonomy dimension's value."""
    return f"tag_{dimension}"


def allocate(store: CostStore | str | os.PathLike, rules: Rules) -> AllocationReport:
    """Allocate every charge in ``store`` by ``rules``; replaces the previous allocation."""
    import time

    started = time.monotonic()
    store = store if isinstance(store, CostStore) else CostStore(store)
    with store.allocation_writer() as con:
        con.execute("BEGIN TRANSACTION")
        run_steps(DuckDBEngine(con), rules)
        run_id = _record_run(con, rules)
        con.execute("COMMIT")
        groups = con.execute("SELECT count(*) FROM allocation_groups").fetchall()[0][0]
        n_lines = con.execute("SELECT count(*) FROM allocated_charges").fetchall()[0][0]
        cov = coverage(con)
    return AllocationReport(run_id, groups, n_lines, cov, time.monotonic() - started)


def run_steps(engine: Engine, rules: Rules) -> None:
    """Steps 1–5 on ``engine``, reading its ``cost_daily`` table; leaves ``allocation_groups`` and
    ``allocated_charges`` there. Raises AssertionError if the lines do not tie to the source."""
    _build_groups(engine, rules)
    _resolve_owners(engine, rules)
    _assign_pools(engine, rules)
    lines = _lines(engine, rules)
    _write_lines(engine, lines)
    _check_conservation(engine)


# ---- step 1: groups -----------------------------------------------------------------------------


def _build_groups(engine: Engine, rules: Rules) -> None:
    keys = [k for (k,) in engine.fetch(
        "SELECT DISTINCT unnest(json_keys(Tags)) FROM cost_daily WHERE Tags IS NOT NULL")]
    tag_exprs = ", ".join(
        f"{rules.taxonomy.sql(d, keys, tags='CAST(Tags AS JSON)')} AS {sql_identifier(tag_column(d))}"
        for d in rules.taxonomy.names
    )
    key_cols = ", ".join(_GROUP_KEYS)
    tag_cols = "".join(", " + sql_identifier(tag_column(d)) for d in rules.taxonomy.names)
    order = ", ".join(f"{c} NULLS FIRST" for c in ("month", "currency", *_GROUP_KEYS,
                                                   *(sql_identifier(tag_column(d)) for d in rules.taxonomy.names)))
    engine.drop("allocation_groups")
    # tags are resolved once per distinct tag set (a few thousand), not once per row
    tag_dims = ", ".join(f"t.{sql_identifier(tag_column(d))}" for d in rules.taxonomy.names)
    engine.create_table("allocation_groups", f"""
        WITH tagsets AS (
            SELECT Tags{', ' + tag_exprs if tag_exprs else ''}
            FROM (SELECT DISTINCT CAST(Tags AS VARCHAR) AS Tags FROM cost_daily)
        ),
        keyed AS (
            SELECT CAST(date_trunc('month', c.ChargeDate) AS DATE) AS month,
                   c.BillingCurrency AS currency, {', '.join('c.' + k for k in _GROUP_KEYS)}
                   {', ' + tag_dims if tag_dims else ''},
                   c.rows, c.BilledCost, c.EffectiveCost
            FROM cost_daily c LEFT JOIN tagsets t
              ON CAST(c.Tags AS VARCHAR) IS NOT DISTINCT FROM t.Tags
        )
        SELECT row_number() OVER (ORDER BY {order}) AS group_id, *
        FROM (SELECT month, currency, {key_cols}{tag_cols},
                     sum(rows) AS rows, sum(BilledCost) AS BilledCost,
                     sum(EffectiveCost) AS EffectiveCost
              FROM keyed GROUP BY ALL)
    """)


# ---- step 2: owners -----------------------------------------------------------------------------


def _mapping_table(engine: Engine, name: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    table = pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(columns)})
    engine.register(name, table)


def _resolve_owners(engine: Engine, rules: Rules) -> None:
    _mapping_table(engine, "alloc_defaults", ("sub_account", "owner"),
                   sorted(rules.account_defaults.items()))
    h = rules.hierarchy.rows if rules.hierarchy else {}
    h_cols = ("sub_account", rules.owner, *ATTRIBUTES)
    h_cols = tuple(dict.fromkeys(h_cols))  # the owner may itself be an attribute
    _mapping_table(engine, "alloc_hierarchy", h_cols,
                   [(k, *(v.get(c) for c in h_cols[1:])) for k, v in sorted(h.items())])
    tag_owner = sql_identifier(tag_column(rules.owner))
    attrs = []
    for a in ATTRIBUTES:
        from_tag = f"g.{sql_identifier(tag_column(a))}, " if a in rules.taxonomy.names else ""
        attrs.append(f"coalesce({from_tag}h.{sql_identifier(a)}) AS {sql_identifier(a)}")
    engine.create_table("allocation_groups", f"""
        SELECT g.*,
               coalesce(g.{tag_owner}, d.owner, h.{sql_identifier(rules.owner)}) AS owner,
               CASE WHEN g.{tag_owner} IS NOT NULL THEN 'tag'
                    WHEN d.owner IS NOT NULL THEN 'account_default'
                    WHEN h.{sql_identifier(rules.owner)} IS NOT NULL THEN 'hierarchy' END AS owner_method,
               {', '.join(attrs)}
        FROM allocation_groups g
        LEFT JOIN alloc_defaults d ON d.sub_account = g.SubAccountId
        LEFT JOIN alloc_hierarchy h ON h.sub_account = g.SubAccountId
    """)


# ---- step 3: pools ------------------------------------------------------------------------------


def _filter_sql(pool: Pool, rules: Rules) -> str:
    clauses = []
    for dim, values in pool.filter.items():
        if dim == "owner":
            col = "owner"
        elif dim in FILTER_COLUMNS:
            col = FILTER_COLUMNS[dim]
        else:
            col = tag_column(dim)
        col = sql_identifier(col)
        named = [v for v in values if v is not None]
        parts = []
        if named:
            parts.append(f"{col} IN ({', '.join(sql_literal(v) for v in named)})")
        if len(named) < len(values):
            parts.append(f"{col} IS NULL")
        clauses.append("(" + " OR ".join(parts) + ")")
    return " AND ".join(clauses) or "false"


def _assign_pools(engine: Engine, rules: Rules) -> None:
    if rules.pools:
        cases = " ".join(f"WHEN {_filter_sql(p, rules)} THEN {sql_literal(p.id)}" for p in rules.pools)
        expr = f"CASE {cases} END"
    else:
        expr = "CAST(NULL AS VARCHAR)"
    engine.create_table("allocation_groups", f"SELECT *, {expr} AS pool_id FROM allocation_groups")


# ---- step 4: lines ------------------------------------------------------------------------------


@dataclasses.dataclass
class _Line:
    month: dt.date
    currency: str
    owner: str
    kind: str
    method: str
    rule_id: str
    pool_id: str | None
    share: Decimal
    billed: Decimal
    effective: Decimal


def _lines(engine: Engine, rules: Rules) -> list[_Line]:
    """Split every pool (small aggregates: pools × months × currencies × owners)."""
    direct = defaultdict(lambda: defaultdict(Decimal))  # (month, currency) -> owner -> EffectiveCost
    for month, currency, owner, eff in sorted(engine.fetch(
        "SELECT month, currency, owner, sum(EffectiveCost) FROM allocation_groups "
        "WHERE pool_id IS NULL AND owner IS NOT NULL GROUP BY ALL"
    )):
        direct[(month, currency)][owner] += Decimal(eff)
    totals = defaultdict(dict)  # pool -> (month, currency) -> (billed, effective)
    for pool_id, month, currency, billed, eff in sorted(engine.fetch(
        "SELECT pool_id, month, currency, sum(BilledCost), sum(EffectiveCost) FROM allocation_groups "
        "WHERE pool_id IS NOT NULL GROUP BY ALL"
    )):
        totals[pool_id][(month, currency)] = (Decimal(billed), Decimal(eff))
    shared = defaultdict(lambda: defaultdict(Decimal))  # what earlier pools gave each owner
    lines: list[_Line] = []
    for pool in rules.pools:
        if pool.split == "kubernetes":
            for line in _kubernetes_lines(engine, pool, rules):
                lines.append(line)
                if line.kind == "shared":
                    shared[(line.month, line.currency)][line.owner] += line.effective
            continue
        for (month, currency), (billed, eff) in sorted(totals.get(pool.id, {}).items()):
            weights = _weights(pool, direct[(month, currency)], shared[(month, currency)], month)
            if not weights:
                lines.append(_Line(month, currency, UNALLOCATED, "unallocated", "no receivers",
                                   pool.id, pool.id, Decimal(1), billed, eff))
                continue
            owners = sorted(weights)
            w = [weights[o] for o in owners]
            total_w = sum(w, Decimal(0))
            billed_parts = largest_remainder(billed, w, QUANTUM)
            eff_parts = largest_remainder(eff, w, QUANTUM)
            for o, wi, b, e in zip(owners, w, billed_parts, eff_parts):
                lines.append(_Line(month, currency, o, "shared", pool.split, pool.id, pool.id,
                                   wi / total_w, b, e))
                shared[(month, currency)][o] += e
    return lines


def _kubernetes_lines(engine: Engine, pool: Pool, rules: Rules) -> list[_Line]:
    """A kubernetes pool: its clusters' node cost to namespaces (OpenCost), namespaces to owners.

    Runs on the DuckDB engine only (OpenCost's usage files are read by DuckDB)."""
    from finops_xl.allocation.kubernetes import IDLE, OpenCostOptions, allocate_cluster_costs

    if not isinstance(engine, DuckDBEngine):
        raise ValueError(f"pool {pool.id!r}: kubernetes pools run on the duckdb engine only")
    con = engine.con
    k = pool.kubernetes
    cluster = sql_identifier(tag_column(k.cluster))
    unnamed = con.execute(
        f"SELECT month, currency, sum(BilledCost), sum(EffectiveCost) FROM allocation_groups "
        f"WHERE pool_id = ? AND {cluster} IS NULL GROUP BY ALL ORDER BY ALL", [pool.id]).fetchall()
    lines = [_Line(m, c, UNALLOCATED, "unallocated", "no cluster", pool.id, pool.id, Decimal(1),
                   Decimal(b), Decimal(e)) for m, c, b, e in unnamed]
    node_costs = (f"SELECT month, currency, {cluster} AS cluster, sum(BilledCost) AS BilledCost, "
                  f"sum(EffectiveCost) AS EffectiveCost FROM allocation_groups "
                  f"WHERE pool_id = {sql_literal(pool.id)} AND {cluster} IS NOT NULL GROUP BY ALL")
    if not con.execute(f"SELECT count(*) FROM ({node_costs})").fetchall()[0][0]:
        return lines
    table = allocate_cluster_costs(con, node_costs, k.usage, capacity_csv=k.capacity,
                                   options=OpenCostOptions(idle=k.idle, table="alloc_k8s"))
    owner_dim = rules.taxonomy.dimension(rules.owner)
    for month, currency, namespace, share, billed, eff in con.execute(
        f"SELECT month, currency, namespace, share, BilledCost, EffectiveCost FROM {table} ORDER BY ALL"
    ).fetchall():
        if namespace == IDLE:
            lines.append(_Line(month, currency, UNALLOCATED, "unallocated", "kubernetes idle",
                               pool.id, pool.id, Decimal(1), Decimal(billed), Decimal(eff)))
            continue
        owner = k.namespaces.get(namespace) or owner_dim.normalize(namespace)
        lines.append(_Line(month, currency, owner, "shared", "opencost", f"{pool.id}:{namespace}",
                           pool.id, Decimal(str(share or 0)), Decimal(billed), Decimal(eff)))
    con.execute(f"DROP TABLE IF EXISTS {table}")
    return lines


def _weights(pool: Pool, direct: dict, shared: dict, month: dt.date) -> dict[str, Decimal]:
    """Receiver → weight for one pool in one month and currency (only positive weights)."""
    if pool.split == "fixed":
        weights = dict(pool.percentages)
    elif pool.split == "driver":
        key = month.strftime("%Y-%m")
        monthly = {o: w for (o, m), w in pool.drivers.items() if m == key}
        weights = monthly or {o: w for (o, m), w in pool.drivers.items() if m is None}
    else:
        basis = dict(direct)
        if pool.basis == "direct_and_shared":
            for o, v in shared.items():
                basis[o] = basis.get(o, Decimal(0)) + v
        if pool.split == "even":
            weights = {o: Decimal(1) for o, v in basis.items()}
        else:
            weights = dict(basis)
    if pool.to:
        weights = {o: v for o, v in weights.items() if o in pool.to}
    return {o: v for o, v in weights.items() if v > 0}


def _write_lines(engine: Engine, shared: list[_Line]) -> None:
    """``allocated_charges``: direct and unallocated group lines (SQL), then the pool lines.

    A pool line carries its owner's attributes from the owner's groups; should they differ (an
    owner tagged with two business units), the smallest value, so every engine picks the same."""
    attr_cols = ", ".join(sql_identifier(a) for a in ATTRIBUTES)
    engine.drop("allocated_charges")
    direct = f"""
        SELECT month, currency,
               coalesce(owner, '{UNALLOCATED}') AS owner, {attr_cols},
               CASE WHEN owner IS NULL THEN 'unallocated' ELSE 'direct' END AS kind,
               coalesce(owner_method, 'none') AS method,
               CASE WHEN owner IS NULL THEN 'no owner' ELSE 'owner:' || owner_method END AS rule_id,
               CAST(NULL AS VARCHAR) AS pool_id, group_id,
               CAST(1 AS DECIMAL(38,18)) AS share, rows AS source_rows,
               BilledCost, EffectiveCost
        FROM allocation_groups WHERE pool_id IS NULL
    """
    if not shared:
        engine.create_table("allocated_charges", direct)
        return
    table = pa.table({
        "month": pa.array([x.month for x in shared], pa.date32()),
        "currency": [x.currency for x in shared],
        "owner": [x.owner for x in shared],
        "kind": [x.kind for x in shared],
        "method": [x.method for x in shared],
        "rule_id": [x.rule_id for x in shared],
        "pool_id": [x.pool_id for x in shared],
        "share": pa.array([str(x.share.quantize(Decimal("1e-18"))) for x in shared], pa.string()),
        "BilledCost": pa.array([x.billed for x in shared], pa.decimal128(38, 12)),
        "EffectiveCost": pa.array([x.effective for x in shared], pa.decimal128(38, 12)),
    })
    engine.register("shared_lines", table)
    attrs = ", ".join(f"a.{sql_identifier(x)}" for x in ATTRIBUTES)
    engine.create_table("allocated_charges", direct + f"""
        UNION ALL
        SELECT s.month, s.currency, s.owner, {attrs}, s.kind, s.method, s.rule_id, s.pool_id,
               CAST(NULL AS BIGINT) AS group_id, CAST(s.share AS DECIMAL(38,18)) AS share,
               p.rows AS source_rows, s.BilledCost, s.EffectiveCost
        FROM shared_lines s
        LEFT JOIN (SELECT owner, {', '.join(f'min({sql_identifier(x)}) AS {sql_identifier(x)}' for x in ATTRIBUTES)}
                   FROM allocation_groups WHERE owner IS NOT NULL GROUP BY owner) a USING (owner)
        LEFT JOIN (SELECT pool_id, month, currency, sum(rows) AS rows FROM allocation_groups
                   WHERE pool_id IS NOT NULL GROUP BY ALL) p USING (pool_id, month, currency)
    """)
    engine.drop("shared_lines")


# ---- step 5: check ------------------------------------------------------------------------------


def _check_conservation(engine: Engine) -> None:
    broken = engine.fetch("""
        WITH src AS (SELECT CAST(date_trunc('month', ChargeDate) AS DATE) AS month,
                            BillingCurrency AS currency, sum(BilledCost) AS b, sum(EffectiveCost) AS e
                     FROM cost_daily GROUP BY ALL),
             out AS (SELECT month, currency, sum(BilledCost) AS b, sum(EffectiveCost) AS e
                     FROM allocated_charges GROUP BY ALL)
        SELECT * FROM src FULL JOIN out USING (month, currency)
        WHERE src.b IS DISTINCT FROM out.b OR src.e IS DISTINCT FROM out.e
    """)
    if broken:
        raise AssertionError(f"allocation does not conserve cost (internal error): {broken[:3]}")


def rules_digest(rules: Rules) -> str:
    """The fingerprint a run records for its rules (``allocation_runs.rules_digest``)."""
    return "sha256:" + hashlib.sha256(repr(rules).encode()).hexdigest()


def _record_run(con: duckdb.DuckDBPyConnection, rules: Rules) -> int:
    con.execute("""CREATE TABLE IF NOT EXISTS allocation_runs (
        run_id BIGINT, ran_at TIMESTAMP, rules_source VARCHAR, rules_digest VARCHAR, owner VARCHAR,
        pools JSON, last_load_id VARCHAR)""")
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM allocation_runs").fetchall()[0][0]
    digest = rules_digest(rules)
    last = con.execute("SELECT value FROM store_info WHERE key = 'last_load_id'").fetchall()
    con.execute("INSERT INTO allocation_runs VALUES (?, ?, ?, ?, ?, ?, ?)", [
        run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0), rules.source,
        digest, rules.owner, json.dumps([p.id for p in rules.pools]),
        last[0][0] if last else None])
    return int(run_id)
