"""Google Cloud and Oracle Cloud (OCI) exports as people really have them.

Expected totals are computed here from the input files with Python's csv, json and ast modules and
Decimal, following each provider's documented definitions, never by the converters:

- Google Cloud BigQuery billing export: ``cost`` is the cost before credits; "to get the total cost
  including credits, any credits.amount should be added to cost" (Cloud Billing export schema).
  BilledCost = EffectiveCost = Σ (cost + Σ credits.amount) per invoice.month and currency.
- OCI cost reports: ``cost/myCost`` is the cost of the line; a correction line
  (``lineItem/isCorrection`` true) carries the *difference* to the line it corrects
  (``lineItem/backreferenceNo``), so the month's cost is Σ cost/myCost over all lines, corrections
  included, and the corrected line is not removed (Oracle: "Cost and Usage Reports Overview").
- OCI FOCUS reports: FOCUS 1.0 columns, Σ BilledCost and Σ EffectiveCost per billing period.
"""

from __future__ import annotations

import ast
import csv
import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_xl.focus.convert import conformance
from finops_xl.focus.convert.files import convert_exports
from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests import focus_validator
from tests.conftest import DATA, fixture_decimal

D = Decimal
ZERO = D(0)
GCP_SAMPLE = next((DATA / "provider-samples" / "gcp-bigquery-standard").glob("*.csv"))


def _csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))



def slices(report) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    """(billing account, YYYY-MM, currency) → (BilledCost, EffectiveCost) of each loaded slice."""
    out = {}
    for s in report.slices:
        for currency, _, billed, effective in s.currencies:
            out[(s.billing_account, f"{s.billing_period_start:%Y-%m}", currency)] = (billed, effective)
    return out


def _validate(inputs: list[Path], provider: str, tmp_path: Path) -> None:
    """The converted output passes every applicable focus-validator rule but the documented exceptions."""
    if focus_validator.executable() is None:
        pytest.skip("focus-validator is not installed: run .ci/run, or set $FOCUS_VALIDATOR")
    written, _ = convert_exports(inputs, tmp_path / "focus")
    assert len(written) == 1
    results = focus_validator.validate(
        written[0].path, tmp_path / "report.xml", version=conformance.FOCUS_VERSION,
        criteria=conformance.criteria(provider))
    assert len([r for r, status in results.items() if status != "skipped"]) > 200
    failed = {r for r, status in results.items() if status == "failed"}
    assert failed - set(conformance.EXCEPTIONS[provider]) == set()


# ---- Google Cloud: the standard export flattened to CSV with Python-style lists ------------------


def gcp_sample_rows(path: Path = GCP_SAMPLE) -> list[dict]:
    """The sample's rows as Google's nested records (credits and labels parsed as Python literals)."""
    rows = []
    for r in _csv(path):
        rows.append({**r, "credits": ast.literal_eval(r["credits"]) if r["credits"] else [],
                     "labels": ast.literal_eval(r["labels"]) if r["labels"] else []})
    return rows


def gcp_expected(rows: list[dict]) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    out: dict = defaultdict(lambda: ZERO)
    for r in rows:
        net = fixture_decimal(r["cost"]) + sum((fixture_decimal(c["amount"]) for c in r["credits"]), ZERO)
        month = r["invoice.month"]
        out[(r["billing_account_id"], f"{month[:4]}-{month[4:]}", r["currency"])] += net
    return {k: (v, v) for k, v in out.items()}


def test_gcp_sample_credits_are_python_style_lists():
    """The premise: the real sample writes credits the way Python prints a list, not as JSON."""
    raw = [r["credits"] for r in _csv(GCP_SAMPLE)]
    assert any(v.startswith("[{'") for v in raw)
    with pytest.raises(json.JSONDecodeError):
        json.loads(next(v for v in raw if v.startswith("[{'")))
    assert any(c for r in gcp_sample_rows() for c in r["credits"])


def test_gcp_sample_loads_alone_and_ties_to_cost_plus_credits(store_path):
    report = ingest([GCP_SAMPLE], CostStore(store_path))
    rows = gcp_sample_rows()
    assert report.rows == len(rows)
    assert slices(report) == gcp_expected(rows)
    assert [f.native_format for f in report.files] == ["gcp-billing"]
    # the credits were applied (not read as "no credits"): the gross cost differs from the net
    gross = sum((fixture_decimal(r["cost"]) for r in rows), ZERO)
    assert gross != sum(v[0] for v in gcp_expected(rows).values())


def test_gcp_sample_labels_become_tags(store_path):
    ingest([GCP_SAMPLE], CostStore(store_path))
    rows = gcp_sample_rows()
    expected = sorted(json.dumps({lb["key"]: lb["value"] for lb in r["labels"]}, sort_keys=True)
                      for r in rows if r["labels"])
    with CostStore(store_path).reader() as con:
        got = sorted(json.dumps(json.loads(t), sort_keys=True) for (t,) in con.execute(
            "SELECT CAST(Tags AS VARCHAR) FROM charges WHERE Tags IS NOT NULL").fetchall())
    assert got == expected and expected


def test_gcp_credits_as_json_and_as_python_lists_in_one_file(tmp_path, store_path):
    """A file mixing both spellings (e.g. re-saved by a tool that writes JSON for new rows)."""
    rows = _csv(GCP_SAMPLE)
    for r in rows[::2]:
        if r["credits"]:
            r["credits"] = json.dumps(ast.literal_eval(r["credits"]))
    mixed = tmp_path / "gcp-mixed.csv"
    with mixed.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    report = ingest([mixed], CostStore(store_path))
    assert slices(report) == gcp_expected(gcp_sample_rows())


def test_gcp_credits_that_are_neither_json_nor_a_list_are_refused(tmp_path, store_path):
    rows = _csv(GCP_SAMPLE)
    bad_index = next(i for i, r in enumerate(rows) if r["credits"].startswith("[{'")) + 2
    bad_value = "FreeTrial credit -5e-06"
    rows[bad_index]["credits"] = bad_value
    broken = tmp_path / "gcp-broken.csv"
    with broken.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(IngestError) as err:
        ingest([broken], CostStore(store_path))
    [problem] = err.value.problems
    assert problem.file.endswith("gcp-broken.csv")
    assert problem.row == bad_index + 1  # data rows are 1-based; the CSV line is row + 1
    assert problem.column == "credits" and problem.value == bad_value
    text = str(problem)
    assert f"line {bad_index + 2}" in text
    assert "credits" in text and "Malformed" not in text and "JSON at byte" not in text


GCP_SCHEMA = pa.schema([
    # Google's documented standard usage cost export schema (the fields the sample carries)
    ("billing_account_id", pa.string()),
    ("service", pa.struct([("id", pa.string()), ("description", pa.string())])),
    ("sku", pa.struct([("id", pa.string()), ("description", pa.string())])),
    ("usage_start_time", pa.timestamp("us", tz="UTC")),
    ("usage_end_time", pa.timestamp("us", tz="UTC")),
    ("project", pa.struct([("id", pa.string()), ("name", pa.string()),
                           ("ancestry_numbers", pa.string())])),
    ("labels", pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))),
    ("location", pa.struct([("location", pa.string()), ("country", pa.string()),
                            ("region", pa.string()), ("zone", pa.string())])),
    ("cost", pa.float64()),
    ("currency", pa.string()),
    ("currency_conversion_rate", pa.float64()),
    ("usage", pa.struct([("amount", pa.float64()), ("unit", pa.string()),
                         ("amount_in_pricing_units", pa.float64()), ("pricing_unit", pa.string())])),
    ("credits", pa.list_(pa.struct([("name", pa.string()), ("amount", pa.float64()),
                                    ("full_name", pa.string()), ("id", pa.string()),
                                    ("type", pa.string())]))),
    ("invoice", pa.struct([("month", pa.string())])),
    ("cost_type", pa.string()),
])


def _nested(r: dict) -> dict:
    import datetime as dt

    ts = lambda v: dt.datetime.fromisoformat(v)  # noqa: E731
    num = lambda v: float(v) if v else None  # noqa: E731
    none = lambda v: v or None  # noqa: E731
    return {
        "billing_account_id": r["billing_account_id"],
        "service": {"id": r["service.id"], "description": r["service.description"]},
        "sku": {"id": r["sku.id"], "description": r["sku.description"]},
        "usage_start_time": ts(r["usage_start_time"]), "usage_end_time": ts(r["usage_end_time"]),
        "project": {"id": r["project.id"], "name": r["project.name"],
                    "ancestry_numbers": r["project.ancestry_numbers"]},
        "labels": r["labels"],
        "location": {"location": none(r["location.location"]), "country": none(r["location.country"]),
                     "region": none(r["location.region"]), "zone": none(r["location.zone"])},
        "cost": float(r["cost"]), "currency": r["currency"],
        "currency_conversion_rate": num(r["currency_conversion_rate"]),
        "usage": {"amount": num(r["usage.amount"]), "unit": r["usage.unit"],
                  "amount_in_pricing_units": num(r["usage.amount_in_pricing_units"]),
                  "pricing_unit": r["usage.pricing_unit"]},
        "credits": r["credits"], "invoice": {"month": r["invoice.month"]}, "cost_type": r["cost_type"],
    }


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_gcp_sample_as_nested_bigquery_table_ties(fmt, tmp_path, store_path):
    """The same rows as BigQuery exports its table: JSON lines or Parquet with nested records."""
    rows = gcp_sample_rows()
    nested = [_nested(r) for r in rows]
    path = tmp_path / f"gcp-billing-202011.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(nested, schema=GCP_SCHEMA), path)
    else:
        # BigQuery writes a TIMESTAMP to JSON as "2020-11-09 23:00:00 UTC"
        path.write_text("".join(json.dumps(n, default=lambda t: t.strftime("%Y-%m-%d %H:%M:%S UTC")) + "\n"
                                for n in nested))
    report = ingest([path], CostStore(store_path))
    assert slices(report) == gcp_expected(rows)
    assert report.rows == len(rows)
    import datetime as dt

    with CostStore(store_path).reader() as con:
        starts = sorted(r[0] for r in con.execute("SELECT ChargePeriodStart FROM charges").fetchall())
    assert starts == sorted(dt.datetime.fromisoformat(r["usage_start_time"]).replace(tzinfo=None) for r in rows)


def test_gcp_sample_passes_focus_validator(tmp_path):
    _validate([GCP_SAMPLE], "Google Cloud", tmp_path)


# ---- Oracle Cloud: native cost reports ------------------------------------------------------------

OCI = DATA / "native" / "oci"
OCI_COST = OCI / "reports_cost-csv_0001000001234567.csv"
OCI_FOCUS = OCI / "focus-0001000001234568-00001.csv"


def oci_expected(rows: list[dict]) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    """Σ cost/myCost of every line, corrections included, per tenancy, usage month and currency."""
    out: dict = defaultdict(lambda: ZERO)
    for r in rows:
        key = (r["lineItem/tenantId"], r["lineItem/intervalUsageStart"][:7], r["cost/currencyCode"])
        out[key] += D(r["cost/myCost"])
    return {k: (v, v) for k, v in out.items()}


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_oci_cost_report_loads_and_ties_to_my_cost(store_path):
    rows = _csv(OCI_COST)
    report = ingest([OCI_COST], CostStore(store_path))
    assert [f.native_format for f in report.files] == ["oci-cost"]
    assert report.rows == len(rows)
    assert slices(report) == oci_expected(rows)
    assert len(slices(report)) == 2  # January and February 2025
    assert {s.provider for s in report.slices} == {"Oracle"}


def test_oci_correction_is_added_to_the_line_it_corrects_not_counted_twice(store_path):
    """Oracle adds a correction as a new row (isCorrection true, backreferenceNo = the corrected
    line's referenceNo) carrying the difference: the corrected usage costs original + correction."""
    rows = _csv(OCI_COST)
    [corr] = [r for r in rows if r["lineItem/isCorrection"] == "true"]
    [orig] = [r for r in rows if r["lineItem/referenceNo"] == corr["lineItem/backreferenceNo"]]
    corrected = D(orig["cost/myCost"]) + D(corr["cost/myCost"])
    assert corrected == D(orig["cost/unitPrice"]) * (D(orig["usage/billedQuantity"])
                                                     + D(corr["usage/billedQuantity"]))
    ingest([OCI_COST], CostStore(store_path))
    with CostStore(store_path).reader() as con:
        got = con.execute(
            "SELECT x_oci_ReferenceNumber, ChargeClass, BilledCost, EffectiveCost FROM charges "
            "WHERE x_oci_ReferenceNumber IN (?, ?)",
            [orig["lineItem/referenceNo"], corr["lineItem/referenceNo"]]).fetchall()
        classes = con.execute("SELECT ChargeClass, count(*) FROM charges GROUP BY ALL ORDER BY 1").fetchall()
    assert sorted((r[0], r[1]) for r in got) == sorted([
        (orig["lineItem/referenceNo"], None), (corr["lineItem/referenceNo"], "Correction")])
    assert sum(r[2] for r in got) == corrected and sum(r[3] for r in got) == corrected
    assert classes == [("Correction", 1), (None, len(rows) - 1)]


def test_oci_line_delivered_twice_is_refused(tmp_path, store_path):
    """An overlapping re-delivery (a later file repeating lines of an earlier one) would double count."""
    rows = _csv(OCI_COST)
    first = _write(tmp_path / "reports_cost-csv_0001000000000001.csv", rows[:10])
    again = _write(tmp_path / "reports_cost-csv_0001000000000002.csv", rows[7:])
    with pytest.raises(IngestError) as err:
        ingest([first, again], CostStore(store_path))
    problems = {Path(p.file).name: p for p in err.value.problems}
    assert set(problems) == {first.name, again.name}
    assert problems[first.name].row == 8 and problems[again.name].row == 1
    assert problems[first.name].column == "lineItem/referenceNo"
    assert problems[first.name].value == rows[7]["lineItem/referenceNo"]
    assert problems[first.name].count == 3
    assert again.name in str(problems[first.name])


def test_oci_tags_columns_become_tags(store_path):
    rows = _csv(OCI_COST)
    expected = sorted(json.dumps({k[5:]: v for k, v in r.items() if k.startswith("tags/") and v},
                                 sort_keys=True) for r in rows
                      if any(v for k, v in r.items() if k.startswith("tags/")))
    ingest([OCI_COST], CostStore(store_path))
    with CostStore(store_path).reader() as con:
        got = sorted(json.dumps(json.loads(t), sort_keys=True) for (t,) in con.execute(
            "SELECT CAST(Tags AS VARCHAR) FROM charges WHERE Tags IS NOT NULL").fetchall())
        keys = con.execute("SELECT count(*) FROM charges WHERE Tags->>'Finance.CostCenter' = 'CC-1001'").fetchall()
    assert got == expected
    assert keys == [(sum(1 for r in rows if r["tags/Finance.CostCenter"] == "CC-1001"),)]


def test_oci_cost_that_is_not_a_number_is_refused(tmp_path, store_path):
    rows = _csv(OCI_COST)
    rows[4]["cost/myCost"] = "0,048"
    bad = _write(tmp_path / "reports_cost-csv_0001000000000003.csv", rows)
    with pytest.raises(IngestError) as err:
        ingest([bad], CostStore(store_path))
    [p] = err.value.problems
    assert (p.row, p.column, p.value) == (5, "cost/myCost", "0,048")


def test_oci_gzip_cost_report_loads(tmp_path, store_path):
    import gzip

    packed = tmp_path / "reports_cost-csv_0001000001234567.csv.gz"
    packed.write_bytes(gzip.compress(OCI_COST.read_bytes()))
    report = ingest([packed], CostStore(store_path))
    assert slices(report) == oci_expected(_csv(OCI_COST))


def test_oci_cost_report_passes_focus_validator(tmp_path):
    _validate([OCI_COST], "Oracle", tmp_path)


# ---- Oracle Cloud: FOCUS reports ----------------------------------------------------------------


def test_oci_focus_report_loads_and_ties(store_path):
    rows = _csv(OCI_FOCUS)
    expected: dict = defaultdict(lambda: (ZERO, ZERO))
    for r in rows:
        key = (r["BillingAccountId"], r["BillingPeriodStart"][:7], r["BillingCurrency"])
        b, e = expected[key]
        expected[key] = (b + D(r["BilledCost"]), e + D(r["EffectiveCost"]))
    report = ingest([OCI_FOCUS], CostStore(store_path))
    assert report.rows == len(rows)
    assert slices(report) == dict(expected)
    with CostStore(store_path).reader() as con:
        got = con.execute(
            "SELECT ProviderName, RegionId, ConsumedQuantity, x_oci_ReferenceNumber, "
            "x_oci_BackReferenceNumber, ChargeClass FROM charges").fetchall()
    assert {g[0] for g in got} == {"Oracle"}
    assert sorted(g[3] for g in got) == sorted(r["oci_ReferenceNumber"] for r in rows)
    assert sorted(g[2] for g in got) == sorted(D(r["UsageQuantity"]) for r in rows)
    corrections = [r["oci_ReferenceNumber"] for r in rows if r["oci_BackReferenceNumber"]]
    assert sorted(g[3] for g in got if g[5] == "Correction") == corrections and corrections


def test_oci_focus_report_passes_focus_validator(tmp_path):
    _validate([OCI_FOCUS], "Oracle", tmp_path)


def test_oci_focus_and_cost_report_of_the_same_usage_agree():
    """The two fixtures describe the same usage, as OCI writes both reports."""
    assert {(k[1], k[2]): v for k, v in oci_expected(_csv(OCI_COST)).items()} == {
        (m, c): (v, v) for (m, c), v in _sum_focus().items()}


def _sum_focus() -> dict:
    out: dict = defaultdict(lambda: ZERO)
    for r in _csv(OCI_FOCUS):
        out[(r["BillingPeriodStart"][:7], r["BillingCurrency"])] += D(r["BilledCost"])
    return out


def test_oci_cost_and_focus_report_of_the_same_usage_in_one_load_are_refused(store_path):
    """Both reports describe the same lines (lineItem/referenceNo = oci_ReferenceNumber): loading
    both would double every cost, and their slices differ (tenancy vs numeric billing account)."""
    refs = {r["lineItem/referenceNo"] for r in _csv(OCI_COST)}
    assert refs == {r["oci_ReferenceNumber"] for r in _csv(OCI_FOCUS)}
    with pytest.raises(IngestError) as err:
        ingest([OCI_COST, OCI_FOCUS], CostStore(store_path))
    got = {Path(p.file).name: p for p in err.value.problems}
    assert set(got) == {OCI_COST.name, OCI_FOCUS.name}
    assert got[OCI_COST.name].column == "lineItem/referenceNo"
    assert got[OCI_FOCUS.name].column == "oci_ReferenceNumber"
    assert got[OCI_COST.name].row == 1 and got[OCI_COST.name].value in refs
    assert got[OCI_COST.name].count == len(refs)
    assert OCI_FOCUS.name in got[OCI_COST.name].message


@pytest.mark.parametrize("first,second", [(OCI_COST, OCI_FOCUS), (OCI_FOCUS, OCI_COST)],
                         ids=["cost-then-focus", "focus-then-cost"])
def test_oci_report_whose_lines_are_already_in_the_store_is_refused(first, second, store_path):
    store = CostStore(store_path)
    before = slices(ingest([first], store))
    with pytest.raises(IngestError) as err:
        ingest([second], store)
    [p] = err.value.problems
    assert Path(p.file).name == second.name and p.row == 1
    assert "already in the store" in p.message and first.name in p.message
    with store.reader() as con:
        total = con.execute("SELECT sum(BilledCost) FROM charges").fetchall()[0][0]
    assert total == sum(v[0] for v in before.values())


def test_oci_restated_cost_report_replaces_its_months(tmp_path, store_path):
    """The same lines again under the same tenancy are a restatement, not a double count."""
    store = CostStore(store_path)
    ingest([OCI_COST], store)
    rows = _csv(OCI_COST)
    rows[0]["cost/myCost"] = str(D(rows[0]["cost/myCost"]) + D("1.5"))
    restated = _write(tmp_path / OCI_COST.name, rows)
    report = ingest([restated], store)
    assert slices(report) == oci_expected(rows)
    with store.reader() as con:
        total = con.execute("SELECT sum(BilledCost), count(*) FROM charges").fetchall()[0]
    assert total == (sum(D(r["cost/myCost"]) for r in rows), len(rows))


def test_oci_usage_report_is_refused_pointing_to_the_cost_report(tmp_path, store_path):
    """OCI's usage report has the same line columns but no cost: say so, not "not a FOCUS export"."""
    rows = _csv(OCI_COST)
    usage = [{**{k: v for k, v in r.items() if not k.startswith("cost/")},
              "usage/consumedQuantity": r["usage/billedQuantity"]} for r in rows]
    path = _write(tmp_path / "reports_usage-csv_0001000001234569.csv", usage)
    with pytest.raises(IngestError) as err:
        ingest([path], CostStore(store_path))
    [p] = err.value.problems
    assert "usage report" in p.message and "cost report" in p.message and p.column == "cost/myCost"
    assert "not a FOCUS export" not in str(p)


def test_oci_corrections_are_reported_with_their_total(store_path):
    rows = [r for r in _csv(OCI_COST) if r["lineItem/isCorrection"] == "true"]
    report = ingest([OCI_COST], CostStore(store_path))
    [notice] = [n for n in report.all_notices if "correction" in n.message]
    assert notice.count == len(rows) and notice.currency == "EUR"
    assert notice.amount == sum(D(r["cost/myCost"]) for r in rows)


def test_gcp_python_style_lists_with_quotes_backslashes_and_unicode(tmp_path, store_path):
    """Python prints a string holding ' with double quotes, and one holding both with escapes:
    every such value reads back as ast.literal_eval reads it."""
    tricky = ["o'brien", 'say "hi"', "both ' and \"", "back\\slash", "Zürich–Genève", "None", "[{'x'}]"]
    rows = _csv(GCP_SAMPLE)
    for i, r in enumerate(rows):
        value = tricky[i % len(tricky)]
        r["labels"] = repr([{"key": "owner", "value": value}, {"key": f"k{i}", "value": None}])
        credits = ast.literal_eval(r["credits"]) if r["credits"] else []
        r["credits"] = repr([{**c, "full_name": value} for c in credits])
    path = tmp_path / "gcp-tricky.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    report = ingest([path], CostStore(store_path))
    parsed = [{**r, "credits": ast.literal_eval(r["credits"]), "labels": ast.literal_eval(r["labels"])}
              for r in rows]
    assert slices(report) == gcp_expected(parsed)
    with CostStore(store_path).reader() as con:
        owners = sorted(v for (v,) in con.execute("SELECT Tags->>'owner' FROM charges").fetchall())
    assert owners == sorted(tricky[i % len(tricky)] for i in range(len(rows)))
