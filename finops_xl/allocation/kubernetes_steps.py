"""Steps 1 to 5 of the Kubernetes namespace allocation, one SQL statement each over the step tables:
inputs, resource pools, workload cost, idle sharing, lines (see ``kubernetes.py``)."""

from __future__ import annotations

from pathlib import Path

from finops_xl.allocation.kubernetes_inputs import (_cross_problems, _embedded_capacity, _node_cost_problems,
                                                    _read_csv, _RunTables)
from finops_xl.allocation.kubernetes_options import (
    CAPACITY_COLUMNS, EMBEDDED_CAPACITY_COLUMNS, IDLE, IDLE_EVEN, IDLE_NONE, IDLE_WEIGHTED, METHOD, METRICS,
    RESOURCES, USAGE_COLUMNS, KubernetesInputError, _MONEY, notes_table)
from finops_xl.allocation.split import split_sql
from finops_xl.store.sources import sql_literal


class _Run(_RunTables):
    """One allocation, run step by step; each step adds its tables."""

    # -- step 1 --------------------------------------------------------------------------------

    def inputs(self, node_costs: str, usage_csv: Path, capacity_csv: Path | None) -> None:
        problems = _node_cost_problems(self, node_costs)
        usage_label = str(usage_csv)
        capacity_label = usage_label if capacity_csv is None else str(capacity_csv)
        usage_kinds = {c: "number" for c in USAGE_COLUMNS}
        usage_kinds.update(cluster="text", namespace="namespace", month="month")
        if capacity_csv is None:
            usage_kinds.update({c: "number" for c in EMBEDDED_CAPACITY_COLUMNS})
        problems += _read_csv(self, usage_csv, usage_label, "usage_rows", usage_kinds)
        if capacity_csv is not None:
            capacity_kinds = {c: "number" for c in CAPACITY_COLUMNS}
            capacity_kinds.update(cluster="text", month="month")
            problems += _read_csv(self, capacity_csv, capacity_label, "capacity_rows", capacity_kinds)
        elif not problems:
            problems += _embedded_capacity(self, usage_label)
        if problems:
            raise KubernetesInputError(problems)

        self.create("usage", f"""
            SELECT month, cluster, namespace, min(__row) AS first_row, count(*) AS rows,
                   sum(hours) AS hours,
                   sum(hours * greatest(cpu_request, cpu_usage)) AS cpu,
                   sum(hours * greatest(memory_request_gib, memory_usage_gib)) AS memory,
                   sum(hours * greatest(gpu_request, gpu_usage)) AS gpu
            FROM {self.t('usage_rows')} GROUP BY ALL""")
        self.create("capacity", f"""
            SELECT month, cluster, min(__row) AS first_row,
                   sum(hours * cpu_cores) AS cpu, sum(hours * memory_gib) AS memory,
                   sum(hours * gpu_count) AS gpu
            FROM {self.t('capacity_rows')} GROUP BY ALL""")
        problems = _cross_problems(self, usage_label, capacity_label)
        if problems:
            raise KubernetesInputError(problems)

        prices = " UNION ALL ".join(
            f"SELECT {sql_literal(r)} AS resource, CAST({sql_literal(str(p))} AS {_MONEY}) AS price"
            for r, p in self.prices.items())
        # capacity and demand (Σ namespace resource-hours) per cluster-month and resource, for
        # the cluster-months that have a node cost
        self.create("resources", f"""
            WITH cap AS (UNPIVOT (SELECT month, cluster, cpu, memory, gpu FROM {self.t('capacity')})
                         ON cpu, memory, gpu INTO NAME resource VALUE capacity),
                 dem AS (UNPIVOT (SELECT month, cluster, sum(cpu) AS cpu, sum(memory) AS memory,
                                         sum(gpu) AS gpu FROM {self.t('usage')} GROUP BY ALL)
                         ON cpu, memory, gpu INTO NAME resource VALUE demand)
            SELECT cap.month, cap.cluster, cap.resource, p.price, cap.capacity,
                   coalesce(dem.demand, 0) AS demand
            FROM cap JOIN ({prices}) p USING (resource)
            LEFT JOIN dem USING (month, cluster, resource)
            WHERE (cap.month, cap.cluster) IN (SELECT (month, cluster) FROM {self.t('nodes')})""")
        self.create("usage_long", f"""
            UNPIVOT (SELECT month, cluster, namespace, cpu, memory, gpu FROM {self.t('usage')})
            ON cpu, memory, gpu INTO NAME resource VALUE resource_hours""")
        self._input_notes()

    def _input_notes(self) -> None:
        units = {"cpu": "core-hours", "memory": "GiB-hours", "gpu": "GPU-hours"}
        unit = "CASE resource " + " ".join(f"WHEN '{r}' THEN '{u}'" for r, u in units.items()) + " END"
        self.notes.append(f"""
            SELECT month, cluster, resource, 'over_capacity',
                   resource || ': namespaces need ' || printf('%.2f', CAST(demand AS DOUBLE)) || ' ' || {unit}
                   || ' (Σ hours × max(request, usage)) but capacity is ' || printf('%.2f', CAST(capacity AS DOUBLE))
                   || ': namespace ' || resource || ' costs are scaled by '
                   || CASE WHEN capacity > 0 THEN printf('%.4f', capacity / demand) ELSE '0' END
                   || ' and ' || resource || ' has no idle'
            FROM {self.t('resources')} WHERE demand > capacity""")
        self.notes.append(f"""
            SELECT month, cluster, NULL, 'no_usage',
                   'node cost but no namespace usage rows: all of it is idle'
            FROM {self.t('capacity')} c
            WHERE (month, cluster) IN (SELECT (month, cluster) FROM {self.t('nodes')})
              AND (month, cluster) NOT IN (SELECT (month, cluster) FROM {self.t('usage')})""")
        self.notes.append(f"""
            SELECT month, cluster, NULL, 'capacity_without_cost',
                   'capacity rows but no node cost (and no usage): ignored'
            FROM {self.t('capacity')}
            WHERE (month, cluster) NOT IN (SELECT (month, cluster) FROM {self.t('nodes')})""")
        self.notes.append(f"""
            SELECT DISTINCT month, cluster, NULL, 'skipped',
                   'node cost is zero and there is no capacity or usage: nothing to allocate'
            FROM {self.t('nodes')}
            WHERE (month, cluster) NOT IN (SELECT (month, cluster) FROM {self.t('capacity')})""")

    # -- step 2 --------------------------------------------------------------------------------

    def pools(self) -> None:
        items = f"""(
            SELECT n.month, n.currency, n.cluster, m.metric, r.resource,
                   CASE m.metric WHEN 'BilledCost' THEN n.BilledCost ELSE n.EffectiveCost END AS total,
                   CAST(r.price AS DOUBLE) * CAST(r.capacity AS DOUBLE) AS weight
            FROM {self.t('nodes')} n JOIN {self.t('resources')} r USING (month, cluster)
            CROSS JOIN (VALUES ('BilledCost'), ('EffectiveCost')) m(metric))"""
        self.create("pools", f"""
            SELECT month, currency, cluster, metric, resource, amount
            FROM ({split_sql(items, group=('month', 'currency', 'cluster', 'metric'),
                             order=('resource',), total='total', weight='weight')})""")

    # -- step 3 --------------------------------------------------------------------------------

    def workload(self) -> None:
        items = f"""(
            SELECT p.month, p.currency, p.cluster, p.metric, p.resource, u.namespace,
                   p.amount AS total, CAST(u.resource_hours AS DOUBLE) AS weight
            FROM {self.t('pools')} p JOIN {self.t('usage_long')} u USING (month, cluster, resource)
            UNION ALL
            SELECT p.month, p.currency, p.cluster, p.metric, p.resource, '{IDLE}',
                   p.amount, CAST(greatest(r.capacity - r.demand, 0) AS DOUBLE)
            FROM {self.t('pools')} p JOIN {self.t('resources')} r USING (month, cluster, resource))"""
        self.create("workload", f"""
            SELECT month, currency, cluster, metric, resource, namespace, amount
            FROM ({split_sql(items, group=('month', 'currency', 'cluster', 'metric', 'resource'),
                             order=('namespace',), total='total', weight='weight')})""")

    # -- step 4 --------------------------------------------------------------------------------

    def idle(self) -> None:
        mode = self.options.idle
        if mode == IDLE_WEIGHTED:
            weight = "CASE WHEN sum(workload_weight) OVER cm > 0 THEN workload_weight ELSE CAST(active AS DOUBLE) END"
        elif mode == IDLE_EVEN:
            weight = "CAST(active AS DOUBLE)"
        else:
            weight = "0.0"
        # workload_weight: the namespace's workload cost ÷ (node cost ÷ Σ price × capacity),
        # the same for both metrics: Σ over resources of price × capacity × its share of the pool
        self.create("namespaces", f"""
            WITH f AS (
                SELECT u.month, u.cluster, u.namespace,
                       sum(CASE WHEN greatest(r.capacity, r.demand) > 0
                                THEN CAST(r.price AS DOUBLE) * CAST(r.capacity AS DOUBLE)
                                     * CAST(u.resource_hours AS DOUBLE)
                                     / CAST(greatest(r.capacity, r.demand) AS DOUBLE)
                                ELSE 0 END) AS workload_weight
                FROM {self.t('usage_long')} u JOIN {self.t('resources')} r USING (month, cluster, resource)
                GROUP BY ALL
            ), w AS (
                SELECT f.*, u.hours > 0 AS active, {weight} AS idle_weight,
                       f.workload_weight / nullif(b.node_weight, 0) AS workload_share
                FROM f JOIN {self.t('usage')} u USING (month, cluster, namespace)
                JOIN (SELECT month, cluster, sum(CAST(price AS DOUBLE) * CAST(capacity AS DOUBLE)) AS node_weight
                      FROM {self.t('resources')} GROUP BY ALL) b USING (month, cluster)
                WINDOW cm AS (PARTITION BY month, cluster)
            )
            SELECT *, sum(idle_weight) OVER cm > 0 AS shared,
                   coalesce(idle_weight / nullif(sum(idle_weight) OVER cm, 0), 0) AS idle_share
            FROM w WINDOW cm AS (PARTITION BY month, cluster)""")
        items = f"""(
            SELECT i.month, i.currency, i.cluster, i.metric, n.namespace, i.total, n.idle_weight AS weight
            FROM (SELECT month, currency, cluster, metric, sum(amount) AS total
                  FROM {self.t('workload')} WHERE namespace = '{IDLE}' GROUP BY ALL) i
            JOIN {self.t('namespaces')} n USING (month, cluster)
            WHERE n.shared)"""
        self.create("idle", f"""
            SELECT month, currency, cluster, metric, namespace, amount
            FROM ({split_sql(items, group=('month', 'currency', 'cluster', 'metric'),
                             order=('namespace',), total='total', weight='weight')})""")
        if mode != IDLE_NONE:
            self.notes.append(f"""
                SELECT month, cluster, NULL, 'idle_not_shared',
                       'no namespace ran (hours > 0): idle kept on the {IDLE} line'
                FROM {self.t('namespaces')} GROUP BY ALL HAVING NOT bool_or(shared)""")
        if mode == IDLE_WEIGHTED:
            self.notes.append(f"""
                SELECT month, cluster, NULL, 'idle_shared_evenly',
                       'no namespace has a workload cost: idle shared evenly among active namespaces'
                FROM {self.t('namespaces')} GROUP BY ALL
                HAVING sum(workload_weight) = 0 AND bool_or(shared)""")

    # -- step 5 --------------------------------------------------------------------------------

    def lines(self) -> None:
        table, con = self.options.table, self.con
        cost_cols = []
        for metric in METRICS:
            for part in (*RESOURCES, "shared_idle"):
                cost_cols.append(
                    f"CAST(coalesce(sum(amount) FILTER (WHERE metric = '{metric}' AND part = '{part}'), 0)"
                    f" AS {_MONEY}) AS {part}_{metric}")
            cost_cols.append(
                f"CAST(coalesce(sum(amount) FILTER (WHERE metric = '{metric}'), 0) AS {_MONEY}) AS {metric}")
        shared = f"(SELECT month, cluster FROM {self.t('namespaces')} WHERE shared)"
        lines = self.create("lines", f"""
            WITH parts AS (
                SELECT month, currency, cluster, namespace, metric, resource AS part, amount
                FROM {self.t('workload')}
                WHERE namespace <> '{IDLE}' OR (month, cluster) NOT IN (SELECT (month, cluster) FROM {shared})
                UNION ALL
                SELECT month, currency, cluster, namespace, metric, 'shared_idle', amount
                FROM {self.t('idle')}
            ), sums AS (
                SELECT month, currency, cluster, namespace, {', '.join(cost_cols)}
                FROM parts GROUP BY ALL
            ), idle_rh AS (
                PIVOT (SELECT month, cluster, resource, greatest(capacity - demand, 0) AS rh
                       FROM {self.t('resources')})
                ON resource IN ('cpu', 'memory', 'gpu') USING first(rh) GROUP BY month, cluster
            ), cm AS (
                SELECT month, cluster, 1 - sum(workload_share) AS idle_fraction,
                       bool_or(shared) AS shared
                FROM {self.t('namespaces')} GROUP BY ALL
            )
            SELECT s.month, s.currency, s.cluster, s.namespace,
                   CAST(CASE WHEN s.namespace = '{IDLE}' THEN i.cpu ELSE u.cpu END AS {_MONEY}) AS cpu_core_hours,
                   CAST(CASE WHEN s.namespace = '{IDLE}' THEN i.memory ELSE u.memory END AS {_MONEY}) AS memory_gib_hours,
                   CAST(CASE WHEN s.namespace = '{IDLE}' THEN i.gpu ELSE u.gpu END AS {_MONEY}) AS gpu_hours,
                   s.* EXCLUDE (month, currency, cluster, namespace),
                   '{METHOD}' AS method,
                   CASE WHEN s.namespace = '{IDLE}' THEN 1.0 ELSE n.idle_share END AS idle_share,
                   CASE WHEN s.namespace = '{IDLE}' THEN coalesce(c.idle_fraction, 1.0)
                        ELSE n.workload_share + n.idle_share * c.idle_fraction END AS share
            FROM sums s
            LEFT JOIN {self.t('usage')} u USING (month, cluster, namespace)
            LEFT JOIN {self.t('namespaces')} n USING (month, cluster, namespace)
            LEFT JOIN idle_rh i USING (month, cluster)
            LEFT JOIN cm c USING (month, cluster)
            ORDER BY s.month, s.currency, s.cluster, s.namespace = '{IDLE}', s.namespace""")
        # re-check the invariant on the result before publishing it
        broken = con.execute(f"""
            SELECT n.cluster, n.month, n.currency, n.BilledCost, n.EffectiveCost, l.b, l.e
            FROM {self.t('nodes')} n
            LEFT JOIN (SELECT month, currency, cluster, sum(BilledCost) AS b, sum(EffectiveCost) AS e,
                              count(*) FILTER (WHERE BilledCost IS NULL OR EffectiveCost IS NULL) AS nulls
                       FROM {lines} GROUP BY ALL) l USING (month, currency, cluster)
            WHERE (n.month, n.cluster) IN (SELECT (month, cluster) FROM {self.t('resources')})
              AND (l.b IS DISTINCT FROM n.BilledCost OR l.e IS DISTINCT FROM n.EffectiveCost
                   OR l.nulls > 0)
            LIMIT 5""").fetchall()
        if broken:
            raise RuntimeError(f"internal error: namespace costs do not add up to the node cost: {broken}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {lines}")
        notes = " UNION ALL ".join(f"({q})" for q in self.notes)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {notes_table(table)} AS
            SELECT CAST(month AS DATE) AS month, CAST(cluster AS VARCHAR) AS cluster,
                   CAST(resource AS VARCHAR) AS resource, CAST(kind AS VARCHAR) AS kind,
                   CAST(message AS VARCHAR) AS message
            FROM ({notes}) n(month, cluster, resource, kind, message)
            ORDER BY month, cluster, kind, resource""")
