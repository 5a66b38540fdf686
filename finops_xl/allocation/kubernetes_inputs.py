"""Step 1 of the Kubernetes namespace allocation: reading the node costs, usage and capacity into typed
step tables, and every problem found in them, named by file, data row and column."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from finops_xl.allocation.kubernetes_options import (
    EMBEDDED_CAPACITY_COLUMNS, IDLE, MAX_ABS_COST, NODE_COST_COLUMNS, OpenCostOptions, _MONEY)
from finops_xl.store.errors import IngestError, Problem
from finops_xl.store.sources import reader_sql, sniff, sql_identifier, sql_literal

#: Quantities are read as DECIMAL(30,9): nano-core / nano-GiB resolution, sums stay exact.
_QUANTITY = "DECIMAL(30,9)"
_RELATION_NAME = re.compile(r'([A-Za-z_][A-Za-z0-9_$]*|"[^"]+")(\.([A-Za-z_][A-Za-z0-9_$]*|"[^"]+"))*')


class _RunTables:
    """One allocation's step tables: they live on ``con`` under ``<table>__<step>``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, options: OpenCostOptions):
        self.con = con
        self.options = options
        self.prices = options.base_prices.by_resource()
        self.created: list[str] = []
        self.notes: list[str] = []  # SELECT statements yielding (month, cluster, resource, kind, message)

    def t(self, step: str) -> str:
        return f"{self.options.table}__{step}"

    def create(self, step: str, sql: str) -> str:
        name = self.t(step)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        if name not in self.created:
            self.created.append(name)
        return name

    def drop_steps(self) -> None:
        for name in reversed(self.created):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
        self.created.clear()


def _month_sql(col: str) -> str:
    t = f"trim({col})"
    return (f"CAST(date_trunc('month', CASE WHEN regexp_full_match({t}, '[0-9]{{4}}-[0-9]{{1,2}}') "
            f"THEN TRY_CAST({t} || '-01' AS DATE) ELSE TRY_CAST({t} AS DATE) END) AS DATE)")


def _number_sql(col: str) -> str:
    return f"TRY_CAST(trim({col}) AS {_QUANTITY})"


def _checks(col: str, kind: str) -> list[tuple[str, str]]:
    """(message, condition) pairs for one column; the condition is true on a bad value."""
    q = sql_identifier(col)
    empty = f"({q} IS NULL OR trim({q}) = '')"
    if kind in ("text", "namespace"):
        checks = [("is empty", empty)]
        if kind == "namespace":
            checks.append((f"is a reserved name (names like {IDLE} are OpenCost's leftover lines)",
                           f"regexp_full_match(trim({q}), '__.*__')"))
        return checks
    if kind == "month":
        return [("is empty", empty),
                ("is not a month: write YYYY-MM or a date YYYY-MM-DD",
                 f"NOT {empty} AND {_month_sql(q)} IS NULL")]
    return [("is empty (write 0 for none)", empty),
            ("is not a number", f"NOT {empty} AND {_number_sql(q)} IS NULL"),
            ("is negative", f"{_number_sql(q)} < 0")]


def _read_csv(run: _RunTables, path: Path, label: str, step: str, kinds: dict[str, str]) -> list[Problem]:
    """Read ``path`` into the step table ``step`` (typed, with its 1-based data row ``__row``)."""
    con = run.con
    try:
        source = sniff(path, label) if path.is_file() else None
    except IngestError as exc:
        return list(exc.problems)
    if source is None:
        return [Problem(label, "no such file")]
    if source.format == "parquet":
        return [Problem(label, "is Parquet; a CSV is expected")]
    reader = reader_sql([source])
    try:
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as exc:
        return [Problem(label, f"cannot be read as CSV ({' '.join(str(exc).split())[:300]})")]
    by_name = {h.strip().lower(): h for h in header}
    missing = [c for c in kinds if c.lower() not in by_name]
    if missing:
        return [Problem(label, f"missing column {c!r} (columns found: {', '.join(header)})", column=c)
                for c in missing]
    select = ", ".join(f"{sql_identifier(by_name[c.lower()])} AS {sql_identifier(c)}" for c in kinds)
    # one thread reads the CSV in file order, so row_number() is the data row number
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.execute("SET threads = 1")
    try:
        raw = run.create(f"{step}_raw", f"SELECT row_number() OVER () AS __row, {select} FROM {reader}")
    except duckdb.Error as exc:
        return [Problem(label, f"cannot be read as CSV ({' '.join(str(exc).split())[:300]})")]
    finally:
        con.execute(f"SET threads = {int(threads)}")
    checks = [(c, msg, cond) for c in kinds for msg, cond in _checks(c, kinds[c])]
    aggregates = ", ".join(
        f"count(*) FILTER (WHERE {cond}), min(__row) FILTER (WHERE {cond}), "
        f"arg_min({sql_identifier(c)}, __row) FILTER (WHERE {cond})"
        for c, _, cond in checks)
    found = con.execute(f"SELECT {aggregates} FROM {raw}").fetchall()[0]
    problems = []
    for i, (c, msg, _) in enumerate(checks):
        n, row, value = found[3 * i: 3 * i + 3]
        if n:
            problems.append(Problem(label, msg, row=int(row), column=c, value=value, count=int(n)))
    if problems:
        return problems
    typed = []
    for c, kind in kinds.items():
        q = sql_identifier(c)
        expr = {"month": _month_sql(q), "number": _number_sql(q)}.get(kind, f"trim({q})")
        typed.append(f"{expr} AS {q}")
    run.create(step, f"SELECT __row, {', '.join(typed)} FROM {raw}")
    return []


def _embedded_capacity(run: _RunTables, label: str) -> list[Problem]:
    """Capacity from the usage CSV's ``node_*`` columns; they must agree within a cluster-month."""
    cols = EMBEDDED_CAPACITY_COLUMNS
    rows = run.t("usage_rows")
    firsts = ", ".join(f"arg_min({c}, __row) AS {c}" for c in cols)
    differs = " OR ".join(f"r.{c} <> f.{c}" for c in cols)
    which = "CASE " + " ".join(f"WHEN r.{c} <> f.{c} THEN '{c}'" for c in cols) + " END"
    bad = run.con.execute(f"""
        WITH f AS (SELECT cluster, month, min(__row) AS first_row, {firsts} FROM {rows} GROUP BY ALL)
        SELECT min(r.__row), arg_min({which}, r.__row), arg_min(f.first_row, r.__row),
               count(*), r.cluster, r.month
        FROM {rows} r JOIN f USING (cluster, month)
        WHERE {differs} GROUP BY r.cluster, r.month ORDER BY 1""").fetchall()
    problems = [
        Problem(label, f"capacity columns must be the same on every row of cluster {cluster!r} in "
                       f"{month:%Y-%m}; this row differs from row {first}", row=int(row), column=col,
                count=int(n))
        for row, col, first, n, cluster, month in bad]
    if not problems:
        run.create("capacity_rows", f"""
            SELECT min(__row) AS __row, cluster, month, node_hours AS hours,
                   node_cpu_cores AS cpu_cores, node_memory_gib AS memory_gib,
                   node_gpu_count AS gpu_count
            FROM {rows} GROUP BY cluster, month, node_hours, node_cpu_cores, node_memory_gib,
                                 node_gpu_count""")
    return problems


def _node_cost_problems(run: _RunTables, node_costs: str) -> list[Problem]:
    """Read ``node_costs`` into the step table ``nodes`` (summed per month, currency, cluster)."""
    con, label = run.con, "node_costs"
    text = node_costs.strip().rstrip(";")
    relation = text if _RELATION_NAME.fullmatch(text) else f"({text})"
    try:
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    except duckdb.Error as exc:
        return [Problem(label, f"cannot be read ({' '.join(str(exc).split())[:300]})", value=node_costs[:200])]
    by_name = {h.lower(): h for h in header}
    missing = [c for c in NODE_COST_COLUMNS if c.lower() not in by_name]
    if missing:
        return [Problem(label, f"missing column {c!r} (columns found: {', '.join(header)})", column=c)
                for c in missing]
    col = {c: sql_identifier(by_name[c.lower()]) for c in NODE_COST_COLUMNS}
    try:
        nulls = con.execute(
            "SELECT " + ", ".join(f"count(*) FILTER (WHERE {col[c]} IS NULL)" for c in NODE_COST_COLUMNS)
            + f" FROM {relation}").fetchall()[0]
        problems = [Problem(label, "is empty (NULL)", column=c, count=int(n))
                    for c, n in zip(NODE_COST_COLUMNS, nulls) if n]
        if problems:
            return problems
        run.create("nodes", f"""
            SELECT CAST(date_trunc('month', CAST({col['month']} AS DATE)) AS DATE) AS month,
                   CAST({col['currency']} AS VARCHAR) AS currency,
                   CAST({col['cluster']} AS VARCHAR) AS cluster,
                   CAST(sum(CAST({col['BilledCost']} AS {_MONEY})) AS {_MONEY}) AS BilledCost,
                   CAST(sum(CAST({col['EffectiveCost']} AS {_MONEY})) AS {_MONEY}) AS EffectiveCost
            FROM {relation} GROUP BY ALL""")
    except duckdb.Error as exc:
        return [Problem(label, f"cannot be read as month DATE, currency, cluster, BilledCost and "
                               f"EffectiveCost DECIMAL ({' '.join(str(exc).split())[:300]})")]
    big = con.execute(f"""
        SELECT cluster, month, currency, BilledCost, EffectiveCost FROM {run.t('nodes')}
        WHERE abs(BilledCost) >= {MAX_ABS_COST} OR abs(EffectiveCost) >= {MAX_ABS_COST}
        ORDER BY ALL""").fetchall()
    return [Problem(label, f"cluster {c!r} in {m:%Y-%m} ({cur}) costs {b} / {e}: a cluster-month must "
                           f"cost less than {MAX_ABS_COST:,.0f} to be split exactly")
            for c, m, cur, b, e in big]


def _cross_problems(run: _RunTables, usage_label: str, capacity_label: str) -> list[Problem]:
    """Usage without a node cost; a node cost without capacity; capacity that prices to zero."""
    t, con = run.t, run.con
    problems = []
    for cluster, month, row, n in con.execute(f"""
            SELECT cluster, month, min(__row), count(*) FROM {t('usage_rows')}
            WHERE (month, cluster) NOT IN (SELECT (month, cluster) FROM {t('nodes')})
            GROUP BY ALL ORDER BY 3""").fetchall():
        problems.append(Problem(
            usage_label, f"no node cost for cluster {cluster!r} in {month:%Y-%m}: node_costs has no "
                         f"row for this cluster and month", row=int(row), column="cluster",
            value=cluster, count=int(n)))
    for cluster, month, usage_rows in con.execute(f"""
            SELECT n.cluster, n.month, coalesce(any_value(u.rows), 0) FROM {t('nodes')} n
            LEFT JOIN (SELECT month, cluster, sum(rows) AS rows FROM {t('usage')} GROUP BY ALL) u
                   USING (month, cluster)
            WHERE (n.month, n.cluster) NOT IN (SELECT (month, cluster) FROM {t('capacity')})
            GROUP BY ALL
            HAVING bool_or(n.BilledCost <> 0 OR n.EffectiveCost <> 0) OR any_value(u.rows) > 0
            ORDER BY ALL""").fetchall():
        problems.append(Problem(
            capacity_label, f"no capacity for cluster {cluster!r} in {month:%Y-%m}, which has a node "
                            f"cost and {usage_rows} usage row(s): add its capacity, or leave the "
                            f"cluster out of node_costs", value=cluster))
    weights = " + ".join(f"CAST({sql_literal(str(p))} AS DOUBLE) * CAST(c.{r} AS DOUBLE)"
                         for r, p in run.prices.items())
    for cluster, month, row in con.execute(f"""
            SELECT c.cluster, c.month, c.first_row FROM {t('capacity')} c
            WHERE {weights} = 0 AND (c.month, c.cluster) IN (
                SELECT (month, cluster) FROM {t('nodes')} WHERE BilledCost <> 0 OR EffectiveCost <> 0)
            ORDER BY ALL""").fetchall():
        problems.append(Problem(
            capacity_label, f"capacity × base price is zero for CPU, memory and GPU in cluster "
                            f"{cluster!r}, {month:%Y-%m}, so its node cost cannot be split",
            row=int(row), value=cluster))
    return problems
