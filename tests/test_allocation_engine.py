"""The allocation engine: hand-derived splits, conservation (hypothesis), traceability, coverage."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from finops_xl.allocation.engine import allocate
from finops_xl.allocation.rules import load_rules, rules_from_dict
from finops_xl.allocation.showback import coverage, round_parts, statements
from finops_xl.allocation.split import largest_remainder
from finops_xl.data import allocation_rules, focus_sample_csv
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import read_csv_rows, sample_store, write_csv_rows

HEADER, SAMPLE = read_csv_rows(focus_sample_csv())
BASE = dict(zip(HEADER, SAMPLE[0]))


def charge(month: str = "2025-01", **fields) -> list[str]:
    """One FOCUS 1.0 row: the sample's first row with the given fields replaced."""
    row = dict(BASE, BillingAccountId="B1", ProviderName="AWS", ChargeCategory="Usage",
               BillingPeriodStart=f"{month}-01 00:00:00", BillingPeriodEnd=_next(month),
               ChargePeriodStart=f"{month}-05 00:00:00", ChargePeriodEnd=f"{month}-05 01:00:00",
               ServiceCategory="Compute", ServiceName="EC2", SubAccountId="acct-x", Tags="NULL",
               CommitmentDiscountStatus="NULL", PricingCategory="Standard")
    for k, v in fields.items():
        row[k] = v
    return [row[h] for h in HEADER]


def _next(month: str) -> str:
    y, m = map(int, month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{y:04d}-{m:02d}-01 00:00:00"


def tags(**kv) -> str:
    return json.dumps(kv)


def money(b, e=None) -> dict:
    return {"BilledCost": str(b), "EffectiveCost": str(b if e is None else e)}


def store_with(tmp_path: Path, rows: list[list[str]]) -> Path:
    store = tmp_path / "finops-store"
    ingest([write_csv_rows(tmp_path / "in" / "charges.csv", HEADER, rows)], store)
    return store


RULES = {
    "owner": "team",
    "taxonomy": {"team": {"keys": ["team"]}},
    "pools": [
        {"id": "net", "filter": {"service_category": "Networking"}, "split": "proportional"},
        {"id": "support", "filter": {"service": "Support"}, "split": "fixed",
         "percentages": {"a": 50, "b": 50}},
        {"id": "untagged", "filter": {"owner": None}, "split": "even"},
    ],
}


def owner_totals(store: Path) -> dict[str, Decimal]:
    with CostStore(store).reader() as con:
        return {o: Decimal(v) for o, v in con.execute(
            "SELECT owner, sum(EffectiveCost) FROM allocated_charges GROUP BY 1").fetchall()}


def test_hand_derived_splits(tmp_path):
    """a: 60 direct, b: 40 direct; Networking 10 split 60:40 → 6 / 4; Support 9 split 50/50 →
    4.50 / 4.50; 5 of untagged compute split evenly → 2.50 / 2.50. Totals: a 73.00, b 51.00."""
    rows = [
        charge(Tags=tags(team="a"), **money(60)),
        charge(Tags=tags(team="b"), **money(40)),
        charge(ServiceCategory="Networking", ServiceName="VPC", Tags=tags(team="a"), **money(10)),
        charge(ServiceName="Support", ChargeCategory="Purchase", **money(9)),
        charge(**money(5)),
    ]
    store = store_with(tmp_path, rows)
    report = allocate(store, rules_from_dict(RULES))
    assert owner_totals(store) == {"a": Decimal(73), "b": Decimal(51)}
    (cov,) = report.coverage
    assert cov.direct == Decimal(100) / 124 and cov.unallocated == 0
    with CostStore(store).reader() as con:
        lines = {(o, k, p): Decimal(v) for o, k, p, v in con.execute(
            "SELECT owner, kind, coalesce(pool_id, method), sum(EffectiveCost) FROM allocated_charges GROUP BY ALL"
        ).fetchall()}
    assert lines == {("a", "direct", "tag"): 60, ("b", "direct", "tag"): 40,
                     ("a", "shared", "net"): 6, ("b", "shared", "net"): 4,
                     ("a", "shared", "support"): Decimal("4.5"), ("b", "shared", "support"): Decimal("4.5"),
                     ("a", "shared", "untagged"): Decimal("2.5"), ("b", "shared", "untagged"): Decimal("2.5")}


def test_thirds_are_penny_exact_and_rounding_is_a_named_line(tmp_path):
    rows = [charge(Tags=tags(team=t), **money(1)) for t in "abc"] + [charge(**money(100))]
    store = store_with(tmp_path, rows)
    allocate(store, rules_from_dict({**RULES, "pools": [RULES["pools"][2]]}))
    totals = owner_totals(store)
    assert sum(totals.values()) == Decimal(103)
    assert sorted(totals.values()) == [Decimal("34.333333333333")] * 2 + [Decimal("34.333333333334")]
    with CostStore(store).reader() as con:
        lines = statements(con)
    by_owner = {line.owner: line.total for line in lines}
    assert sorted(by_owner[o] for o in "abc") == [Decimal("34.33"), Decimal("34.33"), Decimal("34.34")]
    assert by_owner["ROUNDING"] == 0  # 103 exactly: the cents add up, nothing left over


def test_pool_without_receivers_goes_to_unallocated(tmp_path):
    store = store_with(tmp_path, [charge(ServiceCategory="Networking", **money(7))])
    allocate(store, rules_from_dict(RULES))
    assert owner_totals(store) == {"UNALLOCATED": Decimal(7)}


OWNERS = st.sampled_from(["a", "b", "c", None])
AMOUNTS = st.decimals(min_value=Decimal("-50"), max_value=Decimal("500"), places=6, allow_nan=False)
ROWS = st.lists(st.tuples(OWNERS, st.sampled_from(["Compute", "Networking", "Storage"]),
                          st.sampled_from(["2025-01", "2025-02"]), AMOUNTS, AMOUNTS,
                          st.sampled_from(["EC2", "Support"])), min_size=1, max_size=25)
METHOD = st.sampled_from(["even", "proportional", "fixed", "driver"])


@settings(max_examples=12, deadline=None, derandomize=True,
          phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, method=METHOD, second=METHOD)
def test_conservation_for_random_charges_and_rules(tmp_path_factory, rows, method, second):
    work = tmp_path_factory.mktemp("prop")
    csv_rows = [charge(month=m, ServiceCategory=cat, ServiceName=svc,
                       Tags=tags(team=o) if o else "NULL", BilledCost=str(b), EffectiveCost=str(e))
                for o, cat, m, b, e, svc in rows]
    store = store_with(work, csv_rows)

    def pool(pid, flt, how):
        p = {"id": pid, "filter": flt, "split": how}
        if how == "fixed":
            p["percentages"] = {"a": "33.5", "b": "66.5"}
        if how == "driver":
            p["drivers"] = {"b": 2, "c": 3}
        return p

    rules = rules_from_dict({"owner": "team", "taxonomy": {"team": {"keys": ["team"]}},
                             "pools": [pool("net", {"service_category": "Networking"}, method),
                                       pool("rest", {"owner": None}, second)]})
    allocate(store, rules)
    with CostStore(store).reader() as con:
        src = con.execute("SELECT strftime(ChargePeriodStart, '%Y-%m'), sum(BilledCost), sum(EffectiveCost), "
                          "count(*) FROM charges GROUP BY 1 ORDER BY 1").fetchall()
        out = con.execute("SELECT strftime(month, '%Y-%m'), sum(BilledCost), sum(EffectiveCost) "
                          "FROM allocated_charges GROUP BY 1 ORDER BY 1").fetchall()
        group_rows = con.execute("SELECT sum(rows) FROM allocation_groups").fetchall()[0][0]
        counted = con.execute("SELECT sum(source_rows) FROM allocated_charges "
                              "WHERE group_id IS NOT NULL").fetchall()[0][0]
        pooled = con.execute("SELECT sum(rows) FROM allocation_groups WHERE pool_id IS NOT NULL").fetchall()[0][0]
    assert [r[:3] for r in src] == out  # Σ allocated = Σ source per month, both metrics, exactly
    assert group_rows == len(rows)  # every source row is in exactly one group
    assert (counted or 0) + (pooled or 0) == len(rows)  # each group is direct/unallocated or pooled, once


@pytest.mark.parametrize("total,weights,expected", [
    ("10.00", [1, 1, 1], ["3.34", "3.33", "3.33"]),           # 3.333… each: one cent left, to the first
    ("10.00", [60, 40], ["6.00", "4.00"]),
    ("0.05", [1, 1, 1, 1], ["0.02", "0.01", "0.01", "0.01"]),
    ("-7.00", [2, 1], ["-4.67", "-2.33"]),                      # credits split like costs
])
def test_largest_remainder_hand_derived(total, weights, expected):
    parts = largest_remainder(Decimal(total), [Decimal(w) for w in weights], Decimal("0.01"))
    assert parts == [Decimal(x) for x in expected]
    assert sum(parts) == Decimal(total)


def test_round_parts_keeps_the_sum():
    parts = round_parts([Decimal("1.005"), Decimal("2.005"), Decimal("-0.004")], Decimal("0.01"))
    assert sum(parts) == Decimal("3.01") and parts == [Decimal("1.01"), Decimal("2.00"), Decimal("0.00")]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from finops_xl.sample.generator import SampleSpec

    return sample_store(tmp_path_factory.mktemp("demo-alloc"), SampleSpec(rows=20_000, months=3, seed=21))


def test_demo_rules_on_generated_data_cover_most_spend(demo_store):
    with CostStore(demo_store).reader() as con:
        cov = coverage(con)
    assert len(cov) == 3
    for c in cov:
        assert c.allocated >= Decimal("0.9") and c.maturity == "run"
        assert c.direct + c.shared + c.unallocated == pytest.approx(1)


def test_one_owners_total_walks_back_to_source_rows(demo_store):
    """Statement line → allocated lines → groups (direct) or pool members (shared) → charges."""
    rules = load_rules(allocation_rules())
    with CostStore(demo_store).reader() as con:
        line = next(s for s in statements(con) if s.owner == "payments")
        month = line.month
        direct = con.execute(
            "SELECT a.group_id, a.EffectiveCost, g.* FROM allocated_charges a JOIN allocation_groups g "
            "USING (group_id) WHERE a.owner = 'payments' AND a.month = ? AND a.kind = 'direct'", [month]
        ).fetchall()
        cols = [d[0] for d in con.description]
        walked = Decimal(0)
        keys = [c for c in cols if c in ("ProviderName", "BillingAccountId", "SubAccountId", "ServiceName",
                                         "ServiceCategory", "RegionId", "ChargeCategory", "PricingCategory",
                                         "CommitmentDiscountStatus", "currency")]
        for row in direct[:25]:  # each direct line's group is a set of charges we can find again
            g = dict(zip(cols, row))
            where = " AND ".join(
                f"{'BillingCurrency' if k == 'currency' else k} IS NOT DISTINCT FROM ?" for k in keys)
            tag_owner = rules.taxonomy.sql("team", [k for (k,) in con.execute(
                "SELECT DISTINCT unnest(json_keys(Tags)) FROM charges").fetchall()])
            total, n = con.execute(
                f"SELECT sum(EffectiveCost), count(*) FROM charges WHERE {where} "
                f"AND date_trunc('month', ChargePeriodStart) = ? AND {tag_owner} IS NOT DISTINCT FROM ?",
                [g[k] for k in keys] + [month, g["tag_team"]]).fetchall()[0]
            assert (Decimal(total), n) == (g["EffectiveCost"], g["rows"])
            walked += Decimal(total)
        assert direct and walked != 0
        shared = con.execute(
            "SELECT pool_id, share, EffectiveCost FROM allocated_charges "
            "WHERE owner = 'payments' AND month = ? AND kind = 'shared'", [month]).fetchall()
        for pool_id, share, amount in shared:
            (pool_total,) = con.execute(
                "SELECT sum(EffectiveCost) FROM allocation_groups WHERE pool_id = ? AND month = ?",
                [pool_id, month]).fetchall()[0]
            assert abs(Decimal(pool_total) * Decimal(share) - Decimal(amount)) < Decimal("1e-9")
        exact = con.execute("SELECT sum(EffectiveCost) FROM allocated_charges WHERE owner = 'payments' "
                            "AND month = ?", [month]).fetchall()[0][0]
    assert abs(line.total - Decimal(exact)) < Decimal("0.01")


def test_coverage_on_the_focus_sample(tmp_path):
    """Owner = the sample's business_unit tag: direct coverage equals the share of EffectiveCost
    on rows carrying that tag, computed from the CSV itself."""
    store = tmp_path / "s.duckdb"
    ingest([focus_sample_csv()], store)
    allocate(store, rules_from_dict({"owner": "business_unit",
                                     "taxonomy": {"business_unit": {"keys": ["business_unit"]}}}))
    e, t = HEADER.index("EffectiveCost"), HEADER.index("Tags")
    tagged = total = Decimal(0)
    for r in SAMPLE:
        if r[HEADER.index("ChargePeriodStart")].startswith("2024-09"):
            amount = Decimal(r[e])
            total += amount
            if r[t] not in ("NULL", "") and json.loads(r[t]).get("business_unit"):
                tagged += amount
    with CostStore(store).reader() as con:
        sep = next(c for c in coverage(con) if c.month.month == 9)
    # the month's untagged rows include an $8 credit, so the tagged rows are more than the net total
    assert sep.direct == tagged / total and sep.direct + sep.unallocated == 1


def test_kubernetes_pool_splits_node_cost_to_namespace_owners(tmp_path):
    rows = [charge(Tags=tags(kubernetes_cluster="prod-eks"), **money(60, 50)),
            charge(Tags=tags(kubernetes_cluster="prod-eks"), **money(40, 30)),
            charge(Tags=tags(team="payments"), **money(10))]
    store = store_with(tmp_path, rows)
    (tmp_path / "usage.csv").write_text(
        "cluster,namespace,month,hours,cpu_request,cpu_usage,memory_request_gib,memory_usage_gib,gpu_request,gpu_usage\n"
        "prod-eks,payments-team,2025-01,744,2,1.5,8,6,0,0\n"
        "prod-eks,kube-system,2025-01,744,1,0.5,2,1,0,0\n")
    (tmp_path / "capacity.csv").write_text("cluster,month,hours,cpu_cores,memory_gib,gpu_count\n"
                                          "prod-eks,2025-01,744,8,32,0\n")
    for idle in ("weighted", "none"):
        rules = rules_from_dict({
            "owner": "team",
            "taxonomy": {"team": {"keys": ["team"], "values": {"payments": ["payments-team"]}},
                         "cluster": {"keys": ["kubernetes_cluster"]}},
            "pools": [{"id": "k8s", "filter": {"cluster": "prod-eks"}, "split": "kubernetes",
                       "usage": "usage.csv", "capacity": "capacity.csv", "idle": idle,
                       "namespaces": {"kube-system": "platform"}}],
        }, base_dir=tmp_path)
        allocate(store, rules)
        totals = owner_totals(store)
        assert sum(totals.values()) == Decimal(80) + Decimal(10)  # EffectiveCost conserved exactly
        assert set(totals) == ({"payments", "platform"} | ({"UNALLOCATED"} if idle == "none" else set()))
        # payments: 10 direct + its namespace share; its namespace reserves twice kube-system's
        assert totals["payments"] - 10 > totals["platform"] > 0
        with CostStore(store).reader() as con:
            billed = con.execute("SELECT sum(BilledCost) FROM allocated_charges").fetchall()[0][0]
        assert billed == Decimal(110)


def test_kubernetes_rules_need_their_files(tmp_path):
    from finops_xl.allocation.rules import RuleError

    with pytest.raises(RuleError) as err:
        rules_from_dict({"owner": "team", "taxonomy": {"team": {}},
                         "pools": [{"id": "k8s", "filter": {"service": "EKS"}, "split": "kubernetes",
                                    "usage": "missing.csv"}]}, base_dir=tmp_path)
    fields = {(f.rule, f.field) for f in err.value.findings}
    assert ("k8s", "usage") in fields and ("k8s", "cluster") in fields


def test_allocation_is_its_own_tables_and_leaves_the_others_untouched(tmp_path):
    from tests.conftest import file_digest

    store = store_with(tmp_path, [charge(Tags=tags(team="a"), **money(5)), charge(**money(3))])
    before = CostStore(store).head().tables
    allocate(store, rules_from_dict(RULES))
    after = CostStore(store).head().tables
    assert {t: after[t] for t in before if t != "store_commits"} == {
        t: v for t, v in before.items() if t != "store_commits"}  # the store's tables are only read
    assert {"allocated_charges", "allocation_groups", "allocation_runs"} <= set(after)
    with CostStore(store).reader() as con:  # readers see the allocation as views
        assert con.execute("SELECT sum(EffectiveCost) FROM allocated_charges").fetchall()[0][0] == 8


def test_two_readers_in_one_process_both_see_the_allocation(tmp_path):
    store = store_with(tmp_path, [charge(Tags=tags(team="a"), **money(5))])
    allocate(store, rules_from_dict(RULES))
    with CostStore(store).reader() as one, CostStore(store).reader() as two:
        for con in (one, two):
            assert con.execute("SELECT count(*) FROM allocated_charges").fetchall()[0][0] == 1
