"""Kubernetes namespace costs: a cluster's node cost split among its namespaces, the OpenCost way.

The model is the OpenCost specification's (github.com/opencost/opencost, ``spec/opencost-specv01.md``):
a workload pays for ``max(request, usage)`` of each resource at that resource's hourly price, and
what no workload reserved or used is *idle*. The node cost is the real bill (BilledCost and
EffectiveCost from the cost store); base prices only set the ratio between CPU, memory and GPU.

Steps (each one SQL statement over small tables, never a Python loop over rows; tests assert that
the totals are conserved after every step):

1. **Inputs.** Read the namespace usage CSV and the capacity (a capacity CSV, or ``node_*`` columns
   in the usage CSV) with DuckDB ``read_csv`` and validate them; sum the node cost per cluster,
   month and currency. Every problem is reported at once, naming the file, data row and column
   (``KubernetesInputError``); nothing is created.
2. **Resource pools.** Split each cluster-month's node cost into a CPU, a memory and a GPU pool in
   proportion to base price × capacity resource-hours. This is the spec's normalization: "a node
   with 1 GPU, 1 CPU and 1 GB of RAM that costs $35/mo", base prices GPU $30, CPU $30, RAM $10 →
   $15 GPU, $15 CPU, $5 RAM. Σ pools = node cost.
3. **Workload cost.** Split each pool among the namespaces in proportion to their resource-hours
   (Σ hours × max(request, usage)), and to ``__idle__`` in proportion to the capacity nobody
   reserved (capacity − Σ namespace resource-hours). So each namespace pays resource-hours × the
   resource's normalized unit price (pool ÷ capacity resource-hours). If the namespaces of a
   resource need more than its capacity, that resource has no idle and its pool is shared by
   resource-hours: every namespace is scaled down by capacity ÷ demand (reported as a note).
   Σ namespaces + idle = pool.
4. **Idle sharing.** The idle of a cluster-month (Σ of its resources' idle) is shared among its
   namespaces: ``weighted`` — in proportion to each namespace's workload cost (falls back to
   ``even`` when every namespace's workload cost is zero); ``even`` — equally among the namespaces
   active in the cluster-month (hours > 0); ``none`` — kept on an ``__idle__`` line. Idle that
   cannot be shared (no active namespace) is kept too, with a note. Σ shares = idle.
5. **Lines.** One row per cluster, month, currency and namespace (+ ``__idle__`` when kept), each
   row's amount = CPU + memory + GPU + shared idle. Re-checked before the table is created: for
   every cluster, month, currency and metric, Σ rows = node cost exactly.

Every split in steps 2–4 is a largest-remainder split in units of 1e-12 (the store's
DECIMAL(38,12)), done per metric (BilledCost, EffectiveCost) separately: each part is rounded
toward zero, and the units left over go one each to the parts with the largest remainders (ties:
by name). So parts add up to the whole exactly, credits (negative costs) included.

Inputs
------
**Node costs** (``node_costs``: a table or view name, or a SELECT query) — one row per cluster,
month and currency (more rows are summed):

==============  ===============  ==========================================================
column          type             meaning
==============  ===============  ==========================================================
month           DATE             any day of the month (read as that month)
currency        VARCHAR          BillingCurrency of the amounts
cluster         VARCHAR          cluster name, as in the usage CSV
BilledCost      DECIMAL(38,12)   Σ BilledCost of the cluster's node rows in the month
EffectiveCost   DECIMAL(38,12)   Σ EffectiveCost of the same rows
==============  ===============  ==========================================================

**Namespace usage CSV** (``usage_csv``; as exported from OpenCost / Prometheus) — one or more
rows per cluster, namespace and month; several rows (e.g. one per day) are summed as
resource-hours, which is closer to OpenCost's per-sample ``max(request, usage)``:

====================  =======================================================================
column                meaning
====================  =======================================================================
cluster               cluster name
namespace             Kubernetes namespace (names like ``__idle__`` are reserved)
month                 ``YYYY-MM``, or a date (``YYYY-MM-DD``) in the month
hours                 hours the row covers (e.g. 744 for all of a 31-day month)
cpu_request           average CPU cores requested over those hours
cpu_usage             average CPU cores used
memory_request_gib    average memory requested, GiB
memory_usage_gib      average memory used (working set), GiB
gpu_request           average GPUs requested
gpu_usage             average GPUs used
====================  =======================================================================

Resource-hours of a row = hours × max(request, usage): core-hours, GiB-hours, GPU-hours.
Numbers are plain decimals (``0.25``, ``1e-3``), non-negative; write 0 for none. Column names are
matched ignoring case and surrounding spaces; other columns are ignored.

**Node capacity** — either a capacity CSV (``capacity_csv``), one or more rows per cluster and
month (e.g. one per node or node pool; rows are summed as resource-hours):

==============  ===========================================================================
column          meaning
==============  ===========================================================================
cluster         cluster name
month           ``YYYY-MM`` or a date in the month
hours           hours the row's nodes ran in the month
cpu_cores       average allocatable CPU cores over those hours
memory_gib      average allocatable memory, GiB
gpu_count       average GPUs
==============  ===========================================================================

or, when ``capacity_csv`` is None, four extra columns of the usage CSV: ``node_hours``,
``node_cpu_cores``, ``node_memory_gib``, ``node_gpu_count`` — the cluster's capacity for the month
(hours × average size), repeated identically on every usage row of that cluster and month.

Output
------
A temporary table (``OpenCostOptions.table``), one row per month, currency, cluster and namespace:
``month DATE, currency, cluster, namespace``; ``cpu_core_hours, memory_gib_hours, gpu_hours``
(resource-hours charged: Σ hours × max(request, usage); on the ``__idle__`` row, the capacity
nobody reserved); per metric ``cpu_<metric>, memory_<metric>, gpu_<metric>,
shared_idle_<metric>`` and the total ``<metric>`` (``BilledCost``, ``EffectiveCost``; exact
DECIMAL(38,12); on the ``__idle__`` row the resource columns hold each resource's idle cost);
``method`` (``'opencost'``); ``idle_share`` (the namespace's fraction of the cluster-month's idle;
1 on ``__idle__``); ``share`` (the row's fraction of the node cost). Fractions are DOUBLE, for
display; amounts are exact. Notes (over capacity, idle kept, inputs ignored) go to the temporary
table ``<table>_notes`` (``month, cluster, resource, kind, message``).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import duckdb

from finops_xl.store.errors import IngestError, Problem
from finops_xl.store.sources import reader_sql, sniff, sql_identifier, sql_literal

#: The leftover line of a cluster-month: capacity no namespace reserved or used (OpenCost's name).
IDLE = "__idle__"
#: ``method`` of every line this module writes.
METHOD = "opencost"
#: Idle sharing modes (OpenCost's names).
IDLE_WEIGHTED, IDLE_EVEN, IDLE_NONE = "weighted", "even", "none"
IDLE_MODES = (IDLE_WEIGHTED, IDLE_EVEN, IDLE_NONE)
#: Resources, in the order their columns appear; names as in the output columns.
RESOURCES = ("cpu", "memory", "gpu")
#: Cost columns (FOCUS names), each allocated separately.
METRICS = ("BilledCost", "EffectiveCost")
#: A cluster-month's |node cost| must stay below this, so that the largest-remainder products
#: (1e-12 units × 50-bit weights) fit DuckDB's 128-bit HUGEINT exactly.
MAX_ABS_COST = Decimal("1e11")

USAGE_COLUMNS = ("cluster", "namespace", "month", "hours", "cpu_request", "cpu_usage",
                 "memory_request_gib", "memory_usage_gib", "gpu_request", "gpu_usage")
CAPACITY_COLUMNS = ("cluster", "month", "hours", "cpu_cores", "memory_gib", "gpu_count")
EMBEDDED_CAPACITY_COLUMNS = ("node_hours", "node_cpu_cores", "node_memory_gib", "node_gpu_count")
NODE_COST_COLUMNS = ("month", "currency", "cluster", "BilledCost", "EffectiveCost")

#: Weights are scaled to this many bits (relative to the group's largest) before the exact split.
_WEIGHT_BITS = 50
#: Quantities are read as DECIMAL(30,9): nano-core / nano-GiB resolution, sums stay exact.
_QUANTITY = "DECIMAL(30,9)"
_MONEY = "DECIMAL(38,12)"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RELATION_NAME = re.compile(r'([A-Za-z_][A-Za-z0-9_$]*|"[^"]+")(\.([A-Za-z_][A-Za-z0-9_$]*|"[^"]+"))*')


@dataclasses.dataclass(frozen=True)
class BasePrices:
    """List prices per resource-hour, used only for their ratio (OpenCost's ``default.json``).

    Attributes:
      cpu_core_hour: price of one CPU core for one hour.
      memory_gib_hour: price of one GiB of memory for one hour.
      gpu_hour: price of one GPU for one hour.

    The defaults are OpenCost's ``configs/default.json`` ("Default prices based on GCP
    us-central1": CPU 0.031611, RAM 0.004237, GPU 0.95). The currency does not matter: the node
    cost is split in proportion to price × capacity, so only the ratios count.
    """

    cpu_core_hour: Decimal = Decimal("0.031611")
    memory_gib_hour: Decimal = Decimal("0.004237")
    gpu_hour: Decimal = Decimal("0.95")

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            try:
                price = value if isinstance(value, Decimal) else Decimal(str(value))
            except ArithmeticError:
                raise ValueError(f"base_prices.{field.name} is not a number (got {value!r})") from None
            if not price.is_finite() or price < 0:
                raise ValueError(f"base_prices.{field.name} must be a finite number ≥ 0 (got {value!r})")
            object.__setattr__(self, field.name, price)
        if not any(self.by_resource().values()):
            raise ValueError("base_prices are all zero: at least one resource needs a price")

    def by_resource(self) -> dict[str, Decimal]:
        """``{"cpu": …, "memory": …, "gpu": …}``."""
        return {"cpu": self.cpu_core_hour, "memory": self.memory_gib_hour, "gpu": self.gpu_hour}


@dataclasses.dataclass(frozen=True)
class OpenCostOptions:
    """Every knob of the allocation, in one place.

    Attributes:
      base_prices: price ratio between CPU, memory and GPU (see ``BasePrices``).
      idle: how idle is shared: ``"weighted"`` (by workload cost), ``"even"`` (equally among
        active namespaces) or ``"none"`` (kept on an ``__idle__`` line).
      table: name of the temporary result table; notes go to ``<table>_notes``.
      keep_steps: keep the intermediate tables ``<table>__nodes``, ``__usage``, ``__resources``,
        ``__pools`` (step 2), ``__workload`` (step 3), ``__namespaces`` and ``__idle`` (step 4),
        and the other ``<table>__*`` tables, for inspection and tests; by default they are dropped.
    """

    base_prices: BasePrices = BasePrices()
    idle: str = IDLE_WEIGHTED
    table: str = "k8s_namespace_costs"
    keep_steps: bool = False

    def __post_init__(self) -> None:
        if self.idle not in IDLE_MODES:
            raise ValueError(f"idle must be one of {', '.join(map(repr, IDLE_MODES))} (got {self.idle!r})")
        if not isinstance(self.base_prices, BasePrices):
            raise TypeError("base_prices must be a BasePrices")
        if not _IDENTIFIER.fullmatch(self.table or ""):
            raise ValueError(f"table must be a plain SQL name (letters, digits, _), got {self.table!r}")


class KubernetesInputError(ValueError):
    """The inputs cannot be allocated; ``problems`` lists each one (file, row, column, value).
    Nothing was created."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        n = len(self.problems)
        lines = [str(p) for p in self.problems[:25]]
        if n > 25:
            lines.append(f"… and {n - 25} more")
        super().__init__("\n  ".join([f"{n} problem{'s' if n != 1 else ''} found; nothing was allocated:",
                                      *lines]))


def notes_table(table: str) -> str:
    """Name of the notes table written beside the result ``table``."""
    return f"{table}_notes"


def allocate_cluster_costs(
    con: duckdb.DuckDBPyConnection,
    node_costs: str,
    usage_csv: str | os.PathLike[str],
    *,
    capacity_csv: str | os.PathLike[str] | None = None,
    base_prices: BasePrices | None = None,
    idle: str | None = None,
    options: OpenCostOptions = OpenCostOptions(),
) -> str:
    """Allocate each cluster's node cost to its namespaces (OpenCost model); returns the table name.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Where ``node_costs`` can be read; the result is a temporary table on it.
    node_costs : str
        A table or view name, or a SELECT query, with ``month, currency, cluster, BilledCost,
        EffectiveCost`` (see the module docstring). Positive spend, credits negative (FOCUS).
    usage_csv : path
        Namespace usage CSV (columns in the module docstring).
    capacity_csv : path, optional
        Node capacity CSV; without it the usage CSV must carry the ``node_*`` capacity columns.
    base_prices, idle : optional
        Shortcuts that replace ``options.base_prices`` / ``options.idle``.
    options : OpenCostOptions
        All knobs.

    Returns
    -------
    str
        Name of the temporary table created (``options.table``); notes are in
        ``notes_table(name)``.

    Raises
    ------
    KubernetesInputError
        Listing every problem in the inputs (file, row, column, value). Nothing is created.

    Notes
    -----
    For every cluster, month, currency and metric, Σ rows = the node cost, to the last 1e-12.
    A cluster-month with a node cost and capacity but no usage rows becomes one ``__idle__`` line.
    A node cost of exactly zero with no capacity is skipped (a note says so).

    Examples
    --------
    The bundled illustrative sample (``finops_xl/data/kubernetes``), idle shared by weight:

    >>> from importlib import resources
    >>> sample = resources.files("finops_xl.data") / "kubernetes"
    >>> con = duckdb.connect()
    >>> nodes = (f"SELECT * FROM read_csv('{sample / 'node_costs.csv'}', "
    ...          "types={'BilledCost': 'DECIMAL(38,12)', 'EffectiveCost': 'DECIMAL(38,12)'})")
    >>> table = allocate_cluster_costs(con, nodes, sample / "namespace_usage.csv",
    ...                                capacity_csv=sample / "node_capacity.csv")
    >>> jan_ml = f"FROM {table} WHERE cluster = 'ml-gke' AND month = DATE '2025-01-01'"
    >>> con.execute(f"SELECT namespace, round(BilledCost, 2) {jan_ml}").fetchall()  # doctest: +NORMALIZE_WHITESPACE
    [('inference', Decimal('2695.15')), ('kube-system', Decimal('335.03')),
     ('notebooks', Decimal('466.78')), ('training', Decimal('6374.44'))]
    >>> con.execute(f"SELECT sum(BilledCost) {jan_ml}").fetchone()  # the node cost, exactly
    (Decimal('9871.400000000000'),)
    """
    if base_prices is not None:
        options = dataclasses.replace(options, base_prices=base_prices)
    if idle is not None:
        options = dataclasses.replace(options, idle=idle)
    run = _Run(con, options)
    try:
        run.inputs(node_costs, Path(usage_csv), None if capacity_csv is None else Path(capacity_csv))
        run.pools()
        run.workload()
        run.idle()
        run.lines()
    except BaseException:
        run.drop_steps()
        raise
    if not options.keep_steps:
        run.drop_steps()
    return options.table


# ---- the run ---------------------------------------------------------------------------------


class _Run:
    """One allocation: its step tables live on ``con`` under ``<table>__<step>``."""

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


# ---- largest remainder in SQL ------------------------------------------------------------------


def split_sql(source: str, *, group: Sequence[str], order: Sequence[str], total: str, weight: str) -> str:
    """A query splitting a total among items by weight, exactly, with the largest-remainder method.

    Parameters
    ----------
    source : str
        A relation (name or parenthesised query) with one row per item.
    group : sequence of str
        Columns naming the whole that is split (one split per distinct value).
    order : sequence of str
        Columns that break ties between equal remainders (ascending): deterministic.
    total : str
        Expression of the whole, DECIMAL(38,12), the same on every row of a group; |total| < 1e11.
    weight : str
        Expression of the item's weight, ≥ 0 (negative counts as 0).

    Returns
    -------
    str
        ``SELECT`` of every column of ``source`` plus ``amount DECIMAL(38,12)``, with Σ amount =
        total per group exactly. ``amount`` is NULL when a non-zero total has only zero weights.

    Notes
    -----
    In units of 1e-12: weights are scaled to integers of ``_WEIGHT_BITS`` bits relative to the
    group's largest (the split is exact for those integer weights, which differ from the given
    ones by at most 2⁻⁵⁰ relative); each part is ⌊|total| × wᵢ / Σw⌋ units; the units left over go
    one each to the largest remainders (ties by ``order``); a negative total is split as its
    absolute value and negated, so credits split like costs. All integer arithmetic is HUGEINT:
    |total| < 1e23 units and weights ≤ 2⁵⁰ keep every product below 2¹²⁷.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> items = "(SELECT * FROM (VALUES ('x', 'a', 1), ('x', 'b', 1), ('x', 'c', 1)) v(pool, name, w))"
    >>> sql = split_sql(items, group=["pool"], order=["name"], total="100", weight="w")
    >>> con.execute(f"SELECT name, amount FROM ({sql}) ORDER BY name").fetchall()  # doctest: +NORMALIZE_WHITESPACE
    [('a', Decimal('33.333333333334')), ('b', Decimal('33.333333333333')),
     ('c', Decimal('33.333333333333'))]
    """
    g = ", ".join(group)
    o = ", ".join(order)
    scale = float(2 ** _WEIGHT_BITS)
    return f"""
        WITH lr_in AS (
            SELECT *, CAST(CAST({total} AS {_MONEY}) * 1000000000000 AS HUGEINT) AS lr_total,
                   greatest(CAST({weight} AS DOUBLE), 0) AS lr_w
            FROM {source}
        ), lr_q AS (
            SELECT *, CASE WHEN lr_w > 0
                           THEN CAST(round(lr_w / max(lr_w) OVER lr_g * {scale}) AS HUGEINT)
                           ELSE CAST(0 AS HUGEINT) END AS lr_wq
            FROM lr_in WINDOW lr_g AS (PARTITION BY {g})
        ), lr_f AS (
            SELECT *, (abs(lr_total) * lr_wq) // nullif(sum(lr_wq) OVER lr_g, 0) AS lr_floor,
                      (abs(lr_total) * lr_wq) % nullif(sum(lr_wq) OVER lr_g, 0) AS lr_rem
            FROM lr_q WINDOW lr_g AS (PARTITION BY {g})
        ), lr_r AS (
            SELECT *, abs(lr_total) - sum(lr_floor) OVER (PARTITION BY {g}) AS lr_left,
                   row_number() OVER (PARTITION BY {g} ORDER BY lr_rem DESC, {o}) AS lr_rank
            FROM lr_f
        )
        SELECT * EXCLUDE (lr_total, lr_w, lr_wq, lr_floor, lr_rem, lr_left, lr_rank),
               CASE WHEN lr_total = 0 THEN CAST(0 AS {_MONEY})
                    ELSE CAST(CAST(sign(lr_total) * (lr_floor + CASE WHEN lr_rank <= lr_left THEN 1 ELSE 0 END)
                                   AS DECIMAL(38,0)) * 0.000000000001 AS {_MONEY}) END AS amount
        FROM lr_r"""


# ---- reading and validating ----------------------------------------------------------------------


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


def _read_csv(run: _Run, path: Path, label: str, step: str, kinds: dict[str, str]) -> list[Problem]:
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


def _embedded_capacity(run: _Run, label: str) -> list[Problem]:
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


def _node_cost_problems(run: _Run, node_costs: str) -> list[Problem]:
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


def _cross_problems(run: _Run, usage_label: str, capacity_label: str) -> list[Problem]:
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
