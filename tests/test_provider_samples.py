"""Every real export in tests/data/provider-samples/ loads ALONE and ties to its own cost columns,
to the cent, per billing period and currency.

The files are other open-source projects' test fixtures, kept as shipped (see the folder's README).
Expected totals are read from each file with Python's csv module and Decimal, following the
provider's documented meaning of its cost columns — never from the converter under test:

- AWS CUR (legacy, either spelling): Σ ``lineItem/UnblendedCost`` per
  ``bill/BillingPeriodStartDate`` month and ``lineItem/CurrencyCode`` (the invoice is the unblended
  cost; Savings Plan negation rows cancel covered usage).
- Azure cost details: Σ ``CostInBillingCurrency`` per ``BillingPeriodStartDate`` month and
  ``BillingCurrencyCode``; the legacy usage export: Σ ``PreTaxCost`` per ``UsageDateTime`` month and
  ``Currency`` (it has no billing period: a calendar month is one).
- Google Cloud: Σ ``cost`` + Σ every credit's ``amount`` per ``invoice.month`` and ``currency``
  (credits are negative; the invoice nets them).
- OpenCost: not a bill — Σ ``TotalCost`` per ``Date`` lands in ``kubernetes_allocation``, and
  ``charges`` stays empty (the allocation splits costs the cloud bill already holds).

A new sample file with no entry in :data:`EXPECT` fails the test until one is written.
"""

from __future__ import annotations

import ast
import csv
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import DATA

SAMPLES = DATA / "provider-samples"
D = Decimal


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _money(text: str | None) -> Decimal:
    return D(text) if text not in (None, "") else D(0)


def _sum(path: Path, period, currency, *amounts) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = defaultdict(D)
    for r in _rows(path):
        out[(period(r), currency(r))] += sum((a(r) for a in amounts), D(0))
    return dict(out)


def _aws_legacy(path: Path):
    return _sum(path, lambda r: r["bill/BillingPeriodStartDate"][:7], lambda r: r["lineItem/CurrencyCode"],
                lambda r: _money(r["lineItem/UnblendedCost"]))


def _aws_athena(path: Path):
    return _sum(path, lambda r: r["bill_billing_period_start_date"][:7], lambda r: r["line_item_currency_code"],
                lambda r: _money(r["line_item_unblended_cost"]))


def _azure_cost_details(path: Path):
    return _sum(path, lambda r: _iso_month(r["BillingPeriodStartDate"]), lambda r: r["BillingCurrencyCode"],
                lambda r: _money(r["CostInBillingCurrency"]))


def _iso_month(text: str) -> str:
    """'2019-07-01', '07/01/2019' (US, as Azure writes in EA v2 files) → '2019-07'."""
    text = text.strip()
    if "/" in text:
        m, _, y = text.split(" ")[0].split("/")
        return f"{y}-{int(m):02d}"
    return text[:7]


def _azure_legacy(path: Path):
    def col(r, name):
        return next(v for k, v in r.items() if k.lower() == name.lower())
    return _sum(path, lambda r: _iso_month(col(r, "UsageDateTime")), lambda r: col(r, "Currency"),
                lambda r: _money(col(r, "PreTaxCost")))


def _gcp(path: Path):
    def credits(r):
        text = r["credits"].strip()
        items = json.loads(text) if text.startswith('[{"') else ast.literal_eval(text or "[]")
        return sum((D(str(c["amount"])) for c in items), D(0))
    return _sum(path, lambda r: f"{r['invoice.month'][:4]}-{r['invoice.month'][4:]}", lambda r: r["currency"],
                lambda r: _money(r["cost"]), credits)


def _opencost(path: Path):
    """Σ TotalCost per day; None for a day whose rows state no TotalCost (the older layout has none,
    and an empty cell is not a zero)."""
    out: dict[str, Decimal | None] = {}
    for r in _rows(path):
        total = r.get("TotalCost") or None
        day = out.setdefault(r["Date"], None)
        if total is not None:
            out[r["Date"]] = (day or D(0)) + D(total)
    return out


#: folder → how the expected totals are read from the file itself
EXPECT = {
    "aws-cur-legacy": _aws_legacy,
    "aws-cur-legacy-athena": _aws_athena,
    "azure-ea-actual": _azure_cost_details,
    "azure-legacy-usage": _azure_legacy,
    "gcp-bigquery-standard": _gcp,
    "opencost-allocation-csv": _opencost,
}

FILES = sorted(p for p in SAMPLES.glob("*/*") if p.suffix.lower() in {".csv", ".gz", ".parquet", ".jsonl"})

#: samples that must be refused as shipped, with what the refusal names. azure_version_2.csv states its
#: billing currency as 'MC', which is no currency: loading it would mean inventing one.
REFUSED = {
    "azure_version_2.csv": (("azure_version_2.csv", "row 1", "column BillingCurrencyCode", "'MC'", "ISO 4217",
                             "correct the value"), ("MC", "USD")),
}

#: samples that do not load yet, each with the defect that stops it (strict: fixing it flips the test)
NOT_YET: dict[str, str] = {}


def _params():
    for p in FILES:
        marks = [pytest.mark.xfail(strict=True, reason=NOT_YET[p.name])] if p.name in NOT_YET else []
        yield pytest.param(p, marks=marks, id=f"{p.parent.name}/{p.name[:40]}")


def test_every_sample_folder_has_an_expectation():
    folders = {p.parent.name for p in FILES}
    assert folders and folders <= set(EXPECT), f"no expected totals for {sorted(folders - set(EXPECT))}"


@pytest.mark.parametrize("path", list(_params()))
def test_each_sample_loads_alone_and_ties_per_period_and_currency(path, tmp_path):
    store, folder = tmp_path / "store.duckdb", path.parent.name
    if path.name in REFUSED:  # refused naming file, row, column and value; the corrected file loads
        fragments, (wrong, right) = REFUSED[path.name]
        with pytest.raises(IngestError) as err:
            ingest([path], store)
        for fragment in fragments:
            assert fragment in str(err.value), (fragment, str(err.value))
        if store.exists():  # nothing was loaded
            with CostStore(store).reader() as con:
                assert con.execute("SELECT count(*) FROM charges").fetchone()[0] == 0
        corrected = tmp_path / path.name
        corrected.write_text(path.read_text(encoding="utf-8-sig").replace(f",{wrong},", f",{right},"),
                             encoding="utf-8")
        path = corrected
    expected = EXPECT[folder](path)
    report = ingest([path], store)
    with CostStore(store).reader() as con:
        if folder == "opencost-allocation-csv":  # exact: the table keeps 18 decimals
            got = dict(con.execute(
                "SELECT strftime(Date, '%Y-%m-%d'), sum(TotalCost) FROM kubernetes_allocation GROUP BY 1"
            ).fetchall())
            assert con.execute("SELECT count(*) FROM charges").fetchone()[0] == 0
            assert con.execute("SELECT count(*) FROM kubernetes_allocation").fetchone()[0] == len(_rows(path))
            assert got == expected
            return
        got = dict(((p, c), v) for p, c, v in con.execute(
            "SELECT strftime(BillingPeriodStart, '%Y-%m'), BillingCurrency, sum(BilledCost) "
            "FROM charges GROUP BY 1, 2").fetchall())
    rows = len(_rows(path))
    assert set(got) == set(expected)
    for key, value in expected.items():
        # to the cent, and exact up to the store's 12 decimals on each row
        assert D(got[key]).quantize(D("0.01")) == value.quantize(D("0.01")), key
        assert abs(D(got[key]) - value) <= rows * D("1e-12"), key
    assert report.rows == rows
