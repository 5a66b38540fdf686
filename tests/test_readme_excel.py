"""The README's Excel formulas run through the Office.js call path and give the documented results.

Each registry function's example is in the README; each README formula is parsed (string and
number literals and DATE(y,m,d) only) and executed against a store of generated January–March
2025 data, with the value checked against SQL over the charges.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from finops_udfs import registry
from finops_xl.optimization.demo import demo_ledger
from finops_xl.sample.generator import SampleSpec
from finops_xl.store.store import CostStore
from tests.conftest import sample_store
from tests.test_udfs_officejs import call, serial

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_formulas() -> list[str]:
    blocks = re.findall(r"```excel\n(.*?)```", README.read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def parse(formula: str) -> tuple[str, list]:
    """``=FINOPS.NAME(args)`` → (NAME, argument values as Excel would send them)."""
    m = re.fullmatch(r"=FINOPS\.(\w+)\((.*)\)", formula)
    assert m, formula
    args = []
    for token in re.findall(r'DATE\(\d+,\d+,\d+\)|\{[^}]*\}|"[^"]*"|[-\d.]+', m.group(2)):
        if token.startswith("{"):  # an array constant: rows split by ;, columns by ,
            args.append([[float(v) for v in row.split(",")] for row in token[1:-1].split(";")])
        elif token.startswith("DATE("):
            y, mo, d = map(int, re.findall(r"\d+", token))
            args.append(serial(dt.date(y, mo, d)))
        elif token.startswith('"'):
            args.append(token[1:-1])
        else:
            args.append(float(token))
    return m.group(1), args


@pytest.fixture(scope="module")
def default_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("readme")
    store = CostStore(sample_store(out, SampleSpec(rows=20_000, months=3, seed=3, plant_waste=True)))
    demo_ledger(store, out / "utilization.csv", dt.date(2025, 3, 1), 3)  # as the demo does
    return store


def test_every_function_is_documented_with_its_example():
    formulas = readme_formulas()
    for spec in registry.FUNCTIONS:
        assert spec.example in formulas, spec.example
        assert f"`{spec.classic_name}`" in README.read_text()


def test_readme_formulas_run(default_store, monkeypatch):
    monkeypatch.setenv("FINOPS_XL_STORE", str(default_store.path))
    results = {}
    for formula in readme_formulas():
        name, args = parse(formula)
        results[name] = call(name, *args)
    with default_store.reader() as con:
        (aws_compute,) = con.execute(
            "SELECT sum(EffectiveCost) FROM charges WHERE ChargePeriodStart >= '2025-01-01' AND "
            "ChargePeriodStart < '2025-02-01' AND ProviderName = 'AWS' AND ServiceCategory = 'Compute'"
        ).fetchall()[0]
        providers = [p for (p,) in con.execute(
            "SELECT DISTINCT ProviderName FROM charges ORDER BY 1").fetchall()]
    assert results["COST"] == [[float(Decimal(aws_compute))]]
    assert results["COSTTABLE"][0] == ["provider", "2025-01", "2025-02", "2025-03"]
    assert [r[0] for r in results["COSTTABLE"][1:]] == providers
    assert results["DIMENSIONS"][0] == ["dimension", "description"]
    assert results["VALUES"] == [[p] for p in providers]
    assert results["ALLOCATE"] == [[33.34], [33.33], [33.33]]
    coverage = dict(map(tuple, results["ALLOCATION_COVERAGE"][1:]))
    assert coverage["direct"] + coverage["shared"] + coverage["unallocated"] == pytest.approx(1)
    assert coverage["maturity"] in ("crawl", "walk", "run")
    schedule = results["AMORT_SCHEDULE"]
    assert [r[4] for r in schedule[1:]] == [54.84] + [100.0] * 11 + [45.16]  # hand-derived above
    assert results["AMORT"] == [[984.92]]
    assert results["VARIANCE"] == [["measure", "value"], ["variance", 200.0], ["variance_pct", 0.2],
                                   ["price_effect", 400.0], ["volume_effect", -200.0]]  # derived above
    optimal = dict(map(tuple, results["OPTIMAL_COMMITMENT"][1:]))
    assert (optimal["coverage_level"], optimal["hourly_commitment"]) == (700.0, 490.0)
    assert (optimal["total_cost"], optimal["on_demand_cost"]) == (3050.0, 4000.0)  # derived above
    assert 0 < results["UTILIZATION"][0][0] <= 1 and 0 < results["COVERAGE"][0][0] < 1
    assert results["COMMITMENTS"][0][0] == "id" and results["EXPIRING"][0][-2] == "suggestion"
    assert results["COMMIT_RECOMMEND"][0][:2] == ["provider", "scope"]
    assert {r[0] for r in results["COMMIT_RECOMMEND"][1:]} <= {"AWS", "(none)"}  # one provider asked, no pooling
    assert results["COMMIT_ACTIONS"][0][0] == "action"
    assert isinstance(results["ESR"][0][0], float)
    assert results["BREAKEVEN_MONTHS"] == [[8]]  # derived above
    assert results["COMMIT_NPV"][0][0] > 0 and results["COMMIT_IRR"][0][0] > 0.08
    assert round(results["TOKEN_COST"][0][0], 2) == 6.54  # GMI Cloud's published example
    assert results["UNIT_COST"] == [[150.0]]
    assert results["DRIVER_FORECAST"] == [[1230.0], [1353.0], [1476.0]]  # derived above
    assert results["FORECAST"][0] == ["month", "forecast", "low", "high"] and len(results["FORECAST"]) == 4
    assert results["BACKTEST"][0] == ["method", "mape", "bias", "band", "scored"]
    assert results["ACCRUAL"] == [[0.0]]  # the generated months are complete and invoiced
    assert {r[2] for r in results["JOURNAL"][1:]} == {"amortization"}
    assert results["OPPORTUNITIES"][0][:4] == ["id", "rule", "resource", "owner"]
    assert {r[3] for r in results["OPPORTUNITIES"][1:]} == {"web"}
    # web-batch-prod-01 is resized from m6i.2xlarge ($0.384/h) to m6i.xlarge ($0.192/h) on 10 March:
    # (0.384 − 0.192) × 24 h × 22 days = 101.376
    assert results["SAVINGS_REALIZED"] == [[101.38]]
    with default_store.reader() as con:
        (price,) = con.execute(
            "SELECT sum(EffectiveCost) / sum(PricingQuantity) FROM charges WHERE ChargeCategory = 'Usage' "
            "AND json_extract_string(SkuPriceDetails, '$.InstanceType') = 'm6i.2xlarge' AND "
            "RegionId = 'us-east-1' AND PricingCategory = 'Standard' AND PricingQuantity > 0").fetchall()[0]
    assert results["PRICE"][0][0] == pytest.approx(float(price), rel=1e-12)


def _lite_paragraph() -> str:
    text = README.read_text()
    start = text.index("**xlwings Lite (Python in the browser).**")
    return text[start:text.index("\n\n", start)]


def test_readme_lists_exactly_the_functions_that_run_in_lite():
    listed = set(re.findall(r"`FINOPS\.([A-Z_]+)`", _lite_paragraph()))
    in_lite = {f.name for f in registry.FUNCTIONS if "lite" in f.runtimes}
    assert listed == in_lite
    assert f"These {len(in_lite)} functions" in _lite_paragraph()


def test_readme_names_every_macro():
    import ast

    from finops_udfs import macros

    tree = ast.parse(Path(macros.__file__).read_text())
    scripts = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)
               and any("script" in ast.unparse(d) for d in f.decorator_list)}
    text = README.read_text()
    para = text[text.index("**Macros.**"):]
    para = para[:para.index("\n\n")]
    assert set(re.findall(r"`(finops_[a-z_]+)`", para)) - {"finops_udfs"} == scripts
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    assert f"provides {words[len(scripts)]} macros" in para
