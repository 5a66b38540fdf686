"""Native exports (AWS CUR legacy and 2.0, Azure cost details, GCP billing export) → FOCUS 1.2.

Expected totals are computed here from the fixture files with Python's csv/json modules and pyarrow,
following each provider's documented definitions, never by the converters:

- AWS: unblended cost = Σ ``lineItem/UnblendedCost``; amortized cost per line item type as AWS's
  "Understanding your amortized costs" defines it (DiscountedUsage → reservation/EffectiveCost; RIFee →
  unused amortized upfront + unused recurring fee; SavingsPlanCoveredUsage → SavingsPlanEffectiveCost;
  SavingsPlanRecurringFee → TotalCommitmentToDate − UsedCommitment; SavingsPlanNegation, upfront fees
  → 0; everything else → unblended).
- Azure: Σ cost of the actual-cost export, Σ cost of the amortized-cost export.
- Google Cloud: Σ (cost + Σ credits.amount), Google's net cost, per invoice month.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from finops_xl.cli import main
from finops_xl.focus.convert.files import convert_exports
from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import ingest, validate
from finops_xl.store.store import CostStore
from tests.conftest import DATA, fixture_decimal

NATIVE = DATA / "native"
CUR = NATIVE / "aws" / "cur-legacy-2025-01-02.csv"
CUR2 = NATIVE / "aws" / "cur2-2025-01.parquet"
EA = (NATIVE / "azure" / "ea-actual-cost-2025-01.csv", NATIVE / "azure" / "ea-amortized-cost-2025-01.csv")
MCA = (NATIVE / "azure" / "mca-actual-cost-2025-01.csv", NATIVE / "azure" / "mca-amortized-cost-2025-01.csv")
GCP_JSONL = NATIVE / "gcp" / "billing-export-202501.jsonl"
GCP_PARQUET = NATIVE / "gcp" / "billing-export-202501.parquet"
GCP_CSV = NATIVE / "gcp" / "billing-export-202502.csv"

D = Decimal
ZERO = D(0)



def _csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


# ---- expected values, from the source files ---------------------------------------------------


def aws_amortized(get) -> Decimal:
    """AWS's amortized cost of one line item; ``get(legacy name)`` reads a column."""
    t = get("lineItem/LineItemType")
    if t == "DiscountedUsage":
        return fixture_decimal(get("reservation/EffectiveCost"))
    if t == "RIFee":
        return (fixture_decimal(get("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"))
                + fixture_decimal(get("reservation/UnusedRecurringFee")))
    if t == "SavingsPlanCoveredUsage":
        return fixture_decimal(get("savingsPlan/SavingsPlanEffectiveCost"))
    if t == "SavingsPlanRecurringFee":
        return fixture_decimal(get("savingsPlan/TotalCommitmentToDate")) - fixture_decimal(get("savingsPlan/UsedCommitment"))
    if t in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return ZERO
    if t == "Fee" and get("reservation/ReservationARN"):
        return ZERO  # a reservation's upfront fee: amortized onto its usage and unused hours
    return fixture_decimal(get("lineItem/UnblendedCost"))


def _cur2_name(legacy: str) -> str:
    import re

    cat, _, attr = legacy.partition("/")
    snake = lambda p: re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), p).lstrip("_").lower()  # noqa: E731
    return f"{snake(cat)}_{snake(attr)}"


def aws_expected(path: Path) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(payer, YYYY-MM) → (unblended total, amortized total)."""
    if path.suffix == ".csv":
        rows = [(lambda name, r=r: r.get(name)) for r in _csv(path)]
    else:
        table = pq.read_table(path).to_pylist()
        rows = [(lambda name, r=r: r.get(_cur2_name(name))) for r in table]
    out: dict = defaultdict(lambda: (ZERO, ZERO))
    for get in rows:
        start = get("bill/BillingPeriodStartDate")
        key = (get("bill/PayerAccountId"), str(start)[:7])
        billed, effective = out[key]
        out[key] = (billed + fixture_decimal(get("lineItem/UnblendedCost")), effective + aws_amortized(get))
    return dict(out)


def azure_expected(actual: Path, amortized: Path, account_column: str, cost_column: str):
    out: dict = defaultdict(lambda: [ZERO, ZERO])
    for i, path in enumerate((actual, amortized)):
        for r in _csv(path):
            m, _, y = r[[k for k in r if k.lower() == "billingperiodstartdate"][0]].partition("/01/")
            out[(r[account_column], f"{y}-{m}")][i] += D(r[cost_column])
    return {k: tuple(v) for k, v in out.items()}


def gcp_expected(path: Path):
    if path.suffix == ".jsonl":
        rows = [json.loads(line, parse_float=D) for line in path.read_text().splitlines()]
    elif path.suffix == ".parquet":
        rows = pq.read_table(path).to_pylist()
    else:
        rows = []
        for r in _csv(path):
            rows.append({"billing_account_id": r["billing_account_id"], "cost": r["cost"],
                         "credits": json.loads(r["credits"], parse_float=D),
                         "invoice": {"month": r["invoice.month"]}})
    out: dict = defaultdict(lambda: ZERO)
    for r in rows:
        net = fixture_decimal(r["cost"]) + sum((fixture_decimal(c["amount"]) for c in r["credits"]), ZERO)
        month = r["invoice"]["month"]
        out[(r["billing_account_id"], f"{month[:4]}-{month[4:]}")] += net
    return {k: (v, v) for k, v in out.items()}


def slices(report) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    return {(s.billing_account, f"{s.billing_period_start:%Y-%m}"): (s.billed_cost, s.effective_cost)
            for s in report.slices}


# ---- totals tie to the source, per billing period ---------------------------------------------


@pytest.mark.parametrize("path", [CUR, CUR2], ids=["cur-legacy", "cur2"])
def test_aws_billed_is_unblended_and_effective_is_amortized(path, store_path):
    report = ingest([path], CostStore(store_path))
    expected = aws_expected(path)
    assert slices(report) == expected
    assert all(p == "AWS" for p in {s.provider for s in report.slices})
    # to the cent as well (the sums are exact, so this is implied; it is what the invoice shows)
    cents = D("0.01")
    assert {k: tuple(x.quantize(cents) for x in v) for k, v in slices(report).items()} == {
        k: tuple(x.quantize(cents) for x in v) for k, v in expected.items()}


def test_cur2_as_csv_with_maps_as_json_text(tmp_path, store_path):
    """CUR 2.0 delivered as CSV writes its product and resource_tags maps as JSON text."""
    as_csv = tmp_path / "cur2-00001.csv"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * REPLACE (CAST(to_json(product) AS VARCHAR) AS product,
                                           CAST(to_json(resource_tags) AS VARCHAR) AS resource_tags)
                         FROM read_parquet('{CUR2}')) TO '{as_csv}' (FORMAT csv, HEADER true)""")
    report = ingest([as_csv], CostStore(store_path))
    assert slices(report) == aws_expected(CUR2)
    with CostStore(store_path).reader() as con:
        got = con.execute("""SELECT count(*) FILTER (WHERE Tags->>'team' = 'web'),
                                    count(*) FILTER (WHERE ServiceName = 'AWS Lambda') FROM charges""").fetchall()
    source = pq.read_table(CUR2).to_pylist()
    web = sum(1 for r in source if dict(r["resource_tags"]).get("user_team") == "web")
    lam = sum(1 for r in source if dict(r["product"]).get("product_name") == "AWS Lambda")
    assert got == [(web, lam)] and web > 0 and lam > 0


def test_gzip_compressed_cur_loads_like_the_csv(tmp_path, store_path):
    import gzip

    packed = tmp_path / "cur-00001.csv.gz"
    packed.write_bytes(gzip.compress(CUR.read_bytes()))
    report = ingest([packed], CostStore(store_path))
    assert slices(report) == aws_expected(CUR)
    assert [f.native_format for f in report.files] == ["aws-cur"]


def test_aws_months_with_an_upfront_fee_differ_by_the_amortization():
    expected = aws_expected(CUR)
    billed, effective = expected[("111122223333", "2025-02")]
    assert billed != effective  # the 120.00 upfront fee is billed in February, amortized 10.00 a month
    jan_billed, jan_effective = expected[("111122223333", "2025-01")]
    assert jan_billed == jan_effective  # no-upfront commitments only in January


@pytest.mark.parametrize("pair,account_column,cost_column,account", [
    (EA, "BillingProfileId", "Cost", "8611537"),
    (MCA, "billingProfileId", "costInBillingCurrency", "AW4F-XXXX-BG7-TGB"),
], ids=["ea", "mca"])
def test_azure_billed_is_actual_and_effective_is_amortized(pair, account_column, cost_column, account,
                                                           store_path):
    report = ingest(list(pair), CostStore(store_path))
    expected = azure_expected(*pair, account_column, cost_column)
    assert slices(report) == expected
    assert set(expected) == {(account, "2025-01")}
    assert {s.provider for s in report.slices} == {"Microsoft"}


@pytest.mark.parametrize("path", [GCP_JSONL, GCP_PARQUET, GCP_CSV], ids=["jsonl", "parquet", "csv"])
def test_gcp_billed_and_effective_are_cost_plus_credits(path, store_path):
    report = ingest([path], CostStore(store_path))
    assert slices(report) == gcp_expected(path)
    assert {s.provider for s in report.slices} == {"Google Cloud"}


# ---- the FOCUS commitment invariant, per commitment ---------------------------------------------


def _focus(paths, tmp_path) -> duckdb.DuckDBPyConnection:
    written, _ = convert_exports(paths, tmp_path / "focus")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = ", ".join(f"'{c.path}'" for c in written)
    con.execute(f"CREATE TABLE f AS SELECT * FROM read_parquet([{files}], union_by_name=true)")
    return con


def _commitment_sums(con):
    """(period, commitment) → (Σ EffectiveCost of its Used + Unused usage rows,
    Σ BilledCost of its recurring Purchase rows)."""
    rows = con.execute("""
        SELECT strftime(BillingPeriodStart, '%Y-%m'), CommitmentDiscountId,
               sum(EffectiveCost) FILTER (WHERE ChargeCategory = 'Usage'
                                           AND CommitmentDiscountStatus IN ('Used', 'Unused')),
               sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase' AND ChargeFrequency = 'Recurring')
        FROM f WHERE CommitmentDiscountId IS NOT NULL GROUP BY ALL ORDER BY ALL""").fetchall()
    return {(p, c): (used or ZERO, bought or ZERO) for p, c, used, bought in rows}


def test_aws_commitment_invariant(tmp_path):
    """Per reservation / savings plan and month: Σ EffectiveCost over its Used and Unused rows =
    its recurring fee billed that month + its upfront fee amortized into that month
    (reservation/AmortizedUpfrontFeeForBillingPeriod, from the source)."""
    upfront: dict = defaultdict(lambda: ZERO)
    for r in _csv(CUR):
        if r["lineItem/LineItemType"] == "RIFee":
            key = (r["bill/BillingPeriodStartDate"][:7], r["reservation/ReservationARN"])
            upfront[key] += fixture_decimal(r["reservation/AmortizedUpfrontFeeForBillingPeriod"])
    sums = _commitment_sums(_focus([CUR], tmp_path))
    assert len(sums) == 5  # RI 1 and the savings plan in both months, RI 2 in February
    for key, (used_and_unused, recurring) in sums.items():
        assert used_and_unused == recurring + upfront[key], key


@pytest.mark.parametrize("pair", [EA, MCA], ids=["ea", "mca"])
def test_azure_commitment_invariant(pair, tmp_path):
    """Monthly-paid reservation and savings plan: Σ EffectiveCost of Used + Unused rows = the month's
    purchase."""
    sums = _commitment_sums(_focus(list(pair), tmp_path))
    assert len(sums) == 2
    for key, (used_and_unused, purchase) in sums.items():
        assert used_and_unused == purchase != ZERO, key


def test_azure_pricing_currency_cost_comes_from_the_amortized_export(tmp_path):
    """MCA billed in EUR, priced in USD: PricingCurrencyEffectiveCost = Σ costInPricingCurrency of the
    amortized-cost export. EA without pricing-currency columns: priced in the billing currency."""
    con = _focus(list(MCA), tmp_path / "mca")
    got = con.execute("""SELECT PricingCurrency, BillingCurrency, sum(PricingCurrencyEffectiveCost)
                         FROM f GROUP BY ALL""").fetchall()
    source = sum((D(r["costInPricingCurrency"]) for r in _csv(MCA[1])), ZERO)
    assert got == [("USD", "EUR", source)]
    con = _focus(list(EA), tmp_path / "ea")
    assert con.execute("""SELECT DISTINCT PricingCurrency, PricingCurrencyEffectiveCost = EffectiveCost
                          FROM f""").fetchall() == [("USD", True)]


def test_gcp_cud_credits_and_fees_carry_the_commitment(tmp_path):
    """Google bills CUD fees monthly for the month they cover, so EffectiveCost = BilledCost and the
    amortized invariant has nothing to move; what is checked is that each committed-use credit and
    fee is tied to its commitment."""
    source = [json.loads(line) for line in GCP_JSONL.read_text().splitlines()]
    cud_ids = {c["id"]: c["type"] for r in source for c in r["credits"]
               if c["type"].startswith("COMMITTED_USAGE_DISCOUNT")}
    offsets = {c["id"] for r in source for c in r["credits"] if c["type"] == "FEE_UTILIZATION_OFFSET"}
    con = _focus([GCP_JSONL], tmp_path)
    used = dict(con.execute("""SELECT CommitmentDiscountId, any_value(CommitmentDiscountCategory) FROM f
                               WHERE CommitmentDiscountStatus = 'Used' GROUP BY 1""").fetchall())
    assert used == {i: ("Spend" if t.endswith("DOLLAR_BASE") else "Usage") for i, t in cud_ids.items()}
    fees = dict(con.execute("""SELECT CommitmentDiscountId, CommitmentDiscountCategory FROM f
                               WHERE ChargeCategory = 'Purchase'""").fetchall())
    resource_cud = next(i for i, t in cud_ids.items() if t == "COMMITTED_USAGE_DISCOUNT")
    assert fees == {resource_cud: "Usage", **{i: "Spend" for i in offsets}}
    assert con.execute("SELECT count(*) FROM f WHERE BilledCost <> EffectiveCost").fetchall()[0][0] == 0


# ---- row mapping ------------------------------------------------------------------------------


def test_aws_line_item_types_map_to_focus_categories(tmp_path):
    con = _focus([CUR], tmp_path)
    got = set(con.execute("""SELECT x_LineItemType, ChargeCategory, ChargeClass, ChargeFrequency,
                                     PricingCategory, CommitmentDiscountStatus, CommitmentDiscountType
                              FROM f""").fetchall())
    assert ("Refund", "Credit", "Correction", "One-Time", None, None, None) in got  # December's refund
    assert ("Credit", "Credit", None, "One-Time", None, None, None) in got
    assert ("Tax", "Tax", None, "Recurring", None, None, None) in got
    assert ("EdpDiscount", "Credit", None, "Usage-Based", None, None, None) in got
    assert ("DiscountedUsage", "Usage", None, "Usage-Based", "Committed", "Used", "Reserved Instance") in got
    assert ("RIFee", "Purchase", None, "Recurring", "Standard", None, "Reserved Instance") in got
    assert ("RIFee/Unused", "Usage", None, "Usage-Based", "Committed", "Unused", "Reserved Instance") in got
    assert ("SavingsPlanNegation", "Usage", None, "Usage-Based", "Committed", "Used", "Savings Plan") in got
    assert ("SavingsPlanRecurringFee/Unused", "Usage", None, "Usage-Based", "Committed", "Unused",
            "Savings Plan") in got
    assert ("Usage", "Usage", None, "Usage-Based", "Dynamic", None, None) in got  # spot
    ids = {r[0] for r in con.execute("SELECT DISTINCT BillingAccountId FROM f").fetchall()}
    assert ids == {"111122223333"}  # the payer account, as AWS's own FOCUS export
    invoices = {r[0] for r in con.execute("SELECT DISTINCT InvoiceId FROM f").fetchall()}
    assert invoices == {r["bill/InvoiceId"] for r in _csv(CUR)}


def test_list_cost_is_public_on_demand_cost_on_usage(tmp_path):
    con = _focus([CUR], tmp_path)
    listed = con.execute("""SELECT sum(ListCost) FROM f WHERE x_LineItemType IN
                            ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')""").fetchall()[0][0]
    source = sum((fixture_decimal(r["pricing/publicOnDemandCost"]) for r in _csv(CUR) if r["lineItem/LineItemType"] in
                  ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")), ZERO)
    assert listed == source


def test_tags_become_a_focus_tags_object(tmp_path):
    con = _focus([CUR, CUR2, *EA, GCP_JSONL], tmp_path)
    tags = {(p, t) for p, t in con.execute(
        "SELECT ProviderName, Tags FROM f WHERE Tags IS NOT NULL").fetchall()}
    parsed = {(p, json.dumps(json.loads(t), sort_keys=True)) for p, t in tags}
    assert ("AWS", json.dumps({"Environment": "prod", "Team": "web", "aws:createdBy": "IAMUser:alice"},
                              sort_keys=True)) in parsed  # legacy: user:Team → Team, aws: kept
    assert ("AWS", json.dumps({"environment": "prod", "team": "web", "aws_created_by": "IAMUser:alice"},
                              sort_keys=True)) in parsed  # CUR 2.0 map keys
    assert ("Microsoft", json.dumps({"env": "prod", "team": "web"}, sort_keys=True)) in parsed
    assert ("Google Cloud", json.dumps({"env": "prod", "team": "web"}, sort_keys=True)) in parsed


# ---- detection, errors, restatement -----------------------------------------------------------


def test_cur_month_then_the_same_month_as_focus_replaces_it(tmp_path, store_path):
    store = CostStore(store_path)
    first = ingest([CUR], store)
    assert {s.billing_account for s in first.slices} == {"111122223333"}
    # AWS's FOCUS export of January for the same payer account (two rows, written by hand)
    focus = tmp_path / "aws-focus-2025-01.csv"
    header = ["BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
              "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass",
              "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
              "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
              "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
              "ServiceSubcategory"]
    rows = [
        ["80.10", "111122223333", "Example Corp", "USD", "2025-02-01T00:00:00Z", "2025-01-01T00:00:00Z",
         "Usage", "", "EC2", "Usage-Based", "2025-01-02T00:00:00Z", "2025-01-01T00:00:00Z", "80.10",
         "75.00", "AWS", "80.10", "10", "Hours", "AWS", "AWS", "Compute", "Amazon Elastic Compute Cloud",
         "Virtual Machines"],
        ["15.10", "111122223333", "Example Corp", "USD", "2025-02-01T00:00:00Z", "2025-01-01T00:00:00Z",
         "Tax", "", "Tax", "Recurring", "2025-02-01T00:00:00Z", "2025-01-01T00:00:00Z", "15.10",
         "15.10", "AWS", "15.10", "", "", "AWS", "AWS", "Other", "Tax", "Other (Other)"],
    ]
    with focus.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    second = ingest([focus], store)
    (jan,) = second.slices
    assert (jan.billing_account, f"{jan.billing_period_start:%Y-%m}") == ("111122223333", "2025-01")
    assert not jan.is_new and jan.replaced_rows == 14 and jan.rows == 2
    assert (jan.billed_cost, jan.effective_cost) == (D("95.20"), D("90.10"))
    with store.reader() as con:
        per_month = dict(con.execute("""SELECT strftime(BillingPeriodStart, '%Y-%m'), count(*) FROM charges
                                        WHERE BillingAccountId = '111122223333' GROUP BY 1""").fetchall())
    assert per_month == {"2025-01": 2, "2025-02": 18}  # January replaced, not added to; February kept


def test_loading_the_same_native_files_again_changes_nothing(store_path):
    store = CostStore(store_path)
    first = ingest([CUR, *EA, GCP_CSV], store)
    assert first.rows > 0 and {f.native_format for f in first.files} == {"aws-cur", "azure", "gcp-billing"}
    again = ingest([CUR, *EA, GCP_CSV], store)
    assert again.unchanged


def test_azure_exports_are_told_apart_by_content(tmp_path, store_path):
    """Without 'actual'/'amortized' in the names, the rows decide which export is which."""
    a, m = tmp_path / "export-a.csv", tmp_path / "export-b.csv"
    shutil.copyfile(MCA[1], a)  # the amortized one first, to show the order does not matter
    shutil.copyfile(MCA[0], m)
    report = ingest([a, m], CostStore(store_path))
    assert slices(report) == azure_expected(*MCA, "billingProfileId", "costInBillingCurrency")


def test_azure_export_without_its_counterpart_loads_alone_with_a_notice(store_path):
    """Formerly refused ("FOCUS needs both"); now BilledCost ties to the actual-cost export and a
    notice says what EffectiveCost lacks (tests/test_azure_exports.py has the details)."""
    report = ingest([EA[0]], CostStore(store_path))
    billed = sum((D(r["Cost"]) for r in _csv(EA[0])), ZERO)
    assert [s.billed_cost for s in report.slices] == [billed]
    assert any("amortized-cost export" in n.message for n in report.all_notices)


def test_azure_exports_of_different_months_are_refused(tmp_path, store_path):
    rows = _csv(EA[1])
    for r in rows:  # the amortized export of February instead of January's
        r["BillingPeriodStartDate"], r["BillingPeriodEndDate"] = "02/01/2025", "02/28/2025"
    february = tmp_path / "ea-amortized-cost-2025-02.csv"
    with february.open("w", newline="") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(IngestError, match="actual only: 8611537 2025-01; amortized only: 8611537 2025-02"):
        ingest([EA[0], february], CostStore(store_path))


def test_unknown_format_lists_what_was_expected(tmp_path, store_path):
    other = tmp_path / "report.csv"
    other.write_text("month,team,amount\n2025-01,web,12.50\n")
    with pytest.raises(IngestError) as err:
        ingest([other], CostStore(store_path))
    message = str(err.value)
    for expected in ("not a FOCUS export", "AWS CUR (legacy)", "lineItem/UnblendedCost",
                     "AWS CUR 2.0", "Azure cost details", "Google Cloud BigQuery billing export"):
        assert expected in message
    lines = tmp_path / "events.jsonl"
    lines.write_text('{"event": "login"}\n')
    with pytest.raises(IngestError, match="not a known export"):
        validate([lines])


def test_validate_reports_native_files_as_converted():
    (report,) = validate([CUR])
    assert report.native_format == "aws-cur" and report.focus_version == "1.2" and report.rows == 32


# ---- the command line -------------------------------------------------------------------------


def _run(argv) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = main(argv)
    return rc, out.getvalue()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_cli_convert_writes_focus_that_loads_with_the_same_totals(fmt, tmp_path):
    rc, printed = _run(["convert", "--to", "focus", "--format", fmt, "--out", str(tmp_path / "out"),
                        str(CUR), *map(str, MCA), str(GCP_CSV)])
    assert rc == 0, printed
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == [f"billing-export-202502.focus.{fmt}",
                                         f"cur-legacy-2025-01-02.focus.{fmt}",
                                         f"mca-actual-cost-2025-01.focus.{fmt}"]
    assert "FOCUS 1.2, 32 rows from AWS CUR (legacy)" in printed
    report = ingest(written, CostStore(tmp_path / "store.duckdb"))
    expected = {**aws_expected(CUR), **gcp_expected(GCP_CSV),
                **azure_expected(*MCA, "billingProfileId", "costInBillingCurrency")}
    assert slices(report) == expected
    assert all(f.native_format is None for f in report.files)  # they are FOCUS files now


def test_cli_convert_skips_focus_files_and_refuses_unknown_ones(tmp_path, sample_csv):
    rc, printed = _run(["convert", "--to", "focus", "--out", str(tmp_path / "out"), str(sample_csv)])
    assert rc == 0 and "already a FOCUS export" in printed
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    rc, printed = _run(["convert", "--to", "focus", "--out", str(tmp_path / "out2"), str(bad)])
    assert rc == 1 and "not a FOCUS export" in printed and not (tmp_path / "out2").exists()
