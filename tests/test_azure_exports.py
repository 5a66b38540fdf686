"""Azure exports load alone, keep commitment terms, and pair row by row (issue 15, Azure part).

Expected values come from the files themselves (csv + Decimal) and Microsoft's documented semantics
of the two cost-details datasets:

- actual cost bills commitment (reservation / savings plan) purchases as Purchase rows and the usage
  they cover at 0; FOCUS gives such a purchase EffectiveCost 0, and the covered usage's amortized
  cost is not in the file;
- amortized cost leaves the purchases out and spreads them onto the covered usage and onto
  UnusedReservation / UnusedSavingsPlan rows, which the invoice bills at 0.

Fixtures: tests/data/native/azure/ (make_fixtures.py, make_azure_fixtures.py) and the real samples
in tests/data/provider-samples/azure-*/.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from finops_xl.close.amortization import commitments_from_store
from finops_xl.focus.convert import conformance
from finops_xl.focus.convert.files import convert_exports
from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests import focus_validator
from tests.conftest import DATA

D = Decimal
ZERO = D(0)
AZ = DATA / "native" / "azure"
SAMPLES = DATA / "provider-samples"
EA = (AZ / "ea-actual-cost-2025-01.csv", AZ / "ea-amortized-cost-2025-01.csv")
MCA = (AZ / "mca-actual-cost-2025-01.csv", AZ / "mca-amortized-cost-2025-01.csv")
THREE_YEAR = (AZ / "ea-3yr-actual-cost-2025-03.csv", AZ / "ea-3yr-amortized-cost-2025-03.csv")
EA_SAMPLE = SAMPLES / "azure-ea-actual" / "azure_version_2.csv"
LEGACY = sorted((SAMPLES / "azure-legacy-usage").glob("*.csv"))
COMMITMENT = ("Reservation", "SavingsPlan")


def _csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [{k.lower(): v for k, v in r.items()} for r in csv.DictReader(fh)]


def _cost(r: dict) -> Decimal:
    for name in ("costinbillingcurrency", "cost", "pretaxcost"):
        if r.get(name) not in (None, ""):
            return D(r[name])
    return ZERO


def _month(text: str) -> str:
    """YYYY-MM of an Azure date (ISO 8601 or MM/DD/YYYY)."""
    if "/" in text:
        m, _, rest = text.partition("/")
        return f"{rest.rpartition('/')[2][:4]}-{int(m):02d}"
    return text[:7]


def _key(r: dict) -> tuple[str, str, str]:
    """(billing account, billing period, currency) as FOCUS has them: the billing profile (EA
    enrollment, MCA billing profile), else the billing account, else (legacy pay-as-you-go usage)
    the subscription, which is what that export bills."""
    account = r.get("billingprofileid") or r.get("billingaccountid") or r.get("subscriptionguid")
    period = r.get("billingperiodstartdate") or r.get("date") or r.get("usagedatetime")
    currency = r.get("billingcurrency") or r.get("billingcurrencycode") or r.get("currency")
    return account, _month(period), currency.upper()


def _is_covered(r: dict) -> bool:
    return r["chargetype"] == "Usage" and r["pricingmodel"] in COMMITMENT


def _is_unused(r: dict) -> bool:
    return r["chargetype"] in ("UnusedReservation", "UnusedSavingsPlan")


def _is_commitment_purchase(r: dict) -> bool:
    return r["chargetype"] == "Purchase" and r["pricingmodel"] in COMMITMENT


def _totals(rows, billed, effective) -> dict:
    out: dict = defaultdict(lambda: [ZERO, ZERO])
    for r in rows:
        out[_key(r)][0] += billed(r)
        out[_key(r)][1] += effective(r)
    return {k: tuple(v) for k, v in out.items()}


def _slices(report) -> dict:
    out = {}
    for s in report.slices:
        for currency, _, billed, effective in s.currencies:
            out[(s.billing_account, f"{s.billing_period_start:%Y-%m}", currency)] = (billed, effective)
    return out


def _store_values(store: CostStore, sql: str):
    with store.reader() as con:
        return con.execute(sql).fetchall()


# ---- defect 1: one export alone ------------------------------------------------------------------


@pytest.mark.parametrize("path", [EA[0], MCA[0], THREE_YEAR[0]], ids=["ea", "mca", "3yr"])
def test_actual_cost_export_loads_alone(path, store_path):
    """BilledCost = the file's cost; EffectiveCost = cost except commitment purchases (0, FOCUS) and
    covered usage (0 in the file, its amortized cost unknown): a notice says how many rows and how
    much was bought, and the slice keeps it."""
    rows = _csv(path)
    store = CostStore(store_path)
    report = ingest([path], store)
    expected = _totals(rows, _cost, lambda r: ZERO if _is_commitment_purchase(r) else _cost(r))
    assert _slices(report) == expected
    covered = [r for r in rows if _is_covered(r)]
    bought = sum((_cost(r) for r in rows if _is_commitment_purchase(r)), ZERO)
    assert covered and bought
    (notice,) = [n for n in report.all_notices if "EffectiveCost" in n.message]
    assert notice.count == len(covered)
    assert notice.amount == bought and notice.currency == _key(rows[0])[2]
    assert "amortized-cost export" in notice.message
    notes = _store_values(store, "SELECT notes FROM slices")
    assert len(notes) == 1 and any("EffectiveCost" in n for n in notes[0][0])
    assert _store_values(store, "SELECT DISTINCT x_CostBasis FROM charges") == [("actual",)]


@pytest.mark.parametrize("path", [EA[1], MCA[1], THREE_YEAR[1]], ids=["ea", "mca", "3yr"])
def test_amortized_cost_export_loads_alone(path, store_path):
    """EffectiveCost = the file's cost; BilledCost = cost except commitment cost spread onto usage and
    unused commitment (billed 0; the purchases themselves are not in the file): a notice says so."""
    rows = _csv(path)
    store = CostStore(store_path)
    report = ingest([path], store)
    spread = [r for r in rows if _is_covered(r) or _is_unused(r)]
    expected = _totals(rows, lambda r: ZERO if r in spread else _cost(r), _cost)
    assert _slices(report) == expected
    (notice,) = [n for n in report.all_notices if "BilledCost" in n.message]
    assert notice.count == len(spread)
    assert notice.amount == sum((_cost(r) for r in spread), ZERO)
    assert "actual-cost export" in notice.message
    assert _store_values(store, "SELECT DISTINCT x_CostBasis FROM charges") == [("amortized",)]


def _ea_sample_in_usd(tmp_path) -> Path:
    """The real EA sample with its placeholder currency 'MC' (not an ISO 4217 code) written as USD,
    the only edit."""
    rows = EA_SAMPLE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    assert all(",MC," in line for line in rows[1:])
    copy = tmp_path / EA_SAMPLE.name
    copy.write_text(rows[0] + "".join(line.replace(",MC,", ",USD,") for line in rows[1:]))
    return copy


def test_real_ea_sample_with_a_placeholder_currency_is_refused_naming_it(store_path):
    with pytest.raises(IngestError) as err:
        ingest([EA_SAMPLE], CostStore(store_path))
    (problem,) = err.value.problems
    assert problem.file.endswith("azure_version_2.csv") and problem.value == "MC"
    assert (problem.column, problem.row) == ("BillingCurrencyCode", 1)  # as the file names it
    assert "ISO 4217" in problem.message and problem.count == len(_csv(EA_SAMPLE))


def test_export_whose_name_and_rows_do_not_tell_loads_as_actual_cost(tmp_path, store_path):
    """The real EA sample has no commitment rows and 'actual'/'amortized' nowhere in its name: it is
    loaded as the actual-cost export, and a notice says how to state otherwise."""
    sample = _ea_sample_in_usd(tmp_path)
    rows = _csv(sample)
    report = ingest([sample], CostStore(store_path))
    assert _slices(report) == _totals(rows, _cost, _cost)
    (notice,) = [n for n in report.all_notices if "actual-cost export" in n.message]
    assert "'amortized'" in notice.message and notice.file.endswith("azure_version_2.csv")


def test_rows_decide_the_kind_of_an_unnamed_export(tmp_path, store_path):
    a, m = tmp_path / "cost-a.csv", tmp_path / "cost-b.csv"
    shutil.copyfile(EA[0], a)
    shutil.copyfile(EA[1], m)
    report = ingest([m], CostStore(store_path))
    assert {n for n in report.all_notices if "loaded as the actual-cost" in n.message} == set()
    assert _store_values(CostStore(store_path), "SELECT DISTINCT x_CostBasis FROM charges") == [("amortized",)]
    report = ingest([a], CostStore(tmp_path / "other.duckdb"))
    assert _store_values(CostStore(tmp_path / "other.duckdb"),
                         "SELECT DISTINCT x_CostBasis FROM charges") == [("actual",)]


def test_actual_alone_then_the_pair_replaces_the_slice(store_path):
    store = CostStore(store_path)
    ingest([EA[0]], store)
    report = ingest(list(EA), store)
    pair = _csv(EA[0]), _csv(EA[1])
    expected = {k: (v, _totals(pair[1], _cost, _cost)[k][1]) for k, (v, _) in
                _totals(pair[0], _cost, _cost).items()}
    assert _slices(report) == expected
    ((billed, effective, n),) = _store_values(
        store, "SELECT sum(BilledCost), sum(EffectiveCost), count(DISTINCT x_LoadId) FROM charges")
    assert (billed, effective) == next(iter(expected.values())) and n == 1


# ---- defect 2: legacy pay-as-you-go usage and camel-case headers ----------------------------------


@pytest.mark.parametrize("path", LEGACY, ids=[p.stem[:12] for p in LEGACY])
def test_legacy_usage_export_loads(path, store_path):
    rows = _csv(path)
    report = ingest([path], CostStore(store_path))
    assert _slices(report) == _totals(rows, _cost, _cost)
    assert [f.native_format for f in report.files] == ["azure-usage-legacy"]


def test_camel_case_cost_details_headers_load(tmp_path, store_path):
    """An EA export with every header camelCased converts like the PascalCase one."""
    sample = _ea_sample_in_usd(tmp_path)
    camel = tmp_path / "azure_version_2_camel.csv"
    lines = sample.read_text().splitlines(keepends=True)
    lines[0] = ",".join(c[:1].lower() + c[1:] for c in lines[0].rstrip("\r\n").split(",")) + "\n"
    camel.write_text("".join(lines))
    report = ingest([camel], CostStore(store_path))
    assert _slices(report) == _totals(_csv(sample), _cost, _cost)


# ---- defect 3: commitment terms ---------------------------------------------------------------------


@pytest.mark.parametrize("paths", [THREE_YEAR, THREE_YEAR[:1]], ids=["pair", "actual-alone"])
def test_three_year_reservation_keeps_its_term(paths, store_path):
    rows = _csv(THREE_YEAR[0])
    (purchase,) = [r for r in rows if _is_commitment_purchase(r)]
    assert purchase["term"] == "36" and "3 Years" not in purchase["productname"]
    store = CostStore(store_path)
    ingest(list(paths), store)
    with store.reader() as con:
        (commitment,) = commitments_from_store(con)
    assert commitment.term_months == int(purchase["term"])
    assert commitment.upfront == _cost(purchase)
    (details,) = _store_values(store, "SELECT DISTINCT CAST(SkuPriceDetails AS VARCHAR) FROM charges "
                                      "WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL")
    details = json.loads(details[0])
    assert details["x_Term"] == "36 Months"
    assert details["x_PaymentOption"] == "Upfront"  # Frequency OneTime: paid upfront
    assert details["x_ServicePeriodStart"] == "2025-03-01"


# ---- defect 4: pairs that do not match, row granularity ------------------------------------------------

_NOT_KEY = {"costinbillingcurrency", "cost", "effectiveprice", "unitprice", "additionalinfo"}


def _description(r: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in r.items() if k not in _NOT_KEY))


def test_pair_keeps_rows_and_warns_on_unmatched(store_path):
    actual, amortized = (_csv(p) for p in THREE_YEAR)
    a, m = Counter(map(_description, actual)), Counter(map(_description, amortized))
    union = a | m  # rows pair one to one within identical descriptions
    store = CostStore(store_path)
    report = ingest(list(THREE_YEAR), store)
    assert report.rows == sum(union.values())
    assert len(actual) < report.rows < len(actual) + len(amortized)
    only_amortized = [r for r in amortized
                      if (m - a)[_description(r)] and not _is_unused(r)]
    assert len(only_amortized) == 1
    (notice,) = [n for n in report.all_notices if "no matching row" in n.message]
    assert "amortized-cost export" in notice.message and "BilledCost" in notice.message
    assert (notice.count, notice.amount, notice.currency) == (1, _cost(only_amortized[0]), "USD")
    assert _slices(report) == {k: (_totals(actual, _cost, _cost)[k][0], v[1])
                               for k, v in _totals(amortized, _cost, _cost).items()}
    kept = _store_values(store, "SELECT count(*) FROM charges WHERE x_CostBasis = 'actual+amortized' "
                                "AND ResourceName = 'stapp01'")
    assert kept == [(3,)]  # three storage rows with one description stay three rows


# ---- every sample and single export: FOCUS output passes the validator ----------------------------------

SINGLES = [EA_SAMPLE, *LEGACY, EA[0], EA[1], MCA[0], MCA[1], THREE_YEAR[0], THREE_YEAR[1]]


@pytest.mark.parametrize("path", SINGLES, ids=[p.stem[:24] for p in SINGLES])
def test_single_export_focus_output_passes_focus_validator(path, tmp_path):
    if focus_validator.executable() is None:
        pytest.skip("focus-validator is not installed: run .ci/run, or set $FOCUS_VALIDATOR")
    if path == EA_SAMPLE:
        path = _ea_sample_in_usd(tmp_path)
    written, _ = convert_exports([path], tmp_path / "focus")
    assert len(written) == 1
    results = focus_validator.validate(
        written[0].path, tmp_path / "report.xml", version=conformance.FOCUS_VERSION,
        criteria=conformance.criteria("Microsoft"))
    assert len([r for r, s in results.items() if s != "skipped"]) > 300
    failed = {r for r, status in results.items() if status == "failed"}
    excepted = set(conformance.EXCEPTIONS["Microsoft"])
    if not any(r.get("invoiceid") for r in _csv(path)):
        # the other half of the InvoiceId pair the rule model encodes without its condition (see
        # conformance._INVOICE_PAIR): a dataset without invoice ids fails C-005 instead of C-004
        excepted.add("InvoiceId-C-005-C")
    assert failed - excepted == set()


def test_pair_in_two_column_layouts_is_still_a_pair(tmp_path, store_path):
    """An amortized-cost export whose columns come in another order (another export definition) still
    completes the actual-cost export of its month: never two single exports added up in one slice."""
    rows = _csv(EA[1])
    with EA[1].open(newline="") as fh:
        columns = list(csv.DictReader(fh).fieldnames)
    reordered = tmp_path / "ea-amortized-cost-2025-01-reordered.csv"
    with reordered.open("w", newline="") as fh:
        w = csv.DictWriter(fh, columns[::-1])
        w.writeheader()
        with EA[1].open(newline="") as src:
            w.writerows(csv.DictReader(src))
    report = ingest([EA[0], reordered], CostStore(store_path))
    actual = _totals(_csv(EA[0]), _cost, _cost)
    amortized = _totals(rows, _cost, _cost)
    assert _slices(report) == {k: (actual[k][0], amortized[k][1]) for k in actual}
    assert [f.native_format for f in report.files] == ["azure"]


def test_exports_of_one_month_in_several_layouts_are_refused(tmp_path, store_path):
    """Two amortized-cost exports of January in two column layouts beside one actual-cost export:
    which pairs with which is not clear, so nothing is loaded and every file is named."""
    with EA[1].open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns, rows = list(reader.fieldnames), list(reader)
    reordered = tmp_path / "ea-amortized-cost-2025-01-b.csv"
    with reordered.open("w", newline="") as fh:
        w = csv.DictWriter(fh, columns[::-1])
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(IngestError) as err:
        ingest([EA[0], EA[1], reordered], CostStore(store_path))
    named = {p.file for p in err.value.problems}
    assert named == {str(EA[0]), str(EA[1]), str(reordered)}
    assert all("separate command" in p.message for p in err.value.problems)


def test_monthly_paid_commitments_say_so(store_path):
    """The EA fixture's reservation and savings plan are paid monthly (Frequency Recurring)."""
    store = CostStore(store_path)
    ingest(list(EA), store)
    purchases = [r for r in _csv(EA[0]) if _is_commitment_purchase(r)]
    assert {r["frequency"] for r in purchases} == {"Recurring"}
    got = _store_values(store, "SELECT DISTINCT CAST(SkuPriceDetails AS VARCHAR) FROM charges "
                               "WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL")
    assert [json.loads(d)["x_PaymentOption"] for (d,) in got] == ["Monthly"]
    assert {json.loads(d)["x_Term"] for (d,) in got} == {f"{r['term']} Months" for r in purchases}


def test_bad_currency_is_located_by_its_data_row(tmp_path, store_path):
    with EA[0].open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns, rows = list(reader.fieldnames), list(reader)
    rows[2]["BillingCurrencyCode"] = "DOLLARS"
    bad = tmp_path / "ea-actual-cost-2025-01.csv"
    with bad.open("w", newline="") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(IngestError) as err:
        ingest([bad], CostStore(store_path))
    (problem,) = err.value.problems
    assert (problem.row, problem.column, problem.value, problem.count) == (3, "BillingCurrencyCode", "DOLLARS", 1)


# ---- property: any actual / amortized row mix pairs one to one, totals carried exactly once ----------


def _fixture_rows():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_azure_fixtures", AZ.parent / "make_azure_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.COLUMNS, module.rows()


def _write(path: Path, columns, rows) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        w.writerows(rows)
    return path


def test_any_mix_of_rows_pairs_one_to_one(tmp_path_factory):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from finops_xl.focus.convert import group_notices, native_groups
    from finops_xl.store.sources import discover
    from finops_xl.store.store import connect

    columns, (actual_rows, amortized_rows) = _fixture_rows()

    def picks(rows):
        return st.lists(st.sampled_from(range(len(rows))), min_size=1, max_size=14)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(a_idx=picks(actual_rows), m_idx=picks(amortized_rows))
    def check(a_idx, m_idx):
        folder = tmp_path_factory.mktemp("mix")
        actual = [actual_rows[i] for i in a_idx]
        amortized = [amortized_rows[i] for i in m_idx]
        paths = [_write(folder / "x-actual-cost.csv", columns, actual),
                 _write(folder / "x-amortized-cost.csv", columns, amortized)]
        low = lambda rows: [{k.lower(): v for k, v in r.items()} for r in rows]  # noqa: E731
        a, m = Counter(map(_description, low(actual))), Counter(map(_description, low(amortized)))
        con = connect(":memory:", read_only=False)
        try:
            _, (group,) = native_groups(con, discover([str(p) for p in paths]))
            n, billed, effective = con.sql(
                f"SELECT count(*), sum(BilledCost), sum(EffectiveCost) FROM ({group.focus_sql()})").fetchall()[0]
            notices = group_notices(con, group)
        finally:
            con.close()
        assert n == sum((a | m).values())
        assert billed == sum((_cost(r) for r in low(actual)), ZERO)
        assert effective == sum((_cost(r) for r in low(amortized)), ZERO)
        by_description = {_description(r): r for r in low(actual + amortized)}
        only_m = sum(c for d, c in (m - a).items() if not _is_unused(by_description[d]))
        only_a = sum(c for d, c in (a - m).items() if not _is_commitment_purchase(by_description[d]))
        counts = {("amortized" if "of the amortized-cost" in x.message else "actual"): x.count
                  for x in notices if "no matching row" in x.message}
        assert counts == {k: v for k, v in (("actual", only_a), ("amortized", only_m)) if v}

    check()


def test_commitment_purchase_without_a_term_is_noticed(tmp_path, store_path):
    """No Term value and no "n Years" in the product names: the close would assume its default term,
    so a notice names the purchases instead of letting it pass silently."""
    with EA[0].open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns, rows = list(reader.fieldnames), list(reader)
    for r in rows:
        r["Term"] = ""
        r["ProductName"] = r["ProductName"].replace(", 1 Year", "")
    path = _write(tmp_path / "ea-actual-cost-2025-01.csv", columns, rows)
    purchases = [r for r in _csv(path) if _is_commitment_purchase(r)]
    assert purchases and not any("year" in r["productname"].lower() for r in purchases)
    report = ingest([path], CostStore(store_path))
    (notice,) = [n for n in report.all_notices if "no term" in n.message]
    assert notice.count == len(purchases)


def test_unnamed_export_with_rows_of_both_kinds_loads_as_actual_cost(tmp_path, store_path):
    """Commitment purchases (actual cost) and unused-reservation rows (amortized cost) in one unnamed
    file: undecidable, so it loads as the actual-cost export with the notice."""
    with EA[0].open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns, rows = list(reader.fieldnames), list(reader)
    with EA[1].open(newline="") as fh:
        rows += [r for r in csv.DictReader(fh) if r["ChargeType"] == "UnusedReservation"]
    path = _write(tmp_path / "cost-export.csv", columns, rows)
    report = ingest([path], CostStore(store_path))
    assert [s.billed_cost for s in report.slices] == [sum((_cost(r) for r in _csv(path)), ZERO)]
    assert [n.file for n in report.all_notices if "loaded as the actual-cost export" in n.message] == [str(path)]


def test_legacy_usage_export_bills_each_subscription(store_path):
    store = CostStore(store_path)
    ingest(LEGACY, store)
    expected = {(r["subscriptionguid"], "Subscription") for p in LEGACY for r in _csv(p)}
    assert set(_store_values(store, "SELECT DISTINCT BillingAccountId, BillingAccountType FROM charges")) == expected


# ---- the companion export completes a month loaded from one export ----------------------------------


def _pair_expected():
    pair = _csv(EA[0]), _csv(EA[1])
    return {k: (v, _totals(pair[1], _cost, _cost)[k][1]) for k, (v, _) in _totals(pair[0], _cost, _cost).items()}


@pytest.mark.parametrize("first", [0, 1], ids=["actual first", "amortized first"])
def test_the_companion_loaded_later_completes_the_month(first, tmp_path, store_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    files = [Path(shutil.copyfile(p, folder / p.name)) for p in EA]
    store = CostStore(store_path)
    ingest([files[first]], store)
    report = ingest([files[1 - first]], store)  # the other export alone, days later
    assert _slices(report) == _pair_expected()  # both measures, each counted once
    notes = [str(n) for n in report.all_notices]
    assert any("completed with" in n and files[first].name in n for n in notes), notes
    ((bases,),) = _store_values(store, "SELECT list(DISTINCT x_CostBasis) FROM charges")
    assert set(bases) <= {"actual+amortized", "actual", "amortized"} and "actual+amortized" in bases


def test_a_companion_no_longer_on_disk_is_said_to_be_replaced(tmp_path, store_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    actual, amortized = (Path(shutil.copyfile(p, folder / p.name)) for p in EA)
    store = CostStore(store_path)
    ingest([actual], store)
    actual.unlink()  # the earlier export is gone
    report = ingest([amortized], store)
    notes = [str(n) for n in report.all_notices]
    assert any(actual.name in n and "no longer" in n and "both" in n for n in notes), notes
    amortized_only = {k: v for k, v in _slices(report).items()}
    assert {k: v[1] for k, v in amortized_only.items()} == {k: v[1] for k, v in _pair_expected().items()}
