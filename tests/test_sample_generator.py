"""Tests for finops_xl.sample.generator: FOCUS 1.2 sample data, read back with DuckDB."""

from __future__ import annotations

import datetime
import json
import pathlib
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_xl.focus.schema import SERVICE_SUBCATEGORIES

from finops_xl.sample.generator import SampleSpec, generate

ROWS = 20_000
SPEC = SampleSpec(rows=ROWS, months=3, start=datetime.date(2025, 1, 1), seed=42)

FOCUS_1_2_COLUMNS = {
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
}
DECIMALS = {
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
    "ConsumedQuantity", "PricingQuantity", "CommitmentDiscountQuantity", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice",
}
TIMESTAMPS = {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}

# FOCUS 1.2 ServiceCategory -> ServiceSubcategory allowed values (specification/columns/servicesubcategory.md).
# FOCUS 1.2 ServiceCategory -> ServiceSubcategory, as finops_xl.focus.schema transcribes the spec
# (FOCUS_Spec v1.2 specification/columns/servicesubcategory.md); the generator is under test here.
SUBCATEGORIES = {cat: set(subs) for cat, subs in SERVICE_SUBCATEGORIES.items()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[pathlib.Path, list[pathlib.Path], list[int]]:
    out = tmp_path_factory.mktemp("sample") / "nested" / "out"  # generate() must create it
    increments: list[int] = []
    paths = generate(SPEC, out, progress=increments.append)
    return out, paths, increments


@pytest.fixture(scope="module")
def con(generated) -> duckdb.DuckDBPyConnection:
    out, _, _ = generated
    c = duckdb.connect()
    c.execute(f"CREATE VIEW f AS SELECT * FROM read_parquet('{out.as_posix()}/*.parquet')")
    return c


def one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_files_one_per_provider_per_month(generated):
    out, paths, _ = generated
    expected = [f"{p}-2025-{m:02d}.parquet" for p in ("aws", "azure", "gcp") for m in (1, 2, 3)]
    assert [p.name for p in paths] == expected
    assert all(p.parent == out and p.exists() for p in paths)
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)


def test_row_count_within_one_percent_and_progress(con, generated):
    _, _, increments = generated
    n = one(con, "SELECT count(*) FROM f")
    assert abs(n - ROWS) <= ROWS * 0.01
    assert sum(increments) == n and all(i > 0 for i in increments)
    shares = dict(con.execute("SELECT ProviderName, count(*) / sum(count(*)) OVER () FROM f GROUP BY 1").fetchall())
    assert shares["AWS"] == pytest.approx(0.5, abs=0.02)
    assert shares["Microsoft"] == pytest.approx(0.3, abs=0.02)
    assert shares["Google Cloud"] == pytest.approx(0.2, abs=0.02)


def test_schema_is_focus_1_2_with_canonical_types(generated):
    _, paths, _ = generated
    for path in paths:
        schema = pq.read_schema(path)
        assert set(schema.names) == FOCUS_1_2_COLUMNS
        for field in schema:
            if field.name in DECIMALS:
                assert field.type == pa.decimal128(38, 12), field.name
            elif field.name in TIMESTAMPS:
                assert field.type == pa.timestamp("us"), field.name
            else:
                assert field.type == pa.string(), field.name


def test_deterministic_bytes(generated, tmp_path):
    out, paths, _ = generated
    again = generate(SPEC, tmp_path / "again")
    assert [p.name for p in again] == [p.name for p in paths]
    for a, b in zip(paths, again):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = generate(SampleSpec(rows=2_000, months=1, seed=7), tmp_path / "other")
    same_spec_other_seed = generate(SampleSpec(rows=2_000, months=1, seed=8), tmp_path / "other8")
    assert other[0].read_bytes() != same_spec_other_seed[0].read_bytes()


def test_commitment_invariant_exact(con):
    # FOCUS 1.2: per commitment, the amortised EffectiveCost of its Usage rows (Used + Unused) equals what
    # its Purchase rows billed (One-Time upfront + Recurring fees), to the last decimal.
    rows = con.execute("""
        SELECT CommitmentDiscountId,
               sum(EffectiveCost) FILTER (WHERE ChargeCategory = 'Usage') AS amortised,
               sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase') AS purchased,
               count(*) FILTER (WHERE CommitmentDiscountStatus = 'Used') AS used_rows
        FROM f WHERE CommitmentDiscountId IS NOT NULL GROUP BY 1
    """).fetchall()
    assert len(rows) >= 8
    for cid, amortised, purchased, used_rows in rows:
        assert isinstance(amortised, Decimal) and isinstance(purchased, Decimal)
        assert amortised == purchased, cid
        assert purchased > 0 and used_rows > 0, cid


def test_commitment_rows_follow_focus_examples(con):
    # Purchase rows for commitments: EffectiveCost 0; Used rows: BilledCost 0, Committed, amortised cost > 0
    assert one(con, """SELECT count(*) FROM f WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL
                       AND (EffectiveCost <> 0 OR BilledCost <= 0 OR CommitmentDiscountStatus IS NOT NULL)""") == 0
    assert one(con, """SELECT count(*) FROM f WHERE CommitmentDiscountStatus = 'Used'
                       AND (BilledCost <> 0 OR PricingCategory <> 'Committed' OR EffectiveCost <= 0
                            OR EffectiveCost > ContractedCost OR ConsumedQuantity IS NULL
                            OR CommitmentDiscountQuantity IS NULL)""") == 0
    assert one(con, """SELECT count(*) FROM f WHERE CommitmentDiscountStatus = 'Unused'
                       AND (BilledCost <> 0 OR EffectiveCost <= 0 OR ConsumedQuantity IS NOT NULL
                            OR ResourceId <> CommitmentDiscountId OR ChargeCategory <> 'Usage')""") == 0
    kinds = set(con.execute("""SELECT DISTINCT ChargeFrequency FROM f
                               WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL""").fetchall())
    assert kinds == {("One-Time",), ("Recurring",)}
    assert one(con, "SELECT count(*) FROM f WHERE CommitmentDiscountStatus = 'Unused'") > 0
    types = {r[0] for r in con.execute("SELECT DISTINCT CommitmentDiscountType FROM f WHERE "
                                       "CommitmentDiscountType IS NOT NULL").fetchall()}
    assert {"Reserved Instance", "Savings Plan", "Reservation", "Committed Use Discount"} <= types
    cats = {r[0] for r in con.execute("SELECT DISTINCT CommitmentDiscountCategory FROM f").fetchall()}
    assert cats == {None, "Spend", "Usage"}
    # the commitment columns are all set together
    assert one(con, """SELECT count(*) FROM f WHERE CommitmentDiscountId IS NOT NULL AND
                       (CommitmentDiscountCategory IS NULL OR CommitmentDiscountType IS NULL
                        OR CommitmentDiscountName IS NULL OR CommitmentDiscountUnit IS NULL)""") == 0


def test_allowed_values(con):
    def distinct(col):
        return {r[0] for r in con.execute(f"SELECT DISTINCT {col} FROM f").fetchall()}

    assert distinct("ChargeCategory") <= {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
    assert distinct("ChargeClass") == {None, "Correction"}
    assert distinct("ChargeFrequency") <= {"One-Time", "Recurring", "Usage-Based"}
    assert distinct("PricingCategory") <= {"Standard", "Dynamic", "Committed", "Other", None}
    assert distinct("CommitmentDiscountStatus") <= {"Used", "Unused", None}
    assert distinct("BillingCurrency") == {"USD"} and distinct("PricingCurrency") == {"USD"}
    assert distinct("ProviderName") == {"AWS", "Microsoft", "Google Cloud"}
    assert distinct("CapacityReservationStatus") <= {"Used", "Unused", None}
    pairs = con.execute("SELECT DISTINCT ServiceCategory, ServiceSubcategory FROM f").fetchall()
    for cat, sub in pairs:
        assert cat in SUBCATEGORIES, cat
        assert sub is None or sub in SUBCATEGORIES[cat], (cat, sub)
    for col in ("ServiceName", "ServiceCategory", "ChargeCategory", "ChargeDescription", "BillingAccountId",
                "InvoiceId", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        assert one(con, f"SELECT count(*) FROM f WHERE {col} IS NULL") == 0, col
    # PricingCategory is set on every Usage row (FOCUS: MUST NOT be null for non-correction usage)
    assert one(con, "SELECT count(*) FROM f WHERE ChargeCategory = 'Usage' AND PricingCategory IS NULL") == 0
    # JSON object text
    for (text,) in con.execute("SELECT DISTINCT SkuPriceDetails FROM f WHERE SkuPriceDetails IS NOT NULL").fetchall():
        assert isinstance(json.loads(text), dict)


def test_periods(con):
    assert one(con, "SELECT count(*) FROM f WHERE ChargePeriodEnd <= ChargePeriodStart") == 0
    assert one(con, """SELECT count(*) FROM f WHERE ChargePeriodStart < BillingPeriodStart
                       OR ChargePeriodEnd > BillingPeriodEnd""") == 0
    assert one(con, """SELECT count(*) FROM f WHERE day(BillingPeriodStart) <> 1
                       OR BillingPeriodEnd <> BillingPeriodStart + INTERVAL 1 MONTH""") == 0
    months = [r[0] for r in con.execute("SELECT DISTINCT BillingPeriodStart FROM f ORDER BY 1").fetchall()]
    assert months == [datetime.datetime(2025, m, 1) for m in (1, 2, 3)]
    # one invoice per provider per month
    assert one(con, """SELECT max(n) FROM (SELECT ProviderName, BillingPeriodStart, count(DISTINCT InvoiceId) n
                       FROM f GROUP BY 1, 2)""") == 1
    assert one(con, "SELECT count(DISTINCT InvoiceId) FROM f") == 9


def test_untagged_share_of_spend(con):
    share = one(con, """SELECT sum(EffectiveCost) FILTER (WHERE Tags IS NULL OR Tags = '{}') / sum(EffectiveCost)
                        FROM f""")
    assert 0.15 <= share <= 0.30
    # both representations of "no tags" occur
    assert one(con, "SELECT count(*) FROM f WHERE Tags IS NULL") > 0
    assert one(con, "SELECT count(*) FROM f WHERE Tags = '{}'") > 0


def test_tag_key_and_value_variants(con):
    keys: set[str] = set()
    values: dict[str, set[str]] = {}
    for (text,) in con.execute("SELECT DISTINCT Tags FROM f WHERE Tags IS NOT NULL").fetchall():
        tags = json.loads(text)
        assert isinstance(tags, dict)
        keys |= tags.keys()
        for k, v in tags.items():
            values.setdefault(k.lower().replace("-", "_"), set()).add(v)
    assert {"Team", "team", "owner-team", "owner_team"} <= keys
    assert {"env", "Environment", "environment"} <= keys
    assert {"CostCenter", "cost-center"} <= keys
    team_values = values["team"] | values["owner_team"]
    assert {"Payments", "payments", "payments-team"} <= team_values
    assert {"payments", "search", "data-platform", "ml", "web", "mobile"} <= {v.lower() for v in team_values}


def test_special_rows_present(con):
    # GPU instances (p4d/p5 / NC A100 / A2, A3)
    assert one(con, "SELECT count(*) FROM f WHERE SkuPriceDetails LIKE '%GpuCount%' AND ChargeCategory = 'Usage'") > 0
    assert one(con, "SELECT count(*) FROM f WHERE SkuPriceDetails LIKE '%p5.48xlarge%'") > 0
    # Kubernetes nodes: EKS node instances tagged with their cluster
    assert one(con, """SELECT count(*) FROM f WHERE Tags LIKE '%"kubernetes_cluster": "prod-eks-1"%'
                       AND ResourceId LIKE 'i-%'""") > 0
    assert one(con, "SELECT count(*) FROM f WHERE Tags LIKE '%aks-managed-cluster-name%'") > 0
    assert one(con, "SELECT count(*) FROM f WHERE Tags LIKE '%goog-k8s-cluster-name%'") > 0
    # credits (negative), tax, support
    assert one(con, "SELECT count(*) FROM f WHERE ChargeCategory = 'Credit' AND BilledCost < 0 "
                    "AND EffectiveCost = BilledCost") > 0
    assert one(con, "SELECT count(*) FROM f WHERE ChargeCategory = 'Tax' AND BilledCost > 0") > 0
    assert one(con, "SELECT count(*) FROM f WHERE ChargeCategory = 'Tax' AND (ListUnitPrice IS NOT NULL "
                    "OR PricingQuantity IS NOT NULL)") == 0
    assert one(con, "SELECT count(*) FROM f WHERE ServiceSubcategory = 'Support' AND EffectiveCost > 0") > 0
    # one correction per provider, negative, in a later month than the first
    corr = con.execute("""SELECT ProviderName, count(*), max(BilledCost), min(BillingPeriodStart) FROM f
                          WHERE ChargeClass = 'Correction' GROUP BY 1""").fetchall()
    assert len(corr) == 3
    for _, n, max_billed, period in corr:
        assert n == 1 and max_billed < 0 and period > datetime.datetime(2025, 1, 1)
    # shared platform costs are untagged
    assert one(con, """SELECT count(*) FROM f WHERE SubAccountName IN ('acme-shared-network', 'Hub-Network',
                       'acme-shared-vpc', 'acme-security-tooling', 'Security-Ops', 'acme-security')
                       AND Tags IS NOT NULL AND Tags <> '{}'""") == 0


def test_growth_and_spike(con):
    cost = dict(con.execute("SELECT month(BillingPeriodStart), sum(EffectiveCost) FROM f GROUP BY 1").fetchall())
    assert cost[3] > cost[1] * Decimal("1.03")  # ~4%/month growth
    assert cost[2] > cost[1] * Decimal("1.2") and cost[2] > cost[3] * Decimal("1.15")  # ML training spike
    spike = one(con, """SELECT sum(EffectiveCost) FROM f WHERE month(BillingPeriodStart) = 2
                        AND SkuPriceDetails LIKE '%"GpuCount": 8%' AND CapacityReservationId IS NOT NULL""")
    assert spike is not None and spike > 0


def test_cost_identities_on_usage_rows(con):
    # ListCost = ListUnitPrice * PricingQuantity and ContractedCost = ContractedUnitPrice * PricingQuantity (exact)
    assert one(con, """SELECT count(*) FROM f WHERE ListUnitPrice IS NOT NULL
                       AND ListCost <> round(ListUnitPrice * PricingQuantity, 12)""") == 0
    assert one(con, """SELECT count(*) FROM f WHERE ContractedUnitPrice IS NOT NULL
                       AND ContractedCost <> round(ContractedUnitPrice * PricingQuantity, 12)""") == 0
    assert one(con, "SELECT count(*) FROM f WHERE ChargeCategory = 'Usage' AND ListUnitPrice IS NOT NULL") > 10_000
    assert one(con, """SELECT count(*) FROM f WHERE ChargeCategory = 'Usage' AND ChargeClass IS NULL
                       AND CommitmentDiscountStatus IS NULL AND ContractedCost > ListCost""") == 0
    # some negotiated discounts, and plain on-demand usage has Billed = Effective = Contracted
    assert one(con, "SELECT count(*) FROM f WHERE ChargeCategory = 'Usage' AND ContractedCost < ListCost") > 0
    assert one(con, """SELECT count(*) FROM f WHERE ChargeCategory = 'Usage'
                       AND PricingCategory IN ('Standard', 'Dynamic')
                       AND NOT (BilledCost = EffectiveCost AND EffectiveCost = ContractedCost)""") == 0
    # pricing-currency columns mirror the billing-currency ones (USD/USD)
    assert one(con, """SELECT count(*) FROM f WHERE PricingCurrencyEffectiveCost IS DISTINCT FROM EffectiveCost
                       OR PricingCurrencyListUnitPrice IS DISTINCT FROM ListUnitPrice
                       OR PricingCurrencyContractedUnitPrice IS DISTINCT FROM ContractedUnitPrice""") == 0


@pytest.mark.parametrize("rows,months,start", [(6_000, 1, datetime.date(2024, 11, 15)),
                                             (30_000, 13, datetime.date(2024, 6, 1))])
def test_other_windows_keep_the_ledger(tmp_path, rows, months, start):
    # a start date inside a month is normalised to day 1; 13 months: commitments expire / start mid-window
    paths = generate(SampleSpec(rows=rows, months=months, start=start, seed=3), tmp_path)
    assert len(paths) == 3 * months
    assert paths[0].name == f"aws-{start.year}-{start.month:02d}.parquet"
    c = duckdb.connect()
    c.execute(f"CREATE VIEW f AS SELECT * FROM read_parquet('{tmp_path.as_posix()}/*.parquet')")
    n = one(c, "SELECT count(*) FROM f")
    assert abs(n - rows) <= rows * 0.01
    bad = c.execute("""SELECT CommitmentDiscountId FROM f WHERE CommitmentDiscountId IS NOT NULL GROUP BY 1
                       HAVING sum(EffectiveCost) FILTER (WHERE ChargeCategory = 'Usage')
                              IS DISTINCT FROM sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase')""").fetchall()
    assert bad == []
    assert one(c, "SELECT min(ChargePeriodStart) FROM f") == datetime.datetime(start.year, start.month, 1)
