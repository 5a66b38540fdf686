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

The options, names and errors are in ``kubernetes_options``; step 1's readers and checks in
``kubernetes_inputs``; the steps themselves in ``kubernetes_steps``; the exact split in SQL is
``split.split_sql``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import duckdb

from finops_xl.allocation.kubernetes_options import (
    CAPACITY_COLUMNS, EMBEDDED_CAPACITY_COLUMNS, IDLE, IDLE_EVEN, IDLE_MODES, IDLE_NONE, IDLE_WEIGHTED,
    MAX_ABS_COST, METHOD, METRICS, NODE_COST_COLUMNS, RESOURCES, USAGE_COLUMNS, BasePrices,
    KubernetesInputError, OpenCostOptions, notes_table)
from finops_xl.allocation.kubernetes_steps import _Run
from finops_xl.allocation.split import split_sql

__all__ = [
    "allocate_cluster_costs", "split_sql", "notes_table", "BasePrices", "OpenCostOptions",
    "KubernetesInputError", "IDLE", "METHOD", "IDLE_WEIGHTED", "IDLE_EVEN", "IDLE_NONE", "IDLE_MODES",
    "RESOURCES", "METRICS", "MAX_ABS_COST", "USAGE_COLUMNS", "CAPACITY_COLUMNS", "EMBEDDED_CAPACITY_COLUMNS",
    "NODE_COST_COLUMNS",
]

#: Docstring examples of the parts, run with this module's (``doctest.testmod(kubernetes)``).
__test__ = {"split_sql": split_sql}


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
