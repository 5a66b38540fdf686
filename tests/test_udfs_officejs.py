"""The FINOPS functions through xlwings' own Office.js call path, with the payload Excel sends.

xlwings Server and xlwings Lite call ``xlwings.server.custom_functions_call`` with a payload like
the one built here: every argument a 2-D array, a repeating argument a list of 2-D arrays, dates as
serial numbers, empty cells as 0. Expected amounts come from SQL over the ``charges`` table, not
from the query layer under test.
"""

from __future__ import annotations

import asyncio
import shutil
import datetime as dt
from decimal import Decimal

import pytest
import xlwings
import xlwings.server

import finops_udfs
from finops_udfs import registry
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import read_csv_rows, write_csv_rows

EPOCH = dt.date(1899, 12, 30)


def serial(d: dt.date) -> int:
    """Excel's serial number of a date (1900 date system, after 1900-02-28)."""
    return (d - EPOCH).days


def matrix(value):
    return value if isinstance(value, list) and value and isinstance(value[0], list) else [[value]]


def payload(name: str, *args, repeating_from: int | None = None) -> dict:
    """The request Excel's Office.js add-in sends for ``=FINOPS.<name>(args...)``."""
    spec = registry.function(name)
    if repeating_from is None:
        repeating_from = next((i for i, a in enumerate(spec.args) if a.repeating), None)
    fixed = args if repeating_from is None else args[:repeating_from]
    wire = [matrix(a) for a in fixed]
    if repeating_from is not None:
        wire.append([matrix(a) for a in args[repeating_from:]])
    return {
        "func_name": spec.python_name,
        "args": wire,
        "caller_address": "Sheet1!B2",
        "formula_name": spec.officejs_name,
        "version": xlwings.__version__,
        "client": "Office.js",
        "runtime": "1.4",
        "culture_info_name": "en-US",
        "date_format": "M/d/yyyy",
    }


def call(name: str, *args):
    """Run ``=FINOPS.<name>(args...)`` through xlwings; returns the 2-D result Excel receives."""
    return asyncio.run(xlwings.server.custom_functions_call(payload(name, *args), finops_udfs))


def scalar(result):
    assert isinstance(result, list) and len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> CostStore:
    out = tmp_path_factory.mktemp("udf")
    generate(SampleSpec(rows=20_000, months=3, seed=11), out / "exports")
    ingest([out / "exports"], out / "finops-store")
    return CostStore(out / "finops-store")


def sql_sum(store: CostStore, where: str, params: list, metric: str = "EffectiveCost") -> Decimal:
    with store.reader() as con:
        (total,) = con.execute(f"SELECT sum({metric}) FROM charges WHERE {where}", params).fetchall()[0]
    return Decimal(total or 0)


JAN, FEB, APR = dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 4, 1)
PERIOD = "ChargePeriodStart >= ? AND ChargePeriodStart < ?"


# ---- registration -----------------------------------------------------------------------------


def test_meta_lists_every_registry_function_in_the_finops_namespace():
    meta = xlwings.server.custom_functions_meta(finops_udfs)
    by_id = {f["id"]: f for f in meta["functions"]}
    assert set(by_id) == {f.python_name for f in registry.FUNCTIONS}
    for spec in registry.FUNCTIONS:
        f = by_id[spec.python_name]
        assert f["name"] == spec.officejs_name == f"FINOPS.{spec.name}"
        assert f["description"] == spec.summary
        params = f["parameters"]
        assert [p["name"] for p in params] == [a.name for a in spec.args]
        assert [p["description"] for p in params] == [a.doc for a in spec.args]
        assert [bool(p.get("repeating")) for p in params] == [a.repeating for a in spec.args]
        assert [bool(p.get("optional")) for p in params] == [a.optional for a in spec.args]


EXCEL_BUILTINS = {"COST", "SUM", "VALUE", "NPV", "XNPV", "DATE", "INDEX", "MATCH", "TABLE"}


def test_classic_names_have_no_dots_and_cannot_collide_with_excel_builtins():
    for spec in registry.FUNCTIONS:
        f = getattr(finops_udfs, spec.classic_name)
        info = f.__xlfunc__
        assert info["name"] == spec.classic_name  # the classic add-in registers the Python name
        assert "." not in spec.classic_name and spec.classic_name.startswith("FINOPS_")
        assert spec.classic_name not in EXCEL_BUILTINS
        assert [a["name"] for a in info["args"]] == [a.name for a in spec.args]
        assert all(a["doc"] for a in info["args"])
        assert spec.formula("classic", "A1") .startswith(f"={spec.classic_name}(")
    with pytest.raises(ValueError):
        registry.function("COST").formula("lite", "A1")  # needs the store: not in Lite


# ---- FINOPS.COST ------------------------------------------------------------------------------


def test_cost_equals_sql_over_the_store(store):
    got = scalar(call("COST", serial(JAN), serial(FEB), "store", str(store.path), "provider", "AWS"))
    want = sql_sum(store, f"{PERIOD} AND ProviderName = 'AWS'", [JAN, FEB])
    assert want > 0
    assert got == float(want)


def test_cost_metric_filters_and_tags(store):
    s = str(store.path)
    billed = scalar(call("COST", serial(JAN), serial(APR), "store", s, "BilledCost"))
    assert billed == float(sql_sum(store, PERIOD, [JAN, APR], "BilledCost"))
    as_pair = scalar(call("COST", serial(JAN), serial(APR), "store", s, "metric", "list"))
    assert as_pair == float(sql_sum(store, PERIOD, [JAN, APR], "ListCost"))
    compute = scalar(call("COST", serial(JAN), serial(APR), "store", s, "service category", "Compute",
                          "provider", [["AWS"], ["Microsoft"]]))
    assert compute == float(sql_sum(
        store, f"{PERIOD} AND ServiceCategory = 'Compute' AND ProviderName IN ('AWS', 'Microsoft')",
        [JAN, APR]))
    with store.reader() as con:
        key, value = con.execute(
            "SELECT k, Tags->>k AS v FROM (SELECT Tags, unnest(json_keys(Tags)) AS k FROM charges "
            "WHERE Tags IS NOT NULL) GROUP BY ALL ORDER BY count(*) DESC LIMIT 1").fetchall()[0]
    tagged = scalar(call("COST", serial(JAN), serial(APR), "store", s, f"tag:{key}", value))
    assert tagged == float(sql_sum(store, f"{PERIOD} AND Tags->>? = ?", [JAN, APR, key, value]))


def test_cost_filters_from_a_two_column_range_and_empty_cells(store):
    table = [["provider", "Google Cloud"], ["store", str(store.path)], [0, 0]]  # a blank row: 0s
    got = scalar(call("COST", serial(JAN), serial(FEB), table))
    assert got == float(sql_sum(store, f"{PERIOD} AND ProviderName = 'Google Cloud'", [JAN, FEB]))


def test_default_store_from_environment(store, monkeypatch):
    monkeypatch.setenv("FINOPS_XL_STORE", str(store.path))
    got = scalar(call("COST", serial(JAN), serial(FEB)))
    assert got == float(sql_sum(store, PERIOD, [JAN, FEB]))


def test_dates_as_cells_and_text_under_the_classic_runtime(store):
    """The classic add-in passes date cells as datetime and empty cells as None."""
    got = finops_udfs.FINOPS_COST(dt.datetime(2025, 1, 1), "2025-02-01", "store", str(store.path), None, None)
    assert got == float(sql_sum(store, PERIOD, [JAN, FEB]))


# ---- FINOPS.COSTTABLE, DIMENSIONS, VALUES -----------------------------------------------------


def test_costtable_pivot_with_header(store):
    s = str(store.path)
    result = call("COSTTABLE", serial(JAN), serial(APR), "provider", "month", 0, "store", s)
    assert result[0] == ["provider", "2025-01", "2025-02", "2025-03"]
    with store.reader() as con:
        rows = con.execute(
            f"SELECT ProviderName, strftime(ChargePeriodStart, '%Y-%m'), sum(EffectiveCost) "
            f"FROM charges WHERE {PERIOD} GROUP BY ALL", [JAN, APR]).fetchall()
    want = {(p, m): float(v) for p, m, v in rows}
    body = {(r[0], m): v for r in result[1:] for m, v in zip(result[0][1:], r[1:])}
    assert body == want
    assert [r[0] for r in result[1:]] == sorted({p for p, _ in want})


def test_costtable_single_column_and_filters(store):
    s = str(store.path)
    result = call("COSTTABLE", serial(JAN), serial(FEB), "service_category", "", "BilledCost",
                  "provider", "AWS", "store", s)
    assert result[0] == ["service_category", "BilledCost"]
    for category, amount in result[1:]:
        assert amount == float(sql_sum(
            store, f"{PERIOD} AND ProviderName = 'AWS' AND ServiceCategory = ?", [JAN, FEB, category],
            "BilledCost"))


def test_days_and_whole_months_agree_with_the_charges(store):
    """Whole months are answered from a monthly roll-up, days from a daily one: both equal the
    charges summed directly, in either order of asking."""
    s = str(store.path)
    mid_jan, mid_mar = dt.date(2025, 1, 17), dt.date(2025, 3, 9)
    month = scalar(call("COST", serial(FEB), serial(APR), "store", s, "provider", "AWS"))
    assert month == float(sql_sum(store, f"{PERIOD} AND ProviderName = 'AWS'", [FEB, APR]))
    days = scalar(call("COST", serial(mid_jan), serial(mid_mar), "store", s, "provider", "AWS"))
    assert days == float(sql_sum(store, f"{PERIOD} AND ProviderName = 'AWS'", [mid_jan, mid_mar]))
    result = call("COSTTABLE", serial(FEB), serial(dt.date(2025, 2, 4)), "date", "", 0, "store", s)
    with store.reader() as con:
        rows = con.execute(
            f"SELECT CAST(ChargePeriodStart AS DATE), sum(EffectiveCost) FROM charges WHERE {PERIOD} "
            f"GROUP BY ALL ORDER BY 1", [FEB, dt.date(2025, 2, 4)]).fetchall()
    assert len(result) - 1 == len(rows) == 3
    assert [r[1] for r in result[1:]] == [float(v) for _, v in rows]
    again = scalar(call("COST", serial(JAN), serial(APR), "store", s, "BilledCost"))
    assert again == float(sql_sum(store, PERIOD, [JAN, APR], "BilledCost"))

def test_dimensions_and_values(store):
    s = str(store.path)
    dims = call("DIMENSIONS", s)
    assert dims[0] == ["dimension", "description"]
    names = [d[0] for d in dims[1:]]
    assert {"provider", "sub_account", "service", "service_category", "region", "charge_category"} <= set(names)
    assert any(n.startswith("tag:") for n in names)
    values = call("VALUES", "provider", s)
    assert values == [["AWS"], ["Google Cloud"], ["Microsoft"]]


# ---- errors a finance user can act on -----------------------------------------------------------


def error_of(name: str, *args) -> str:
    with pytest.raises(xlwings.XlwingsError) as err:
        call(name, *args)
    text = str(err.value)
    assert "Traceback" not in text
    return text


def test_bad_arguments_show_what_to_fix(store, tmp_path):
    s = str(store.path)
    cases = {
        "unknown dimension 'provder'": ("COST", serial(JAN), serial(FEB), "store", s, "provder", "AWS"),
        "must be after start": ("COST", serial(FEB), serial(JAN), "store", s),
        "unknown metric 'Amortized'": ("COST", serial(JAN), serial(FEB), "store", s, "metric", "Amortized"),
        "the filter 'Amortized' has no value": ("COST", serial(JAN), serial(FEB), "store", s, "Amortized"),
        "no cost store at": ("COST", serial(JAN), serial(FEB), "store", str(tmp_path / "none.duckdb")),
        "start is empty": ("COST", 0, serial(FEB), "store", s),
        "no charges have provider = 'AWZ'; did you mean 'AWS'?":
            ("COST", serial(JAN), serial(FEB), "store", s, "provider", "AWZ"),
        "the filter 'provider' has no value": ("COST", serial(JAN), serial(FEB), "store", s, "provider", ""),
        "not a valid Excel date": ("COST", -5, serial(FEB), "store", s),
        "no tag key 'nosuchkey'": ("COSTTABLE", serial(JAN), serial(FEB), "tag:nosuchkey", 0, 0, "store", s),
        "unknown dimension 'colour'": ("VALUES", "colour", s),
    }
    for fragment, (name, *args) in cases.items():
        message = error_of(name, *args)
        assert message.startswith(f"FINOPS.{name}: ")
        assert fragment in message, (fragment, message)


def test_several_currencies_are_never_added(sample_csv, tmp_path):
    header, rows = read_csv_rows(sample_csv)
    p, c = header.index("ProviderName"), header.index("BillingCurrency")
    rows = [r[:c] + ["EUR" if r[p] == "Oracle" else r[c]] + r[c + 1:] for r in rows]
    store = tmp_path / "fx.duckdb"
    ingest([write_csv_rows(tmp_path / "fx.csv", header, rows)], store)
    sep, nov = serial(dt.date(2024, 9, 1)), serial(dt.date(2024, 11, 1))
    message = error_of("COST", sep, nov, "store", str(store))
    assert "several billing currencies (EUR, USD)" in message and "currency" in message
    eur = scalar(call("COST", sep, nov, "store", str(store), "currency", "EUR", "BilledCost"))
    assert eur == float(sum((Decimal(r[header.index("BilledCost")]) for r in rows if r[p] == "Oracle"),
                            Decimal(0)))


def test_results_follow_a_new_load(store, tmp_path):
    """The cache is per store version: a load is seen by the next call."""
    work = CostStore(tmp_path / "copy")
    shutil.copytree(store.path, work.path)
    before = scalar(call("COST", serial(JAN), serial(APR), "store", str(work.path)))
    from finops_xl.data import focus_sample_csv

    ingest([focus_sample_csv()], work)  # adds 2024 slices: Jan–Mar 2025 unchanged
    assert scalar(call("COST", serial(JAN), serial(APR), "store", str(work.path))) == before
    header, rows = read_csv_rows(focus_sample_csv())
    p, b = header.index("ProviderName"), header.index("BilledCost")
    oracle = sum((Decimal(r[b]) for r in rows if r[p] == "Oracle"), Decimal(0))
    sep = serial(dt.date(2024, 9, 1))
    got = scalar(call("COST", sep, serial(JAN), "store", str(work.path), "provider", "Oracle", "BilledCost"))
    assert oracle > 0 and got == float(oracle)
