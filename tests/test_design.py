"""Design reviews: the bundled model priced by hand, its checks, the CLI and the workbook.

The bundled model (finops_xl/data/design/monolith-to-services.yaml) is worked by hand below from
the numbers stated in the file, without the code under test: each month's cost of each
alternative, the flows against the monolith, their XNPV at 8% (Excel's XNPV: flows discounted by
(1 + rate)^(days ÷ 365), period 0 on 1 January 2027, month k on the first day after it) and the
break-even month (GLOSSARY: the first month the cumulative flows turn non-negative).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as dt
import io
import math
import re
import shutil

import pytest
import yaml
from decimal import Decimal
from openpyxl import load_workbook

from finops_xl.cli import main
from finops_xl.data import design_model
from finops_xl.design.evaluate import evaluate, resolve_prices, tornado
from finops_xl.design.model import DesignModelError, load_model, parse_model
from finops_xl.design.prices import price_book
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import sample_store
from tests.libreoffice import convert

D = Decimal
MONTHS = 36
START = dt.date(2027, 1, 1)


# ---- the bundled model, by hand -------------------------------------------------------------

def users_index(m: int) -> Decimal:
    """users: +2% a month, a +25% step in month 13 (the EU launch)."""
    return D("1.02") ** (m - 1) * (D("1.25") if m >= 13 else 1)


def monolith(m: int) -> Decimal:
    i = users_index(m)
    return (14 * 730 * D("0.384") * i           # app servers, m6i.2xlarge, scale with users
            + 14 * 100 * D("0.08")               # their volumes, 100 GB each
            + 730 * D("0.48")                    # one large database
            + 730 * D("0.0225")                  # one load balancer
            + 2 * 730 * D("0.008") * i)          # its capacity units


def services(m: int) -> Decimal:
    i = users_index(m)
    sp = 1 - D("0.7") * D("0.28")                # savings plan on compute and kubernetes: 0.804
    cost = D(0)
    if m <= 6:                                   # the monolith runs until the cut-over
        cost += 14 * 730 * D("0.384") * i * sp
    cost += math.ceil(44 * i / (4 * D("0.7"))) * 730 * D("0.192") * sp   # service nodes
    cost += math.ceil(D("1.5") * 6 / (4 * D("0.7"))) * 730 * D("0.192") * sp  # overhead: 4 nodes
    cost += 730 * D("0.10")                      # control plane
    cost += 200 * 6 * D("0.08")                  # a volume per service
    cost += 6 * 730 * D("0.129")                 # a database per service
    cost += 120 * 3 * 8 * D("0.5") * i * D("0.02")  # inter-service traffic: 1,440 GB across zones
    cost += 6 * 730 * D("0.0225")                # a load balancer per service
    cost += 6 * 2 * 730 * D("0.008") * i         # and its capacity units
    return cost


MIGRATION = {0: D(45000), 6: D(10000)}


def hand_flows() -> list[Decimal]:
    return [-MIGRATION[0]] + [monolith(m) - services(m) - MIGRATION.get(m, 0) for m in range(1, MONTHS + 1)]


def month_end(k: int) -> dt.date:
    return dt.date(2027 + k // 12, k % 12 + 1, 1)


def hand_xnpv(rate: float, flows) -> float:
    return sum(float(f) / (1 + rate) ** ((month_end(k) - START).days / 365) for k, f in enumerate(flows))


def test_month_one_by_hand():
    # monolith: 3,924.48 + 112 + 350.4 + 16.425 + 11.68
    assert monolith(1) == D("4414.985")
    # services: 3,155.28192 (monolith × 0.804) + 20 nodes × 140.16 × 0.804 (2,253.7728) + 73 + 96 +
    # 565.02 + 28.8 + 98.55 + 70.08
    assert services(1) == D("6340.50472")


def test_bundled_model_matches_the_hand_computation():
    model = load_model(design_model())
    prices = resolve_prices(model, None)
    assert all(p.is_assumption for p in prices.values())  # no store: every price is stated
    result = evaluate(model, prices)
    mono, svc = result.alternative("monolith"), result.alternative("services")
    for m in range(1, MONTHS + 1):
        assert abs(mono.monthly[m - 1] - monolith(m)) < D("1e-20"), m
        assert abs(svc.monthly[m - 1] - services(m)) < D("1e-20"), m
    assert svc.migration[0] == 45000 and svc.migration[6] == 10000 and sum(svc.migration) == 55000
    flows = hand_flows()
    assert [round(f, 12) for f in svc.flows] == [round(f, 12) for f in flows]
    assert float(svc.npv) == pytest.approx(hand_xnpv(0.08, flows), abs=1e-6)
    cumulative, breakeven = D(0), None
    for k, f in enumerate(flows):
        cumulative += f
        if k >= 1 and cumulative >= 0:
            breakeven = k
            break
    assert svc.breakeven_month == breakeven == 31
    assert mono.npv is None and mono.flows is None
    # at a 0% rate the NPV is the plain sum of the flows
    flat = evaluate(model.replace(discount_rate=D(0)), prices).alternative("services")
    assert abs(flat.npv - sum(flows)) < D("1e-18")


def test_tornado_moves_one_assumption_at_a_time():
    model = load_model(design_model())
    prices = resolve_prices(model, None)
    bars = tornado(model, prices)
    by = {b.parameter: b for b in bars}
    assert set(by) >= {"assumption services", "price app_server", "growth users"}
    # 20% fewer monolith instances: the monolith is cheaper, so splitting it saves less
    low = evaluate(model, prices, assumptions={"monolith_instances": D("11.2")}).alternative("services").npv
    assert by["assumption monolith_instances"].npv_low == low < by["assumption monolith_instances"].npv_high
    assert [b.swing for b in bars] == sorted((b.swing for b in bars), reverse=True)


def test_prices_from_the_bill_replace_stated_ones(demo_store):
    model = load_model(design_model())
    with demo_store.reader() as con:
        book = price_book(con)
        (hand,) = con.execute(
            "SELECT sum(EffectiveCost) / sum(PricingQuantity) FROM charges WHERE ChargeCategory = 'Usage' "
            "AND json_extract_string(SkuPriceDetails, '$.InstanceType') = 'm6i.2xlarge' AND "
            "RegionId = 'us-east-1' AND PricingCategory = 'Standard' AND PricingQuantity > 0").fetchall()[0]
    prices = resolve_prices(model, book)
    assert not prices["app_server"].is_assumption
    assert float(prices["app_server"].unit_price) == pytest.approx(float(hand), rel=1e-12)
    assert prices["db_large_hour"].is_assumption  # no sku given: stated
    assert prices["node_hour"].is_assumption      # m6i.xlarge Standard is not on the bill
    assert "the bill has no such price" in prices["node_hour"].note


# ---- checks of the model file ---------------------------------------------------------------

def _bundled() -> dict:
    return yaml.safe_load(design_model().read_text())


def _edit(data: dict, path: str, value):
    keys = re.findall(r"[^.\[\]]+", path)
    node = data
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize("path, value, where, fix", [
    ("alternatives.services.components.4.kind", "storag", "alternatives.services.components[4].kind",
     "use one of compute"),
    ("alternatives.services.components.1.vcpu", "service_cpu * 2", "alternatives.services.components[1].vcpu",
     "define it under assumptions"),
    ("alternatives.monolith.components.0.price", "app", "alternatives.monolith.components[0].price",
     "use one of prices"),
    ("alternatives.services.commitment", "3y", "alternatives.services.commitment", "use one of commitment_options"),
    ("drivers.users.events.0.month", 40, "drivers.users.events[0].month", "give a month number from 2 to 36"),
    ("baseline", "mainframe", "baseline", "use one of monolith, services"),
    ("discount_rate", "8%", "discount_rate", "give the annual rate as a fraction"),
    ("prices.db_small_hour", {"note": "x"}, "prices.db_small_hour", "add sku:"),
    ("assumptions.services", "six", "assumptions.services", "write a number"),
    ("alternatives.services.components.0.until", KeyError, None, None),
    ("alternatives.services.components.0.colour", "red", "alternatives.services.components[0].colour",
     "use one of name, kind, price"),
])
def test_model_mistakes_are_one_line_naming_file_key_and_fix(path, value, where, fix):
    data = _edit(copy.deepcopy(_bundled()), path, value)
    if where is None:  # a valid change
        parse_model(data, "review.yaml")
        return
    with pytest.raises(DesignModelError) as err:
        parse_model(data, "review.yaml")
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"review.yaml: {where}: ") and fix in text, text


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(DesignModelError, match=r"bad.yaml: line \d+, column \d+: not valid YAML"):
        load_model(bad)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["design", "--model", str(tmp_path / "none.yaml")]) == 1
    assert err.getvalue().count("\n") == 1 and "none.yaml: cannot read the design model" in err.getvalue()


# ---- the CLI --------------------------------------------------------------------------------

def _run(*argv) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_cli_design_prints_the_hand_computed_npv(tmp_path):
    model = tmp_path / "review.yaml"
    assert "wrote" in _run("design", "--init", str(model))
    printed = _run("design", "--model", str(model), "--monthly")
    npv = hand_xnpv(0.08, hand_flows())
    assert f"{npv:,.2f}" in printed and "month 31" in printed
    assert "Prices: 0 from the bill, 9 assumptions" in printed
    assert f"{monolith(36):,.2f}" in printed  # the monthly table
    rows = list(csv.DictReader(io.StringIO(_run("design", "--model", str(model), "--format", "csv"))))
    assert len(rows) == MONTHS + 1 and rows[0]["date"] == "2027-01-01" and rows[36]["date"] == "2030-01-01"
    assert all(abs(D(r["flow_services"]) - f) < D("1e-20") for r, f in zip(rows, hand_flows(), strict=True))
    assert abs(D(rows[1]["cost_monolith"]) - monolith(1)) < D("1e-20") and D(rows[0]["cost_services"]) == 45000
    again = _run("design", "--model", str(model), "--rate", "0")
    assert f"{sum(hand_flows()):,.2f}" in again and "discount rate 0.0%" in again


# ---- the workbook ---------------------------------------------------------------------------

ERRORS = ("#NAME?", "#VALUE!", "#DIV/0!", "#REF!", "#N/A", "#NUM!", "#NULL!", "Err:")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    return CostStore(sample_store(tmp_path_factory.mktemp("design-store"), SampleSpec(rows=8_000, months=3, seed=7),
                                  allocated=False))


@pytest.fixture(scope="module")
def recalculated(demo_store, tmp_path_factory):
    """The workbook from the CLI with the demo store's prices, and a copy in which an engineer set
    services to 8; both recalculated by LibreOffice."""
    root = tmp_path_factory.mktemp("design-wb")
    path = root / "design.xlsx"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["workbook", "design", "--model", str(design_model()), "--store", str(demo_store.path),
                     "--out", str(path)]) == 0
    edited = root / "design-8.xlsx"
    shutil.copyfile(path, edited)
    wb = load_workbook(edited)
    ws = wb["Assumptions"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "services")
    ws.cell(row, 2).value = 8
    wb.save(edited)
    from finops_workbooks.design import build_design
    from finops_workbooks.writer import write_xlsx

    model = kinds_model()
    prices = resolve_prices(model, None)
    kinds_checks = {}
    kinds = write_xlsx(build_design(evaluate(model, prices), tornado(model, prices), None, kinds_checks),
                       root / "kinds.xlsx")
    first, second, third = convert([path, edited, kinds], root / "recalculated")
    return (load_workbook(first, data_only=True), load_workbook(second, data_only=True),
            (load_workbook(third, data_only=True), kinds_checks))


def _spec_and_checks(demo_store):
    from finops_workbooks.design import build_design

    model = load_model(design_model())
    with demo_store.reader() as con:
        book = price_book(con)
    prices = resolve_prices(model, book)
    checks = {}
    spec = build_design(evaluate(model, prices), tornado(model, prices), book, checks)
    return model, prices, spec, checks


def test_workbook_formulas_recalculate_to_python(recalculated, demo_store):
    from finops_workbooks.model import Formula

    book, _, _ = recalculated
    _, _, spec, checks = _spec_and_checks(demo_store)
    formulas = {(s.name, c.ref) for s in spec.sheets for c in s.cells if isinstance(c.value, Formula)}
    assert formulas == set(checks) and len(checks) > 1000  # every formula is checked
    _compare(book, checks)


def _compare(book, checks):
    wrong = {}
    for (sheet, at), expected in checks.items():
        got = book[sheet][at].value
        if isinstance(expected, str) or isinstance(got, str):
            ok = got == expected
        else:
            ok = got is not None and math.isclose(float(got), float(expected), rel_tol=1e-9, abs_tol=1e-9)
        if not ok:
            wrong[(sheet, at)] = (got, expected)
    assert not wrong, list(wrong.items())[:10]
    errors = [(ws.title, c.coordinate, c.value) for ws in book for row in ws.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith(ERRORS)]
    assert not errors, errors[:10]


def test_every_kind_recalculates_to_python(recalculated):
    """zones, regions, replicas, per and the default hours, as LibreOffice computes them."""
    book, checks = recalculated[2]
    assert len(checks) > 100
    _compare(book, checks)


def test_every_cost_is_quantity_times_a_price_book_price(demo_store):
    from finops_workbooks.model import Formula

    _, prices, spec, _ = _spec_and_checks(demo_store)
    costs = spec.sheet("Costs")
    cells = {c.ref: c.value for c in costs.cells}
    cost_rows = [int(c.ref[1:]) for c in costs.cells if c.ref.startswith("B") and c.value == "cost"]
    assert cost_rows
    for r in cost_rows:
        assert re.fullmatch(r"='Price book'!\$F\$\d+", cells[f"F{r}"].text)
        assert cells[f"H{r}"].text == f"=H{r - 1}*$F${r}*$G${r}"
    assert spec.sheet("Summary").charts and spec.sheet("Summary").charts[0].kind == "line"
    price_sheet = {c.ref: c.value for c in spec.sheet("Price book").cells}
    sources = [price_sheet[f"G{5 + i}"] for i in range(len(prices))]
    assert sources == [p.source for p in prices.values()] and "assumption" in sources and "bill" in sources
    summary = {c.ref: c.value for c in spec.sheet("Summary").cells}
    assert isinstance(summary["E6"], Formula) and summary["E6"].text.startswith("=XNPV(DiscountRate,")


def test_an_engineer_changes_the_service_count_and_the_npv_moves(recalculated, demo_store):
    base, edited, _ = recalculated
    model, prices, _, _ = _spec_and_checks(demo_store)
    expected = evaluate(model, prices, assumptions={"services": D(8)}).alternative("services")
    assert edited["Summary"]["A6"].value == "services"
    assert edited["Summary"]["E6"].value == pytest.approx(float(expected.npv), rel=1e-9, abs=1e-9)
    assert edited["Summary"]["E6"].value < base["Summary"]["E6"].value  # more services cost more
    assert edited["Summary"]["F6"].value == (expected.breakeven_month or "never")


# ---- the README's worked review -------------------------------------------------------------

def _readme_section() -> str:
    from tests.test_readme import README

    text = README.read_text()
    start = text.index("### Architecture reviews: `finops-xl prices`")
    return text[start:text.index("\n### ", start + 1)]


def test_readme_review_commands_run_and_print_what_the_readme_shows(tmp_path, monkeypatch):
    import shlex

    section = _readme_section()
    commands = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1).strip().splitlines()
    shown = re.search(r"```text\n(.*?)```", section, flags=re.S).group(1).strip().splitlines()
    assert len(commands) == 5 and len(shown) >= 5
    monkeypatch.chdir(tmp_path)
    generate(SampleSpec(rows=8_000, months=3, seed=3), tmp_path / "exports")
    ingest([tmp_path / "exports"], tmp_path / "finops-demo" / "finops-store")
    outputs = []
    for line in commands:
        argv = shlex.split(line)
        assert argv[0] == "finops-xl"
        outputs.append(_run(*argv[1:]))
    for line in shown:
        assert line in outputs[1], f"{line!r} not in `{commands[1]}`:\n{outputs[1]}"
    assert "Amazon Elastic Compute Cloud" in outputs[2]
    assert "from the bill" in outputs[3] and (tmp_path / "design.xlsx").is_file()
    # the figures in the prose are the hand-computed ones
    assert f"+{hand_xnpv(0.08, hand_flows()):,.2f}" in section and "month 31" in section


def test_runtime_mistakes_are_one_line(tmp_path, demo_store):
    data = _bundled()
    data["assumptions"]["bin_packing"]["value"] = 0          # nodes = vCPU ÷ (node vCPU × 0)
    model = tmp_path / "zero.yaml"
    model.write_text(yaml.safe_dump(data))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["design", "--model", str(model)]) == 1
    assert err.getvalue().count("\n") == 1
    assert "component 'service nodes' (kubernetes): its quantity divides by 0" in err.getvalue()
    data = _bundled()
    data["currency"] = "EUR"                                  # the demo bill is in USD
    model.write_text(yaml.safe_dump(data))
    with contextlib.redirect_stderr(err := io.StringIO()):
        assert main(["design", "--model", str(model), "--store", str(demo_store.path)]) == 1
    assert err.getvalue().count("\n") == 1 and "prices.app_server: the bill prices 'm6i.2xlarge' in USD, " \
        "the model is in EUR; set currency: USD" in err.getvalue()
    with contextlib.redirect_stderr(err := io.StringIO()):   # the workbook never overwrites its model
        assert main(["workbook", "design", "--model", str(model), "--out", str(model)]) == 1
    assert model.read_text() == yaml.safe_dump(data) and str(model.name) in err.getvalue()


KINDS = [
    ({"kind": "compute", "instances": 3, "hours": 730}, D(3 * 730)),
    ({"kind": "vcpu_hours", "vcpus": 2, "hours": 100, "zones": 3}, D(600)),
    ({"kind": "memory_hours", "gb": 4, "hours": 100, "regions": 2}, D(800)),
    ({"kind": "kubernetes", "vcpu": 10, "node_vcpu": 4, "bin_packing": "0.8", "hours": 730}, D(4 * 730)),
    ({"kind": "storage", "gb": 500, "replicas": "n"}, D(1500)),
    ({"kind": "iops", "iops": 3000}, D(3000)),
    ({"kind": "requests", "requests": 5_000_000, "per": 1000}, D(5000)),
    ({"kind": "data_transfer", "gb": "n * 10 / 4"}, D("7.5")),
    ({"kind": "load_balancer", "count": 2}, D(2 * 730)),       # hours default to 730
    ({"kind": "database", "instances": 1, "hours": 730, "replicas": "n"}, D(3 * 730)),
    ({"kind": "serverless", "invocations": 2_000_000}, D(2_000_000)),
    ({"kind": "gpu", "gpus": 8, "hours": 200}, D(1600)),
    ({"kind": "tokens", "tokens": 30_000_000, "per": 1000}, D(30_000)),
    ({"kind": "usage", "quantity": 12}, D(12)),
]


def kinds_model():
    data = {"start": "2027-01", "months": 2, "baseline": "a", "assumptions": {"n": 3},
            "prices": {"p": 2}, "alternatives": {
                "a": {"components": [{"name": "x", "kind": "usage", "quantity": 1, "price": "p"}]},
                "b": {"components": [{"name": f"c{i}", "price": "p", **c} for i, (c, _) in enumerate(KINDS)]}}}
    return parse_model(data, "kinds.yaml")


def test_every_kind_prices_the_product_of_its_fields():
    """Month-1 quantity of each kind, by hand: the product of its fields × replicas × zones ×
    regions ÷ per (Kubernetes: nodes rounded up, × hours)."""
    model = kinds_model()
    result = evaluate(model, resolve_prices(model, None))
    lines = result.alternative("b").lines
    assert [ln.quantities[0] for ln in lines] == [q for _, q in KINDS]
    assert [ln.costs[0] for ln in lines] == [2 * q for _, q in KINDS]
