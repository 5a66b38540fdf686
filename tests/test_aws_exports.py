"""AWS exports as people really have them: the legacy CUR (slash names), its Athena layout (snake
case with flattened ``resource_tags_user_*`` columns), CUR 2.0 / Data Exports (Parquet with map
columns, and as CSV), cost categories, non-USD billing, and commitment terms.

Expected values are read from the input files themselves (csv / pyarrow + Decimal), following AWS's
documented definitions, never from the converter:

- BilledCost = Σ ``lineItem/UnblendedCost`` (``line_item_unblended_cost``), per billing period and
  currency; EffectiveCost = AWS's amortized cost per line item type ("Understanding your amortized
  costs": DiscountedUsage → reservation effective cost; RIFee → unused amortized upfront + unused
  recurring fee; SavingsPlanCoveredUsage → savings plan effective cost; SavingsPlanRecurringFee →
  total commitment − used commitment; SavingsPlanNegation and upfront fees → 0; else unblended).
- Commitment terms: ``pricing/LeaseContractLength`` / ``savingsPlan/PurchaseTerm`` ("1yr", "3yr").
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from finops_xl.cli import main
from finops_xl.close.amortization import commitments_from_store
from finops_xl.focus.convert import conformance
from finops_xl.focus.convert.files import convert_exports
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests import focus_validator
from tests.conftest import DATA, fixture_decimal
from tests.test_native_convert import aws_amortized

SAMPLES = DATA / "provider-samples"
ATHENA = SAMPLES / "aws-cur-legacy-athena" / "2022-07-01-alt-columns.csv"
KOKU_NOK = SAMPLES / "aws-cur-legacy" / "2023-06-01.csv"
NISE = SAMPLES / "aws-cur-legacy" / "test_cur.csv"
CUR2 = DATA / "native" / "aws" / "cur2-data-exports-2025-03.parquet"

D = Decimal
ZERO = D(0)



def _snake(legacy: str) -> str:
    cat, _, attr = legacy.partition("/")
    s = lambda p: re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), p).lstrip("_").lower()  # noqa: E731
    return f"{s(cat)}_{s(attr)}"


def _rows(path: Path) -> list:
    """Each row as ``get(legacy column name)``, whatever the file's spelling (legacy, snake case)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path).to_pylist()
        return [(lambda name, r=r: r.get(_snake(name))) for r in table]
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [dict(zip(header, r)) for r in reader]
    if any("/" in h for h in header):
        return [(lambda name, r=r: r.get(name)) for r in rows]
    return [(lambda name, r=r: r.get(_snake(name))) for r in rows]


amortized = aws_amortized  # AWS's amortized cost of one line item, as the CUR tests read it


def expected(path: Path) -> dict[tuple[str, str, str], tuple[Decimal, Decimal, int]]:
    """(payer, billing period YYYY-MM, currency) → (Σ unblended, Σ amortized, line items)."""
    out: dict = defaultdict(lambda: (ZERO, ZERO, 0))
    for get in _rows(path):
        key = (str(get("bill/PayerAccountId")), str(get("bill/BillingPeriodStartDate"))[:7],
               str(get("lineItem/CurrencyCode")))
        billed, effective, n = out[key]
        out[key] = (billed + fixture_decimal(get("lineItem/UnblendedCost")), effective + amortized(get), n + 1)
    return dict(out)


def stored(store_path: Path) -> dict[tuple[str, str, str], tuple[Decimal, Decimal, int]]:
    """The same, from the store (rows: the CUR's own line items, without the converter's unused
    commitment rows)."""
    with CostStore(store_path).reader() as con:
        got = con.execute("""
            SELECT BillingAccountId, strftime(BillingPeriodStart, '%Y-%m'), BillingCurrency,
                   sum(BilledCost), sum(EffectiveCost),
                   count(*) FILTER (WHERE CommitmentDiscountStatus IS DISTINCT FROM 'Unused')
            FROM charges GROUP BY ALL""").fetchall()
    return {(a, m, c): (D(b), D(e), n) for a, m, c, b, e, n in got}


CENT = D("0.01")


def assert_ties(got: dict, want: dict) -> None:
    """Same keys and row counts; each total equal to the cent (the store keeps 12 decimal places,
    so a sum of finer source amounts may differ below 1e-10, never more)."""
    assert set(got) == set(want)
    for key, (b, e, n) in want.items():
        gb, ge, gn = got[key]
        assert gn == n, key
        for g, w in ((gb, b), (ge, e)):
            assert g.quantize(CENT) == w.quantize(CENT) and abs(g - w) < D("1e-10"), (key, g, w)


def padded(src: Path, dst: Path) -> Path:
    """``src`` with every short row padded with empty fields to the header's width (what a
    spreadsheet shows), written with LF line ends."""
    with src.open(newline="") as fh:
        rows = list(csv.reader(fh))
    width = len(rows[0])
    with dst.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(r + [""] * (width - len(r)) for r in rows)
    return dst


def cur2_csv(dst: Path) -> Path:
    """The CUR 2.0 Parquet fixture as Data Exports writes CSV: map columns as JSON text."""
    duckdb.sql(f"COPY (SELECT * REPLACE (to_json(product) AS product, to_json(resource_tags) AS resource_tags, "
               f"to_json(cost_category) AS cost_category) FROM '{CUR2}') TO '{dst}' (FORMAT csv, HEADER)")
    return dst


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


# ---- every AWS sample loads alone and ties to its own cost columns ---------------------------

SAMPLE_FILES = sorted(SAMPLES.glob("aws-*/*.csv"))


@pytest.mark.parametrize("path", [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in SAMPLE_FILES])
def test_each_aws_sample_loads_alone_and_ties(path, store_path):
    ingest([path], store_path)
    assert_ties(stored(store_path), expected(path))


def test_cur_with_short_rows_converts_once_padded(tmp_path, store_path):
    """The generator-written CUR (131 columns, rows one field short, CRLF), padded as a spreadsheet
    would read it: it converts and ties."""
    copy = padded(NISE, tmp_path / "test_cur.csv")
    report = ingest([copy], store_path)
    assert [f.native_format for f in report.files] == ["aws-cur"]
    assert_ties(stored(store_path), expected(NISE))


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_cur2_data_exports_converts_and_ties(kind, tmp_path, store_path):
    path = CUR2 if kind == "parquet" else cur2_csv(tmp_path / "cur2-00001.csv")
    report = ingest([path], store_path)
    assert [f.native_format for f in report.files] == ["aws-cur2"]
    assert_ties(stored(store_path), expected(CUR2))


# ---- 1. the Athena layout of the legacy CUR --------------------------------------------------

def _athena_with_values(dst: Path) -> Path:
    """The Athena sample with tag and cost category values and a non-zero cost, as a real export
    has (the sample's own tag cells are empty and its costs zero)."""
    with ATHENA.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0] + ["cost_category_team"]
    out = [header]
    for i, r in enumerate(rows[1:]):
        d = dict(zip(rows[0], r))
        d["resource_tags_user_insights_project"] = f"project-{i}"
        d["line_item_unblended_cost"] = d["line_item_blended_cost"] = f"0.01{i}"
        d["cost_category_team"] = "platform"
        out.append([d.get(h, "") for h in header])
    with dst.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(out)
    return dst


def test_athena_layout_is_the_legacy_cur_not_cur2(store_path):
    report = ingest([ATHENA], store_path)
    assert [f.native_format for f in report.files] == ["aws-cur-athena"]


def test_athena_layout_as_parquet_is_recognised_and_ties(tmp_path, store_path):
    """AWS delivers the Athena layout as Parquet: typed costs and dates, ids as text."""
    src = _athena_with_values(tmp_path / "athena.csv")
    path = tmp_path / "athena-00001.snappy.parquet"
    duckdb.sql(f"COPY (SELECT * REPLACE (CAST(line_item_unblended_cost AS DOUBLE) AS line_item_unblended_cost) "
               f"FROM read_csv('{src}', all_varchar=true)) TO '{path}' (FORMAT parquet)")
    report = ingest([path], store_path)
    assert [f.native_format for f in report.files] == ["aws-cur-athena"]
    assert_ties(stored(store_path), expected(src))


def test_athena_flattened_tags_and_cost_categories(tmp_path, store_path):
    path = _athena_with_values(tmp_path / "2022-07-01-alt-columns.csv")
    ingest([path], store_path)
    assert_ties(stored(store_path), expected(path))
    with path.open(newline="") as fh:
        src = list(csv.DictReader(fh))
    want = sorted(json.dumps({k.removeprefix("resource_tags_user_").removeprefix("resource_tags_"): v
                              for k, v in r.items() if k.startswith("resource_tags_") and v}, sort_keys=True)
                  for r in src)
    with CostStore(store_path).reader() as con:
        tags = [json.dumps(json.loads(t), sort_keys=True) for (t,) in con.execute(
            "SELECT CAST(Tags AS VARCHAR) FROM charges ORDER BY 1").fetchall()]
        cats = {c for (c,) in con.execute("SELECT x_CostCategories FROM charges").fetchall()}
    assert tags == want
    assert {k: v for k, v in json.loads(tags[0]).items() if k == "insights_project"}
    assert [json.loads(c) for c in cats] == [{"team": "platform"}]


# ---- 2. cost categories, savings plans, NOK, a payer id with leading zeros ------------------

def test_koku_nok_sample_keeps_the_payer_id_currency_and_cost_categories(store_path):
    ingest([KOKU_NOK], store_path)
    with KOKU_NOK.open(newline="") as fh:
        src = list(csv.DictReader(fh))
    payers = {r["bill/PayerAccountId"] for r in src}
    assert payers == {"0099999999999"}  # read as text: the leading zeros are part of the id
    categories = {json.dumps({k.split("/", 1)[1]: v for k, v in r.items()
                              if k.startswith("costCategory/") and v}, sort_keys=True) for r in src}
    with CostStore(store_path).reader() as con:
        got = con.execute("""SELECT DISTINCT BillingAccountId, SubAccountId, BillingCurrency,
                                    x_CostCategories FROM charges""").fetchall()
    assert {(a, s, c) for a, s, c, _ in got} == {
        (r["bill/PayerAccountId"], r["lineItem/UsageAccountId"], r["lineItem/CurrencyCode"]) for r in src}
    assert {json.dumps(json.loads(x), sort_keys=True) for *_, x in got} == categories


def test_savings_plan_covered_usage_is_billed_unblended_and_effective_at_the_plan_rate(store_path):
    """AWS: SavingsPlanCoveredUsage keeps its on-demand UnblendedCost (offset by a
    SavingsPlanNegation row when the export has one); its amortized cost is SavingsPlanEffectiveCost."""
    ingest([KOKU_NOK], store_path)
    with KOKU_NOK.open(newline="") as fh:
        src = [r for r in csv.DictReader(fh) if r["lineItem/LineItemType"] == "SavingsPlanCoveredUsage"]
    with CostStore(store_path).reader() as con:
        got = con.execute("""SELECT sum(BilledCost), sum(EffectiveCost), min(PricingCategory),
                                    min(ChargeCategory) FROM charges
                             WHERE x_LineItemType = 'SavingsPlanCoveredUsage'""").fetchone()
    assert (D(got[0]), D(got[1])) == (sum(D(r["lineItem/UnblendedCost"]) for r in src),
                                      sum(D(r["savingsPlan/SavingsPlanEffectiveCost"]) for r in src))
    assert got[2:] == ("Committed", "Usage")


def test_covered_usage_without_its_negation_is_told_with_its_amount(store_path):
    report = ingest([KOKU_NOK], store_path)
    with KOKU_NOK.open(newline="") as fh:
        src = list(csv.DictReader(fh))
    kept = sum(D(r["lineItem/UnblendedCost"]) for r in src
               if r["lineItem/LineItemType"] in ("SavingsPlanCoveredUsage", "SavingsPlanNegation"))
    (notice,) = [n for n in report.all_notices if "SavingsPlanNegation" in n.message]
    assert (notice.amount, notice.currency) == (kept, "NOK") and kept != 0


def test_covered_usage_offset_by_its_negation_says_nothing(store_path):
    report = ingest([CUR2], store_path)
    assert not [n for n in report.all_notices if "SavingsPlanNegation" in n.message]


# ---- 3 + 4. CUR 2.0 commitment terms -------------------------------------------------------

def _commitment_terms(path: Path) -> dict[str, dict]:
    """commitment ARN → its term, payment option and dates, from the file."""
    out = {}
    for get in _rows(path):
        if get("reservation/ReservationARN") and get("lineItem/LineItemType") == "RIFee":
            out[get("reservation/ReservationARN")] = {
                "term": get("pricing/LeaseContractLength"), "payment": get("pricing/PurchaseOption"),
                "start": get("reservation/StartTime"), "end": get("reservation/EndTime")}
        if get("savingsPlan/SavingsPlanARN") and get("lineItem/LineItemType") == "SavingsPlanRecurringFee":
            out[get("savingsPlan/SavingsPlanARN")] = {
                "term": get("savingsPlan/PurchaseTerm"), "payment": get("savingsPlan/PaymentOption"),
                "start": get("savingsPlan/StartTime"), "end": get("savingsPlan/EndTime")}
    return out


def _months(term: str) -> int:
    n, unit = re.fullmatch(r"(\d+)\s*(yr|year|years)", term.strip(), re.IGNORECASE).groups()
    return int(n) * 12


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_cur2_terms_reach_sku_price_details_and_the_commitment(kind, tmp_path, store_path):
    path = CUR2 if kind == "parquet" else cur2_csv(tmp_path / "cur2-00001.csv")
    ingest([path], store_path)
    terms = _commitment_terms(CUR2)
    assert len(terms) == 2
    with CostStore(store_path).reader() as con:
        rows = con.execute("""
            SELECT CommitmentDiscountId, CAST(SkuPriceDetails AS VARCHAR), SkuPriceId,
                   x_CommitmentDiscountStart, x_CommitmentDiscountEnd
            FROM charges WHERE ChargeCategory = 'Purchase'""").fetchall()
        commitments = {c.id: c for c in commitments_from_store(con)}
    for cid, details, price_id, start, end in rows:
        d = json.loads(details)
        assert price_id is not None  # SkuPriceDetails belongs to a SkuPriceId (FOCUS)
        assert d["x_Term"] == terms[cid]["term"] and d["x_PaymentOption"] == terms[cid]["payment"]
        assert (start, end) == (terms[cid]["start"], terms[cid]["end"])
    for cid, t in terms.items():
        assert commitments[cid].term_months == _months(t["term"])
        assert commitments[cid].term_source == "x_Term"
        assert commitments[cid].term_source != "assumed"


def test_instance_type_is_a_sku_price_detail(store_path):
    """FOCUS's InstanceType property, from product_instance_type, on the priced rows that have one."""
    ingest([CUR2], store_path)
    want = {(r["identity_line_item_id"], r["product_instance_type"]) for r in pq.read_table(CUR2).to_pylist()
            if r["product_instance_type"] and r["pricing_rate_code"]}
    with CostStore(store_path).reader() as con:
        got = set(con.execute("""SELECT x_LineItemId, SkuPriceDetails->>'InstanceType' FROM charges
                                 WHERE SkuPriceDetails->>'InstanceType' IS NOT NULL""").fetchall())
    assert got == want and len(want) >= 3


def _legacy_ri(dst: Path, *, term: str, dates: bool = True, upfront_fee: bool = False) -> Path:
    """A legacy CUR month of one reservation's RIFee and usage, its term in
    ``pricing/LeaseContractLength`` (empty: not stated), its dates in ``reservation/StartTime`` and
    ``EndTime`` (unless ``dates`` is false)."""
    header = ["identity/LineItemId", "bill/InvoiceId", "bill/PayerAccountId", "bill/BillingPeriodStartDate",
              "bill/BillingPeriodEndDate", "lineItem/UsageAccountId", "lineItem/LineItemType",
              "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode",
              "lineItem/UsageType", "lineItem/CurrencyCode", "lineItem/UnblendedCost",
              "lineItem/UsageAmount", "lineItem/LineItemDescription", "pricing/LeaseContractLength",
              "pricing/OfferingClass", "pricing/PurchaseOption", "pricing/RateCode", "pricing/unit",
              "product/sku", "reservation/ReservationARN", "reservation/EffectiveCost",
              "reservation/StartTime", "reservation/EndTime", "reservation/UnusedRecurringFee",
              "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"]
    arn = "arn:aws:ec2:us-east-1:004400440044:reserved-instances/0b1c2d3e-0000-4f00-8000-000000000036"
    common = ["inv-1", "004400440044", "2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z", "004400440044"]
    rows = [
        ["l1", *common, "RIFee", "2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z", "AmazonEC2",
         "HeavyUsage:m5.large", "USD", "44.64", "744", "USD 0.06 hourly fee per Linux m5.large", term,
         "standard", "No Upfront", "SKU1.TERM1.RATE1", "Hrs", "SKU1", arn, "", "2024-05-01T00:00:00.000Z",
         "2027-05-01T00:00:00.000Z", "43.2", "0"],
        ["l2", *common, "DiscountedUsage", "2025-05-03T00:00:00Z", "2025-05-04T00:00:00Z", "AmazonEC2",
         "BoxUsage:m5.large", "USD", "0", "24", "Linux m5.large reserved instance applied", term,
         "standard", "No Upfront", "SKU1.TERM1.RATE1", "Hrs", "SKU1", arn, "1.44", "2024-05-01T00:00:00.000Z",
         "2027-05-01T00:00:00.000Z", "", ""],
    ]
    if upfront_fee:  # the purchase's upfront Fee, written without the lease length
        rows.append(["l3", *common, "Fee", "2025-05-20T00:00:00Z", "2025-05-20T01:00:00Z", "AmazonEC2",
                     "HeavyUsage:m5.large", "USD", "300", "1", "Sign up charge for subscription", "",
                     "standard", "Partial Upfront", "SKU1.TERM2.RATE2", "Quantity", "SKU1", arn, "",
                     "", "", "", ""])
    if not dates:
        for r in rows:
            r[header.index("reservation/StartTime")] = r[header.index("reservation/EndTime")] = ""
    with dst.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    return dst


def _the_commitment(path, store_path):
    """The one commitment of the store after loading ``path``."""
    ingest([path], store_path)
    with CostStore(store_path).reader() as con:
        (c,) = commitments_from_store(con)
    return c


def test_reservation_lease_contract_length_3yr_is_a_36_month_commitment(tmp_path, store_path):
    path = _legacy_ri(tmp_path / "cur-ri.csv", term="3yr")
    c = _the_commitment(path, store_path)
    assert_ties(stored(store_path), expected(path))
    assert (c.term_months, c.term_source) == (36, "x_Term")


def test_the_term_stated_on_some_purchase_rows_holds_for_the_commitment(tmp_path, store_path):
    """An upfront Fee row without the lease length does not hide the length its RIFee rows state."""
    path = _legacy_ri(tmp_path / "cur-ri.csv", term="3yr", dates=False, upfront_fee=True)
    c = _the_commitment(path, store_path)
    assert_ties(stored(store_path), expected(path))
    assert (c.term_months, c.term_source) == (36, "x_Term")


def test_without_a_stated_length_the_reservation_dates_give_the_term(tmp_path, store_path):
    path = _legacy_ri(tmp_path / "cur-ri.csv", term="")
    c = _the_commitment(path, store_path)
    with path.open(newline="") as fh:
        r = next(csv.DictReader(fh))
    start, end = (dt.date.fromisoformat(r[f"reservation/{k}Time"][:10]) for k in ("Start", "End"))
    assert (c.term_months, c.term_source) == ((end.year - start.year) * 12 + end.month - start.month,
                                              "commitment dates")


def test_a_term_no_source_states_is_assumed_visibly(tmp_path, store_path):
    """No term column, no term text, no term-long charge period: the default is used, and the
    commitment says so; the CLI names it."""
    path = _legacy_ri(tmp_path / "cur-ri.csv", term="", dates=False)
    c = _the_commitment(path, store_path)
    assert (c.term_months, c.term_source) == (12, "assumed")
    code, out, err = _cli("commitments", "--store", str(store_path))
    assert code == 0, err
    shown = out + err
    assert "assumed" in shown and c.id[-12:] in shown and "12" in shown


# ---- focus-validator on every AWS layout ---------------------------------------------------

VALIDATED = {
    "athena": lambda tmp: ATHENA,
    "koku-nok": lambda tmp: KOKU_NOK,
    "nise-padded": lambda tmp: padded(NISE, tmp / "test_cur.csv"),
    "cur2-parquet": lambda tmp: CUR2,
    "cur2-csv": lambda tmp: cur2_csv(tmp / "cur2-00001.csv"),
}

#: the InvoiceId pair is encoded without its condition (see conformance.py): a file with invoice
#: ids fails C-004, one without them fails C-005.
INVOICE_PAIR = {"InvoiceId-C-004-C", "InvoiceId-C-005-C", "InvoiceId-C-000-M"}

#: rules a case's own data fails, with the reason (each must still fail, so the list stays true).
DATA_EXCEPTIONS = {
    # the Marketplace product 'Red Hat® Enterprise Linux®': the validator reads FOCUS StringHandling
    # as ASCII only, while the spec asks for provider values kept as written
    "athena": {"ServiceName-C-002-M", "ServiceName-C-000-M"},
}


@pytest.mark.parametrize("case", sorted(VALIDATED))
def test_aws_layouts_pass_focus_validator(case, tmp_path):
    if focus_validator.executable() is None:
        pytest.skip("focus-validator is not installed: set $FOCUS_VALIDATOR")
    written, _ = convert_exports([VALIDATED[case](tmp_path)], tmp_path / "focus")
    assert len(written) == 1
    results = focus_validator.validate(written[0].path, tmp_path / "report.xml",
                                       version=conformance.FOCUS_VERSION, criteria=conformance.criteria("AWS"))
    assert len([r for r, s in results.items() if s != "skipped"]) > 300
    failed = {r for r, s in results.items() if s == "failed"}
    own = DATA_EXCEPTIONS.get(case, set())
    allowed = set(conformance.EXCEPTIONS["AWS"]) | INVOICE_PAIR | own
    assert failed - allowed == set(), f"{case}: rules failing without a documented exception"
    assert own - failed == set(), f"{case}: data exceptions that no longer fail"


def test_the_athena_sample_names_a_service_outside_ascii():
    """Why the Athena case has its ServiceName exception: the file's own product name."""
    with ATHENA.open(newline="", encoding="utf-8") as fh:
        names = {r["product_product_name"] for r in csv.DictReader(fh)}
    assert any(not n.isascii() for n in names)


# ---- where a term is read (published spellings: AWS "1yr"/"3yr", Azure Term in months, ISO 8601) --

@pytest.mark.parametrize("details, months, source", [
    ('{"x_Term": "3yr", "x_PaymentOption": "All Upfront"}', 36, "x_Term"),
    ('{"x_Term": "1yr"}', 12, "x_Term"),
    ('{"Term": 36}', 36, "Term"),             # Azure's Term column counts months
    ('{"Term": "60"}', 60, "Term"),
    ('{"x_Term": "P3Y"}', 36, "x_Term"),      # ISO 8601 duration
    ('{"Term": "1 Year", "x_Term": "3yr"}', 36, "x_Term"),  # the converters' key first
    ('{"InstanceType": "m5.large"}', None, None),
])
def test_term_from_sku_price_details(details, months, source):
    from finops_xl.close.commitment_terms import term_of

    got = term_of(details=details)
    assert got == (None if months is None else (months, source))


def test_term_from_commitment_dates_allows_aws_end_a_second_early():
    from finops_xl.close.commitment_terms import months_between

    assert months_between("2024-03-01T00:00:00.000Z", "2027-02-28T23:59:59.000Z") == 36
    assert months_between("2024-03-01T00:00:00Z", "2024-09-15T00:00:00Z") is None
