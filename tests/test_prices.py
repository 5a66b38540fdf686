"""The price book from the bill equals unit prices computed by hand from the raw rows.

Expected values are computed here from the input files themselves (the generated Parquet exports,
the FinOps Foundation's FOCUS 1.0 sample, a real AWS CUR file), with pyarrow / csv and Decimal,
following FOCUS's definitions: effective unit price = Σ EffectiveCost ÷ Σ PricingQuantity, list
unit price = Σ ListUnitPrice × PricingQuantity ÷ Σ PricingQuantity, over usage rows.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import defaultdict
from decimal import Decimal, localcontext

import pyarrow.parquet as pq
import pytest
import xlwings

from finops_xl.cli import main
from finops_xl.design.prices import ASSUMPTION, BILL, assumed, find, price_book
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import DATA
from tests.test_udfs_officejs import call, scalar

D = Decimal
TOL = D("1e-12")  # the store keeps 12 decimals (DECIMAL(38,12))


def _dec(v) -> Decimal | None:
    return None if v is None or v in ("", "NULL") else D(str(v))


def _close(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= TOL * max(D(1), abs(b))


def _hand_book(rows) -> dict[tuple, dict]:
    """Σ per price key over usage rows with a pricing quantity > 0 (FOCUS column names; the FOCUS
    sample writes a missing value as the text NULL, which FOCUS readers read as null)."""
    out: dict[tuple, dict] = defaultdict(lambda: {"q": D(0), "eff": D(0), "list": D(0), "months": set(),
                                                  "has_list": True})
    for r in rows:
        q = _dec(r["PricingQuantity"])
        if r["ChargeCategory"] != "Usage" or q is None or q <= 0:
            continue
        key = tuple(None if r[c] in (None, "", "NULL") else r[c] for c in ("ProviderName", "ServiceName", "SkuId", "SkuPriceId", "RegionId",
                                           "PricingCategory", "PricingUnit", "BillingCurrency"))
        g = out[key]
        g["q"] += q
        g["eff"] += _dec(r["EffectiveCost"]) or D(0)
        lp = _dec(r["ListUnitPrice"])
        if lp is None:
            g["has_list"] = False
        else:
            g["list"] += lp * q
        g["months"].add(str(r["ChargePeriodStart"])[:7])
    return out


def _book_by_key(book):
    return {(r.provider, r.service, r.sku_id, r.sku_price_id, r.region, r.pricing_category, r.pricing_unit,
             r.currency): r for r in book}


def _check(book, expected):
    got = _book_by_key(book)
    assert set(got) == set(expected)
    with localcontext() as ctx:
        ctx.prec = 34
        for key, g in expected.items():
            row = got[key]
            assert _close(row.pricing_quantity, g["q"]), key
            assert _close(row.effective_unit_price, g["eff"] / g["q"]), (key, row.effective_unit_price)
            if g["has_list"]:
                assert _close(row.list_unit_price, g["list"] / g["q"]), key
            assert row.months == len(g["months"]), key


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("prices")
    generate(SampleSpec(rows=8_000, months=3, seed=5), out / "exports")
    ingest([out / "exports"], out / "finops-store")
    rows = []
    for f in sorted((out / "exports").rglob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return CostStore(out / "finops-store"), rows


def test_price_book_equals_hand_computed_unit_prices_on_the_demo_store(demo):
    store, rows = demo
    with store.reader() as con:
        book = price_book(con)
    expected = _hand_book(rows)
    assert len(expected) > 50
    _check(book, expected)
    # a committed price is below its list price (the commitment discount), a standard one is not
    committed = [r for r in book if r.pricing_category == "Committed" and r.list_unit_price]
    assert committed and all(r.effective_unit_price < r.list_unit_price for r in committed)


def test_price_book_on_the_focus_sample(sample_csv, tmp_path):
    """The FinOps Foundation's FOCUS 1.0 sample: real anonymized rows of AWS, Microsoft and Oracle."""
    ingest([sample_csv], tmp_path / "s.duckdb")
    with sample_csv.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    with CostStore(tmp_path / "s.duckdb").reader() as con:
        book = price_book(con)
    expected = _hand_book(rows)
    assert len(expected) > 10
    _check(book, expected)


def test_price_book_on_a_real_aws_cur_file(tmp_path):
    """koku's AWS CUR sample: each Usage line's effective unit price is lineItem/UnblendedCost ÷
    lineItem/UsageAmount (AWS data dictionary: on-demand usage is billed unblended). The file has
    17 decimals; the store keeps amounts at 12 (DECIMAL(38,12)), so each is rounded to 12 first."""
    path = DATA / "provider-samples" / "aws-cur-legacy" / "test_cur.csv"
    ingest([path], tmp_path / "aws.duckdb")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        raw = [r for r in csv.DictReader(fh) if r["lineItem/LineItemType"] == "Usage"]
    cost, qty = defaultdict(D), defaultdict(D)
    for r in raw:
        cost[r["product/sku"]] += D(r["lineItem/UnblendedCost"]).quantize(TOL)
        qty[r["product/sku"]] += D(r["lineItem/UsageAmount"]).quantize(TOL)
    with CostStore(tmp_path / "aws.duckdb").reader() as con:
        book = price_book(con, provider="aws")
    assert len(cost) == 19 and {r.sku_id for r in book} == set(cost)
    for sku in cost:
        p = find(book, sku)
        assert p.source == BILL and p.unit == "GB"
        assert _close(p.unit_price, cost[sku] / qty[sku]), sku


def test_find_pools_matching_rows_and_names_what_is_missing(demo):
    store, rows = demo
    with store.reader() as con:
        book = price_book(con)
    ebs = [r for r in rows if r["ServiceName"] == "Amazon Elastic Block Store" and r["RegionId"] == "us-east-1"
           and r["ChargeCategory"] == "Usage" and (_dec(r["PricingQuantity"]) or 0) > 0]
    pooled = find(book, "amazon elastic block store", region="us-east-1")
    with localcontext() as ctx:
        ctx.prec = 34
        hand = sum(_dec(r["EffectiveCost"]) for r in ebs) / sum(_dec(r["PricingQuantity"]) for r in ebs)
    assert _close(pooled.unit_price, hand) and pooled.matched >= 1 and not pooled.is_assumption
    with pytest.raises(ValueError, match="no price for 'x9.huge'.*state the price"):
        find(book, "x9.huge")
    with pytest.raises(ValueError, match="several pricing units"):
        find(book, "Amazon Simple Storage Service", region="us-east-1")
    stated = assumed("db.r6g.xlarge", "0.48", "Hours")
    assert stated.source == ASSUMPTION and stated.is_assumption and stated.unit_price == D("0.48")


def test_cli_prices_csv_and_filters(demo):
    store, _ = demo
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["prices", "--store", str(store.path), "--provider", "AWS", "--format", "csv"]) == 0
    lines = list(csv.DictReader(io.StringIO(out.getvalue())))
    with store.reader() as con:
        book = price_book(con, provider="AWS")
    assert len(lines) == len(book) and {ln["provider"] for ln in lines} == {"AWS"}
    assert [D(ln["effective_unit_price"]) for ln in lines] == [r.effective_unit_price for r in book]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["prices", "--store", str(store.path), "--service", "AWS Lambda"]) == 0
    assert "Price book from the bill" in out.getvalue() and "AWS Lambda" in out.getvalue()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["prices", "--store", str(store.path), "--provider", "Nowhere"]) == 1
    assert err.getvalue().count("\n") == 1 and "provider 'Nowhere'" in err.getvalue()


def test_finops_price_through_office_js(demo, monkeypatch):
    store, rows = demo
    monkeypatch.setenv("FINOPS_XL_STORE", str(store.path))
    key = next(r for r in rows if r["PricingCategory"] == "Committed" and r["ChargeCategory"] == "Usage"
               and (_dec(r["PricingQuantity"]) or 0) > 0)
    same = [r for r in rows if r["SkuPriceId"] == key["SkuPriceId"] and r["ChargeCategory"] == "Usage"
            and (_dec(r["PricingQuantity"]) or 0) > 0]
    with localcontext() as ctx:
        ctx.prec = 34
        hand = sum(_dec(r["EffectiveCost"]) for r in same) / sum(_dec(r["PricingQuantity"]) for r in same)
        list_hand = sum(_dec(r["ListUnitPrice"]) * _dec(r["PricingQuantity"]) for r in same) / \
            sum(_dec(r["PricingQuantity"]) for r in same)
    assert scalar(call("PRICE", key["SkuPriceId"])) == pytest.approx(float(hand), rel=1e-12)
    assert scalar(call("PRICE", key["SkuPriceId"], key["RegionId"], "Committed", "list")) == \
        pytest.approx(float(list_hand), rel=1e-12)
    with pytest.raises(xlwings.XlwingsError, match=r"FINOPS.PRICE: the bill has no price for 'x9.huge'"):
        call("PRICE", "x9.huge")
