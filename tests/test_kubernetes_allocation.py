"""Kubernetes namespace costs (OpenCost model): the spec's worked example, hand-derived splits,
conservation after every step (hypothesis), largest remainder, and bad inputs."""

from __future__ import annotations

import datetime as dt
import doctest
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops_xl.allocation import kubernetes
from finops_xl.allocation.kubernetes import (
    IDLE,
    IDLE_MODES,
    BasePrices,
    KubernetesInputError,
    OpenCostOptions,
    allocate_cluster_costs,
    notes_table,
    split_sql,
)
from finops_xl.allocation.split import largest_remainder
from tests.conftest import write_csv_rows

D = Decimal
SAMPLE = Path(__file__).parent.parent / "finops_xl" / "data" / "kubernetes"
USAGE_HEADER = ["cluster", "namespace", "month", "hours", "cpu_request", "cpu_usage",
                "memory_request_gib", "memory_usage_gib", "gpu_request", "gpu_usage"]
CAPACITY_HEADER = ["cluster", "month", "hours", "cpu_cores", "memory_gib", "gpu_count"]
KEEP = OpenCostOptions(keep_steps=True)


def node_table(con, rows, name="node_costs"):
    """rows: (month 'YYYY-MM-DD', currency, cluster, BilledCost, EffectiveCost)."""
    con.execute(f"CREATE OR REPLACE TABLE {name} (month DATE, currency VARCHAR, cluster VARCHAR, "
                "BilledCost DECIMAL(38,12), EffectiveCost DECIMAL(38,12))")
    con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?)", [list(r) for r in rows])
    return name


def lines(con, table):
    """{(cluster, namespace): row dict} of the result table."""
    cur = con.execute(f"SELECT * FROM {table}")
    names = [d[0] for d in cur.description]
    return {(r["cluster"], r["namespace"]): r for r in (dict(zip(names, row)) for row in cur.fetchall())}


def assert_conserved(con, table="k8s_namespace_costs", expected=None):
    """Totals after every step (needs keep_steps=True): Σ pools = node cost; Σ workload + idle =
    pool; Σ idle shares = idle; Σ lines = node cost — exactly, per metric. ``expected``:
    {(month, currency, cluster): (BilledCost, EffectiveCost)} computed outside the code under test."""
    def t(step):
        return f"{table}__{step}"

    nodes = {(m, c, k, "BilledCost"): b for m, c, k, b, _ in con.execute(f"SELECT * FROM {t('nodes')}").fetchall()}
    nodes |= {(m, c, k, "EffectiveCost"): e for m, c, k, _, e in con.execute(f"SELECT * FROM {t('nodes')}").fetchall()}
    if expected is not None:
        assert {(m, c, k): (nodes[(m, c, k, "BilledCost")], nodes[(m, c, k, "EffectiveCost")])
                for m, c, k, _ in nodes} == expected
    # step 2: Σ pools = node cost
    pools = con.execute(f"SELECT month, currency, cluster, metric, sum(amount) FROM {t('pools')} GROUP BY ALL").fetchall()
    for m, c, k, metric, total in pools:
        assert total == nodes[(m, c, k, metric)]
    # step 3: Σ namespaces + idle = pool
    assert con.execute(f"""
        SELECT count(*) FROM {t('pools')} p
        JOIN (SELECT month, currency, cluster, metric, resource, sum(amount) AS s FROM {t('workload')} GROUP BY ALL) w
        USING (month, currency, cluster, metric, resource) WHERE w.s <> p.amount OR p.amount IS NULL""").fetchone()[0] == 0
    assert con.execute(f"SELECT count(*) FROM {t('pools')}").fetchone()[0] == con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT month, currency, cluster, metric, resource FROM {t('workload')})").fetchone()[0]
    # step 4: Σ idle shares = idle, where shared
    assert con.execute(f"""
        SELECT count(*) FROM (SELECT month, currency, cluster, metric, sum(amount) AS s FROM {t('idle')} GROUP BY ALL) i
        JOIN (SELECT month, currency, cluster, metric, sum(amount) AS idle FROM {t('workload')}
              WHERE namespace = '{IDLE}' GROUP BY ALL) w USING (month, currency, cluster, metric)
        WHERE i.s <> w.idle OR i.s IS NULL""").fetchone()[0] == 0
    # step 5: Σ lines = node cost; each line = its parts
    out = {}
    for m, c, k, b, e in con.execute(f"SELECT month, currency, cluster, sum(BilledCost), sum(EffectiveCost) FROM {table} GROUP BY ALL").fetchall():
        out[(m, c, k, "BilledCost")], out[(m, c, k, "EffectiveCost")] = b, e
    assert out == {key: v for key, v in nodes.items() if key[:3] in {p[:3] for p in pools}}
    for metric in ("BilledCost", "EffectiveCost"):
        assert con.execute(f"""SELECT count(*) FROM {table} WHERE {metric} IS NULL OR {metric} <>
            cpu_{metric} + memory_{metric} + gpu_{metric} + shared_idle_{metric}""").fetchone()[0] == 0


def test_docstring_examples_run():
    result = doctest.testmod(kubernetes)
    assert result.attempted >= 9 and result.failed == 0


# ---- the OpenCost specification's worked example -------------------------------------------------


@pytest.mark.parametrize("hours", [1, 720])
@pytest.mark.parametrize("sign", [1, -1])
def test_opencost_spec_worked_example(tmp_path, hours, sign):
    """OpenCost specification v0.1 (github.com/opencost/opencost, spec/opencost-specv01.md,
    Appendix A): "you have provisioned a node with 1 GPU, 1 CPU and 1 GB of RAM that costs $35/mo.
    If your base GPU price is $30, base CPU price is $30, and RAM GB price is $10 [...] then these
    inputs will be normalized to $15 for GPU, $15 for CPU and $5 for RAM so that the sum equals the
    cost of the node."

    Our base prices are per unit-hour; normalization uses only their ratio (30 : 30 : 10 × the same
    hours), so the split is the same for a 1-hour period and a 720-hour month (the spec's "GB" is
    our GiB: one unit of memory either way). A credit (−$35)
    splits the same way, negated. With no namespace, everything is idle on ``__idle__``."""
    con = duckdb.connect()
    node_table(con, [("2025-01-01", "USD", "n1", D(35) * sign, D(35) * sign)])
    usage = write_csv_rows(tmp_path / "usage.csv", USAGE_HEADER, [])
    capacity = write_csv_rows(tmp_path / "capacity.csv", CAPACITY_HEADER, [["n1", "2025-01", hours, 1, 1, 1]])
    prices = BasePrices(cpu_core_hour=D(30), memory_gib_hour=D(10), gpu_hour=D(30))
    table = allocate_cluster_costs(con, "node_costs", usage, capacity_csv=capacity, base_prices=prices,
                                   idle="none", options=KEEP)
    pools = dict(con.execute("SELECT resource, amount FROM k8s_namespace_costs__pools WHERE metric = 'BilledCost'").fetchall())
    assert pools == {"gpu": D(15) * sign, "cpu": D(15) * sign, "memory": D(5) * sign}
    idle = lines(con, table)[("n1", IDLE)]
    assert (idle["gpu_BilledCost"], idle["cpu_BilledCost"], idle["memory_BilledCost"]) == (D(15) * sign, D(15) * sign, D(5) * sign)
    assert idle["BilledCost"] == idle["EffectiveCost"] == D(35) * sign
    assert (idle["cpu_core_hours"], idle["memory_gib_hours"], idle["gpu_hours"]) == (hours, hours, hours)
    assert con.execute(f"SELECT kind FROM {notes_table(table)}").fetchall() == [("no_usage",)]
    assert_conserved(con)


def test_spec_example_with_a_namespace_reserving_the_whole_node(tmp_path):
    """Same node ($35; base 30/30/10); one namespace requests the whole node for all 720 hours: it
    pays the normalized prices, $15 + $15 + $5 = $35, and idle is 0."""
    con = duckdb.connect()
    node_table(con, [("2025-01-01", "USD", "n1", D(35), D(35))])
    usage = write_csv_rows(tmp_path / "usage.csv", USAGE_HEADER, [["n1", "ml", "2025-01", 720, 1, 0.5, 1, 0.25, 1, 1]])
    capacity = write_csv_rows(tmp_path / "capacity.csv", CAPACITY_HEADER, [["n1", "2025-01", 720, 1, 1, 1]])
    prices = BasePrices(cpu_core_hour=D(30), memory_gib_hour=D(10), gpu_hour=D(30))
    for mode in IDLE_MODES:
        table = allocate_cluster_costs(con, "node_costs", usage, capacity_csv=capacity, base_prices=prices,
                                       idle=mode, options=KEEP)
        ml = lines(con, table)[("n1", "ml")]
        assert (ml["gpu_BilledCost"], ml["cpu_BilledCost"], ml["memory_BilledCost"], ml["BilledCost"]) == (15, 15, 5, 35)
        assert ml["share"] == pytest.approx(1.0)
        assert_conserved(con)


# ---- a hand-derived two-namespace example -------------------------------------------------------

TWO_NS_USAGE = [
    ["prod", "api", "2025-01", 100, 2, 1.5, 4, 6, 0, 0],        # cpu max(2, 1.5) = 2; mem max(4, 6) = 6
    ["prod", "batch", "2025-01-15", 50, 1, 2, 8, 2, 0, 0],      # cpu max(1, 2) = 2; mem max(8, 2) = 8
]
TWO_NS_PRICES = BasePrices(cpu_core_hour=D("0.03"), memory_gib_hour=D("0.005"), gpu_hour=D(1))

# Capacity: 100 h × 4 cores = 400 core-h; 100 h × 16 GiB = 1,600 GiB-h; no GPU.
# Pools ∝ base price × capacity: CPU 0.03 × 400 = 12, memory 0.005 × 1,600 = 8 (GPU 0) →
#   BilledCost 100 → CPU 60, memory 40;   EffectiveCost 80 → CPU 48, memory 32.
# Unit prices (pool ÷ capacity): CPU 60/400 = 0.15 per core-h, memory 40/1,600 = 0.025 per GiB-h.
# api: CPU 100 h × 2 = 200 core-h → 30; memory 100 h × 6 = 600 GiB-h → 15; workload 45.
# batch: CPU 50 h × 2 = 100 core-h → 15; memory 50 h × 8 = 400 GiB-h → 10; workload 25.
# idle: CPU 400 − 300 = 100 core-h → 15; memory 1,600 − 1,000 = 600 GiB-h → 15; idle 30.
# Check: 45 + 25 + 30 = 100. EffectiveCost is × 0.8: api 36, batch 20, idle 24.
TWO_NS_EXPECTED = {
    # idle="none": idle kept on __idle__
    "none": {"api": ("45", "36"), "batch": ("25", "20"), IDLE: ("30", "24")},
    # idle="even": 30 / 2 = 15 each (24 / 2 = 12): api 60 (48), batch 40 (32)
    "even": {"api": ("60", "48"), "batch": ("40", "32")},
    # idle="weighted", ∝ workload 45 : 25 = 9 : 5.  BilledCost idle 30: api 30 × 9/14 =
    # 19.2857142857142857…, batch 30 × 5/14 = 10.7142857142857142…; at 1e-12 both round down
    # (19.285714285714 + 10.714285714285 = 29.999999999999); the one unit left goes to the larger
    # remainder (batch, .714… > .285…): batch 10.714285714286.  api 45 + 19.285714285714,
    # batch 25 + 10.714285714286.  EffectiveCost idle 24: api 24 × 9/14 = 15.428571428571428…,
    # batch 24 × 5/14 = 8.571428571428571…; the unit goes to batch (.571… > .428…).
    "weighted": {"api": ("64.285714285714", "51.428571428571"),
                 "batch": ("35.714285714286", "28.571428571429")},
}


def _two_ns_inputs(tmp_path, embedded=False):
    if embedded:
        header = USAGE_HEADER + ["node_hours", "node_cpu_cores", "node_memory_gib", "node_gpu_count"]
        usage = write_csv_rows(tmp_path / "usage_embedded.csv", header, [r + [100, 4, 16, 0] for r in TWO_NS_USAGE])
        return usage, None
    usage = write_csv_rows(tmp_path / "usage.csv", USAGE_HEADER, TWO_NS_USAGE)
    capacity = write_csv_rows(tmp_path / "capacity.csv", CAPACITY_HEADER, [["prod", "2025-01", 100, 4, 16, 0]])
    return usage, capacity


@pytest.mark.parametrize("embedded", [False, True], ids=["capacity-csv", "node-columns"])
@pytest.mark.parametrize("mode", IDLE_MODES)
def test_two_namespaces_hand_derived(tmp_path, mode, embedded):
    con = duckdb.connect()
    node_table(con, [("2025-01-01", "USD", "prod", D(100), D(80))])
    usage, capacity = _two_ns_inputs(tmp_path, embedded)
    table = allocate_cluster_costs(con, "node_costs", usage, capacity_csv=capacity, base_prices=TWO_NS_PRICES,
                                   idle=mode, options=KEEP)
    got = {ns: (r["BilledCost"], r["EffectiveCost"]) for (_, ns), r in lines(con, table).items()}
    assert got == {ns: (D(b), D(e)) for ns, (b, e) in TWO_NS_EXPECTED[mode].items()}
    rows = lines(con, table)
    api, batch = rows[("prod", "api")], rows[("prod", "batch")]
    assert (api["cpu_core_hours"], api["memory_gib_hours"], batch["cpu_core_hours"], batch["memory_gib_hours"]) == (200, 600, 100, 400)
    assert (api["cpu_BilledCost"], api["memory_BilledCost"], batch["cpu_BilledCost"], batch["memory_BilledCost"]) == (30, 15, 15, 10)
    assert api["method"] == "opencost" and api["month"].isoformat() == "2025-01-01"
    if mode == "none":
        idle = rows[("prod", IDLE)]
        assert (idle["cpu_BilledCost"], idle["memory_BilledCost"], idle["cpu_core_hours"], idle["memory_gib_hours"]) == (15, 15, 100, 600)
        assert (api["share"], batch["share"], idle["share"]) == pytest.approx((0.45, 0.25, 0.30))
    elif mode == "weighted":
        assert (api["idle_share"], batch["idle_share"]) == pytest.approx((9 / 14, 5 / 14))
        assert api["shared_idle_BilledCost"] == D("19.285714285714")
    else:
        assert (api["share"], batch["share"]) == pytest.approx((0.6, 0.4))
    assert con.execute(f"SELECT count(*) FROM {notes_table(table)}").fetchone()[0] == 0
    assert_conserved(con, expected={(api["month"], "USD", "prod"): (D(100), D(80))})


def test_step_tables_are_dropped_unless_kept(tmp_path):
    con = duckdb.connect()
    node_table(con, [("2025-01-01", "USD", "prod", D(100), D(80))])
    usage, capacity = _two_ns_inputs(tmp_path)
    table = allocate_cluster_costs(con, "node_costs", usage, capacity_csv=capacity,
                                   options=OpenCostOptions(table="k8s"))
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    assert table == "k8s" and names == {"k8s", "k8s_notes"}


def test_over_capacity_scales_namespaces_down_and_is_reported(tmp_path):
    """Capacity 10 h × 10 cores = 100 core-h; a and b each need 10 h × 10 = 100 core-h (200 in all),
    so CPU has no idle and the CPU pool (the whole $10: memory and GPU are priced 0) is shared
    100 : 100 → $5 each, i.e. each is scaled by 100/200 = 0.5."""
    con = duckdb.connect()
    node_table(con, [("2025-03-01", "EUR", "c", D(10), D(10))])
    usage = write_csv_rows(tmp_path / "u.csv", USAGE_HEADER, [
        ["c", "a", "2025-03", 10, 10, 0, 1, 1, 0, 0], ["c", "b", "2025-03", 10, 0, 10, 1, 1, 0, 0]])
    capacity = write_csv_rows(tmp_path / "c.csv", CAPACITY_HEADER, [["c", "2025-03", 10, 10, 64, 0]])
    prices = BasePrices(cpu_core_hour=D(1), memory_gib_hour=D(0), gpu_hour=D(0))
    table = allocate_cluster_costs(con, "node_costs", usage, capacity_csv=capacity, base_prices=prices,
                                   idle="none", options=KEEP)
    rows = lines(con, table)
    assert rows[("c", "a")]["BilledCost"] == rows[("c", "b")]["BilledCost"] == D(5)
    assert rows[("c", IDLE)]["BilledCost"] == 0
    notes = con.execute(f"SELECT resource, kind, message FROM {notes_table(table)}").fetchall()
    assert [(r, k) for r, k, _ in notes] == [("cpu", "over_capacity")]
    assert "200.00 core-hours" in notes[0][2] and "100.00" in notes[0][2] and "0.5000" in notes[0][2]
    assert_conserved(con)


def test_weighted_idle_falls_back_to_even_and_idle_without_namespaces_is_kept(tmp_path):
    """x: two namespaces ran (hours > 0) but requested and used nothing: weighted idle has no
    weights, so the $9 is shared evenly, 4.50 each. y: no usage rows at all: its $7 stays idle."""
    con = duckdb.connect()
    node_table(con, [("2025-01-01", "USD", "x", D(9), D(9)), ("2025-01-01", "USD", "y", D(7), D(7))])
    usage = write_csv_rows(tmp_path / "u.csv", USAGE_HEADER, [
        ["x", "n1", "2025-01", 5, 0, 0, 0, 0, 0, 0], ["x", "n2", "2025-01", 5, 0, 0, 0, 0, 0, 0]])
    capacity = write_csv_rows(tmp_path / "c.csv", CAPACITY_HEADER, [
        ["x", "2025-01", 10, 2, 8, 0], ["y", "2025-01", 10, 2, 8, 0]])
    table = allocate_cluster_costs(con, "node_costs", usage, capacity_csv=capacity, idle="weighted", options=KEEP)
    rows = lines(con, table)
    assert {k: r["BilledCost"] for k, r in rows.items()} == {("x", "n1"): D("4.5"), ("x", "n2"): D("4.5"), ("y", IDLE): D(7)}
    kinds = {(c, k) for c, k in con.execute(f"SELECT cluster, kind FROM {notes_table(table)}").fetchall()}
    assert kinds == {("x", "idle_shared_evenly"), ("y", "no_usage")}
    assert_conserved(con)


def test_daily_rows_are_summed_as_resource_hours(tmp_path):
    """Two daily rows for one namespace: 24 h × max(1, 3) + 24 h × max(2, 0) = 72 + 48 = 120 core-h."""
    con = duckdb.connect()
    node_table(con, [("2025-01-01", "USD", "c", D(1), D(1))])
    usage = write_csv_rows(tmp_path / "u.csv", USAGE_HEADER, [
        ["c", "a", "2025-01-01", 24, 1, 3, 0, 0, 0, 0], ["c", "a", "2025-01-02", 24, 2, 0, 0, 0, 0, 0]])
    capacity = write_csv_rows(tmp_path / "c.csv", CAPACITY_HEADER, [["c", "2025-01", 48, 4, 0, 0]])
    table = allocate_cluster_costs(con, "node_costs", usage, capacity_csv=capacity, idle="none")
    rows = lines(con, table)
    assert rows[("c", "a")]["cpu_core_hours"] == 120
    # 120 of 192 core-h; the whole node cost is CPU (memory and GPU capacity 0): 1 × 120/192 = 0.625
    assert rows[("c", "a")]["BilledCost"] == D("0.625") and rows[("c", IDLE)]["BilledCost"] == D("0.375")


def test_bundled_sample_allocates_and_ties_out():
    """The generated sample in finops_xl/data/kubernetes, node costs given as a query."""
    con = duckdb.connect()
    query = (f"SELECT * FROM read_csv('{SAMPLE / 'node_costs.csv'}', "
             "types={'BilledCost': 'DECIMAL(38,12)', 'EffectiveCost': 'DECIMAL(38,12)'})")
    expected = {}
    for m, cur, c, b, e in con.execute(query).fetchall():
        expected[(m, cur, c)] = (b, e)
    for mode in IDLE_MODES:
        table = allocate_cluster_costs(con, query, SAMPLE / "namespace_usage.csv",
                                       capacity_csv=SAMPLE / "node_capacity.csv", idle=mode, options=KEEP)
        assert_conserved(con, table, expected=expected)
        n = con.execute(f"SELECT count(*), count(DISTINCT cluster) FROM {table} WHERE namespace <> '{IDLE}'").fetchone()
        assert n == (18, 2)
        shares = con.execute(f"SELECT sum(share) FROM {table} GROUP BY month, cluster").fetchall()
        assert all(s == pytest.approx(1.0) for (s,) in shares)


# ---- conservation on random inputs ----------------------------------------------------------------

money = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=12, allow_nan=False)
qty = st.decimals(min_value=D(0), max_value=D(64), places=3, allow_nan=False)
usage_row = st.tuples(st.sampled_from(["c1", "c2"]), st.sampled_from(["a", "b", "kube-system", "z"]),
                      st.sampled_from(["2025-01", "2025-02-03"]), st.sampled_from([0, 1, 24, 744]),
                      qty, qty, qty, qty, qty, qty)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(costs=st.lists(st.tuples(money, money), min_size=4, max_size=4),
       currencies=st.sampled_from([("USD",), ("USD", "EUR")]),
       usage=st.lists(usage_row, max_size=10),
       capacity=st.lists(st.tuples(st.decimals(min_value=D("0.5"), max_value=D(100), places=2), qty, qty),
                         min_size=4, max_size=4),
       mode=st.sampled_from(IDLE_MODES))
def test_parts_sum_to_the_node_cost_exactly(tmp_path_factory, costs, currencies, usage, capacity, mode):
    """Any usage (over capacity too), any costs (credits too), any idle mode: Σ lines == node cost
    exactly, for BilledCost and EffectiveCost, and after every step."""
    work = tmp_path_factory.mktemp("k8s")
    keys = [(c, m) for c in ("c1", "c2") for m in ("2025-01-01", "2025-02-01")]
    con = duckdb.connect()
    nodes = [(m, cur, c, b, e) for (c, m), (b, e) in zip(keys, costs) for cur in currencies]
    node_table(con, nodes)
    usage_csv = write_csv_rows(work / "u.csv", USAGE_HEADER, [[str(v) for v in r] for r in usage])
    capacity_csv = write_csv_rows(work / "c.csv", CAPACITY_HEADER, [
        [c, m[:7], 744, cpu, mem, gpu] for (c, m), (cpu, mem, gpu) in zip(keys, capacity)])
    table = allocate_cluster_costs(con, "node_costs", usage_csv, capacity_csv=capacity_csv, idle=mode, options=KEEP)
    expected = {(dt.date.fromisoformat(m), cur, c): (b, e) for m, cur, c, b, e in nodes}
    assert_conserved(con, table, expected=expected)
    sums = con.execute(f"SELECT sum(BilledCost), sum(EffectiveCost) FROM {table}").fetchone()
    assert sums == (sum(b for *_, b, _ in nodes), sum(e for *_, e in nodes))
    if mode == "none":
        assert con.execute(f"SELECT count(*) FROM {table} WHERE namespace = '{IDLE}'").fetchone()[0] == len(nodes)
    else:  # idle is shared wherever a namespace ran
        assert con.execute(f"""SELECT count(*) FROM {table} i WHERE namespace = '{IDLE}' AND EXISTS (
            SELECT 1 FROM {table}__usage u WHERE u.month = i.month AND u.cluster = i.cluster AND u.hours > 0)""").fetchone()[0] == 0


# ---- largest remainder (split.py and the SQL split) -------------------------------------------

@pytest.mark.parametrize("total,weights,quantum,expected", [
    # 100.00 / 3 = 33.333…: 33.33 × 3 = 99.99, one cent left, remainders tie → first weight
    ("100.00", [1, 1, 1], "0.01", ["33.34", "33.33", "33.33"]),
    # credits split as their absolute value, negated
    ("-100.00", [1, 1, 1], "0.01", ["-33.34", "-33.33", "-33.33"]),
    # 1.00 × 0/3, 1/3, 2/3 = 0, 0.333…, 0.666…: floors 0 + 0.33 + 0.66 = 0.99; the cent → .666…
    ("1.00", [0, 1, 2], "0.01", ["0.00", "0.33", "0.67"]),
    # 10 × 1/4, 3/4 = 2.5, 7.5: floors 2 + 7 = 9; remainders tie at .5 → earlier index
    ("10", [1, 3], "1", ["3", "7"]),
    # 0.01 in two equal halves: 0.005 each → 0.00 + 0.00, the cent to the first
    ("0.01", [1, 1], "0.01", ["0.01", "0.00"]),
    # exact shares stay exact: 35 × 30/70, 30/70, 10/70 = 15, 15, 5 (the OpenCost example)
    ("35", [30, 30, 10], "0.000000000001", ["15", "15", "5"]),
])
def test_largest_remainder_hand_derived(total, weights, quantum, expected):
    parts = largest_remainder(D(total), [D(w) for w in weights], D(quantum))
    assert parts == [D(x) for x in expected]
    assert sum(parts) == D(total)


def test_largest_remainder_rejects_zero_and_negative_weights():
    with pytest.raises(ValueError, match="weights sum to zero"):
        largest_remainder(D("1.00"), [D(0), D(0)], D("0.01"))
    with pytest.raises(ValueError, match="negative"):
        largest_remainder(D("1.00"), [D(1), D(-1)], D("0.01"))


def _sql_split(total, weights):
    con = duckdb.connect()
    con.execute("CREATE TABLE items (g INTEGER, name VARCHAR, total DECIMAL(38,12), w DOUBLE)")
    con.executemany("INSERT INTO items VALUES (1, ?, ?, ?)", [[f"n{i:02d}", total, float(w)] for i, w in enumerate(weights)])
    sql = split_sql("items", group=("g",), order=("name",), total="total", weight="w")
    return [a for _, a in con.execute(f"SELECT name, amount FROM ({sql}) ORDER BY name").fetchall()]


def test_sql_split_hand_derived():
    """At 1e-12: 100 / 3 = 33.333333333333|33…: three floors leave one unit → the first name."""
    assert _sql_split(D(100), [1, 1, 1]) == [D("33.333333333334"), D("33.333333333333"), D("33.333333333333")]
    assert _sql_split(D(-100), [1, 1, 1]) == [D("-33.333333333334"), D("-33.333333333333"), D("-33.333333333333")]
    assert _sql_split(D(35), [30, 10, 30]) == [D(15), D(5), D(15)]
    assert _sql_split(D(0), [0, 0]) == [D(0), D(0)]
    assert _sql_split(D(1), [0, 0]) == [None, None]  # nothing to split by: flagged, not invented


@settings(max_examples=60, deadline=None)
@given(total=st.decimals(min_value=D(-1), max_value=D(1), places=12, allow_nan=False),
       weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=8).filter(any))
def test_sql_split_sums_exactly_and_each_part_is_within_one_unit(total, weights):
    """Σ parts = total; each part is within one 1e-12 unit of its exact share total × wᵢ / Σw."""
    parts = _sql_split(total, weights)
    assert sum(parts) == total
    unit = Fraction(1, 10**12)
    for part, w in zip(parts, weights):
        assert abs(Fraction(part) - Fraction(total) * w / sum(weights)) < unit


# ---- bad input ----------------------------------------------------------------------------------

ONE_NODE = (("2025-01-01", "USD", "c", D(1), D(1)),)


def _err(tmp_path, usage_rows, *, header=USAGE_HEADER, capacity_rows=(("c", "2025-01", 10, 1, 1, 0),),
         capacity_header=CAPACITY_HEADER, nodes=ONE_NODE, node_costs=None):
    con = duckdb.connect()
    node_table(con, nodes)
    usage = write_csv_rows(tmp_path / "usage.csv", header, [list(map(str, r)) for r in usage_rows])
    capacity = None
    if capacity_rows is not None:
        capacity = write_csv_rows(tmp_path / "capacity.csv", capacity_header, [list(map(str, r)) for r in capacity_rows])
    with pytest.raises(KubernetesInputError) as exc:
        allocate_cluster_costs(con, node_costs or "node_costs", usage, capacity_csv=capacity)
    leftovers = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    assert leftovers == []  # nothing was created
    return str(exc.value), exc.value.problems


GOOD = ["c", "a", "2025-01", 10, 1, 1, 1, 1, 0, 0]


def test_missing_column_names_file_and_column(tmp_path):
    msg, problems = _err(tmp_path, [GOOD[:-1]], header=USAGE_HEADER[:-1])
    assert "usage.csv, column gpu_usage: missing column 'gpu_usage'" in msg
    assert [(p.column, p.row) for p in problems] == [("gpu_usage", None)]


@pytest.mark.parametrize("column,value,message", [
    ("cpu_request", "-1", "is negative"),
    ("memory_usage_gib", "lots", "is not a number"),
    ("gpu_request", "", "is empty (write 0 for none)"),
    ("month", "Jan 2025", "is not a month"),
    ("cluster", " ", "is empty"),
    ("namespace", IDLE, "is a reserved name"),
])
def test_bad_value_names_file_row_and_column(tmp_path, column, value, message):
    bad = list(GOOD)
    bad[USAGE_HEADER.index(column)] = value
    msg, problems = _err(tmp_path, [GOOD, bad, bad])
    assert len(problems) == 1
    p = problems[0]
    assert (p.row, p.column, p.count) == (2, column, 2) and p.file.endswith("usage.csv")
    assert f"usage.csv, row 2, column {column}: {message}" in msg


def test_usage_without_node_cost(tmp_path):
    other = ["elsewhere"] + GOOD[1:]
    msg, problems = _err(tmp_path, [GOOD, other], capacity_rows=[("c", "2025-01", 10, 1, 1, 0), ("elsewhere", "2025-01", 10, 1, 1, 0)])
    assert "usage.csv, row 2, column cluster: no node cost for cluster 'elsewhere' in 2025-01" in msg
    assert problems[0].value == "elsewhere"


def test_node_cost_without_capacity(tmp_path):
    msg, _ = _err(tmp_path, [GOOD], capacity_rows=[("c", "2025-02", 10, 1, 1, 0)])
    assert "capacity.csv: no capacity for cluster 'c' in 2025-01, which has a node cost and 1 usage row(s)" in msg


def test_capacity_that_prices_to_zero(tmp_path):
    msg, _ = _err(tmp_path, [GOOD], capacity_rows=[("c", "2025-01", 10, 0, 0, 0)])
    assert "capacity.csv, row 1: capacity × base price is zero for CPU, memory and GPU" in msg


def test_capacity_file_errors(tmp_path):
    msg, _ = _err(tmp_path, [GOOD], capacity_rows=[("c", "2025-01", 10, "x", 1, 0)])
    assert "capacity.csv, row 1, column cpu_cores: is not a number (value 'x')" in msg
    msg, _ = _err(tmp_path, [GOOD], capacity_header=CAPACITY_HEADER[:4] + ["mem"] + CAPACITY_HEADER[5:])
    assert "capacity.csv, column memory_gib: missing column" in msg


def test_embedded_capacity_must_agree_within_a_cluster_month(tmp_path):
    header = USAGE_HEADER + ["node_hours", "node_cpu_cores", "node_memory_gib", "node_gpu_count"]
    rows = [GOOD + [10, 4, 16, 0], ["c", "b"] + GOOD[2:] + [10, 8, 16, 0]]
    msg, problems = _err(tmp_path, rows, header=header, capacity_rows=None)
    assert [(p.row, p.column) for p in problems] == [(2, "node_cpu_cores")]
    assert "usage.csv, row 2, column node_cpu_cores: capacity columns must be the same on every row" in msg
    msg, _ = _err(tmp_path, [GOOD], capacity_rows=None)  # no capacity file and no node_* columns
    assert "column node_hours: missing column" in msg


def test_node_costs_errors_name_the_argument(tmp_path):
    msg, _ = _err(tmp_path, [GOOD], node_costs="SELECT month, currency, cluster, BilledCost FROM node_costs")
    assert "node_costs, column EffectiveCost: missing column" in msg
    msg, _ = _err(tmp_path, [GOOD], node_costs="no_such_table")
    assert "node_costs: cannot be read" in msg
    msg, _ = _err(tmp_path, [GOOD], nodes=[("2025-01-01", "USD", "c", D("2e11"), D(1))])
    assert "must cost less than 100,000,000,000" in msg


def test_missing_and_empty_files(tmp_path):
    con = duckdb.connect()
    node_table(con, [("2025-01-01", "USD", "c", D(1), D(1))])
    with pytest.raises(KubernetesInputError, match="nope.csv: no such file"):
        allocate_cluster_costs(con, "node_costs", tmp_path / "nope.csv", capacity_csv=tmp_path / "nope2.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(KubernetesInputError, match=r"empty.csv: file is empty"):
        allocate_cluster_costs(con, "node_costs", tmp_path / "empty.csv")


def test_bad_options():
    with pytest.raises(ValueError, match="idle must be one of"):
        OpenCostOptions(idle="proportional")
    with pytest.raises(ValueError, match=r"base_prices.gpu_hour must be a finite number ≥ 0"):
        BasePrices(gpu_hour=D(-1))
    with pytest.raises(ValueError, match="all zero"):
        BasePrices(D(0), D(0), D(0))
    with pytest.raises(ValueError, match="plain SQL name"):
        OpenCostOptions(table="x; DROP TABLE y")
