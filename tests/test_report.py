"""finops-xl report (the monthly leader pack) and finops-xl tags, on the demo store.

Expected values are summed here from the store's own rows (SQL over ``charges`` and the allocation
lines through ``CostStore.reader()``), and the untagged share from the raw tags with Python's json
module, not through the report's code. The PDF needs Debian's ``chromium``; the HTML check also
``chromium-driver`` (``.ci/run`` installs both; under CI=true a missing one fails the test).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import time
import zlib
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from finops_xl.cli import main
from finops_xl.store.store import CostStore

MONTH = dt.date(2025, 3, 1)  # the last month of a 3-month demo
CENT = Decimal("0.01")
#: The demo rules' owner tag keys (finops_xl/data/allocation/demo-rules.yaml), folded by hand.
TEAM_KEYS = {"team", "ownerteam"}


def cents(x) -> str:
    return f"{Decimal(x).quantize(CENT, ROUND_HALF_EVEN):,.2f}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "demo"
    assert main(["demo", "--rows", "20000", "--months", "3", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def pack(demo):
    from tests.webdriver import chromium

    if not chromium():
        pytest.skip("needs chromium (apt-get install chromium) to print the PDF")
    report = demo / "report"
    assert main(["report", "--store", str(demo / "finops-store"), "--month", f"{MONTH:%Y-%m}",
                 "--out", str(report), "--budget", str(demo / "inputs" / "budget.csv"),
                 "--business", str(demo / "inputs" / "business.csv")]) == 0
    return report / f"leader-pack-{MONTH:%Y-%m}.html", report / f"leader-pack-{MONTH:%Y-%m}.pdf"


def store_figures(store_path):
    nxt = dt.date(MONTH.year, MONTH.month + 1, 1)
    with CostStore(store_path).reader() as con:
        (total,) = con.execute(
            "SELECT sum(EffectiveCost) FROM charges WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ?",
            [MONTH, nxt]).fetchall()[0]
        owners = dict(con.execute(
            "SELECT owner, sum(EffectiveCost) FROM allocated_charges WHERE month = ? AND owner <> 'UNALLOCATED' "
            "GROUP BY owner HAVING sum(EffectiveCost) <> 0", [MONTH]).fetchall())
        tag_sets = con.execute(
            "SELECT CAST(Tags AS VARCHAR), sum(EffectiveCost) FROM charges WHERE ChargePeriodStart >= ? "
            "AND ChargePeriodStart < ? GROUP BY 1", [MONTH, nxt]).fetchall()
    untagged = Decimal(0)
    for tags, amount in tag_sets:
        found = json.loads(tags) if tags else {}
        has_team = any(re.sub(r"[\s\-_.]", "", k.lower().split(":")[-1]) in TEAM_KEYS and str(v or "").strip()
                       for k, v in found.items())
        if not has_team:
            untagged += Decimal(amount)
    return Decimal(total), {o: Decimal(v) for o, v in owners.items()}, untagged


def test_report_totals_equal_the_store_to_the_cent(demo, pack):
    from pypdf import PdfReader

    html_path, pdf_path = pack
    total, owners, untagged = store_figures(demo / "finops-store")
    assert len(owners) >= 5 and untagged > 0
    html = html_path.read_text(encoding="utf-8")
    pages = [p.extract_text().replace("\ufb01", "fi").replace("\ufb02", "fl")  # the font's ligatures
             for p in PdfReader(pdf_path).pages]
    # the finance page, one page per owner, the tag governance page: one printed page each
    assert len(pages) == 1 + len(owners) + 1, [p[:60] for p in pages]
    assert f'<span class="month-total">{cents(total)} USD</span>' in html
    assert "finance summary" in pages[0] and f"{cents(total)} USD" in pages[0]
    for owner, amount in owners.items():
        assert f'<span class="owner-total">{cents(amount)} USD</span>' in html, owner
        page = next(p for p in pages[1:-1] if p.startswith(f"{owner}: cloud cost"))
        assert f"{owner} spent {cents(amount)} USD" in page.replace("\n", " ")
    share = f"{untagged / total:.1%}"
    assert f'<span class="untagged">{cents(untagged)} USD</span>' in html
    assert f'<span class="untagged-share">{share}</span>' in html
    assert "Tag governance" in pages[-1] and cents(untagged) in pages[-1] and share in pages[-1]
    # self-contained: no scripts, no external files; charts inline as SVG
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count("<svg") >= 2 + len(owners) + 2


def test_coverage_separates_tag_or_hierarchy_from_spread_by_policy(demo, capsys):
    store = str(demo / "finops-store")
    with CostStore(store).reader() as con:
        by_kind = dict(con.execute(
            "SELECT CASE WHEN kind = 'direct' THEN 'direct' WHEN pool_id = 'untagged' THEN 'policy' "
            "ELSE 'other' END, sum(EffectiveCost) FROM allocated_charges WHERE month = ? GROUP BY 1",
            [MONTH]).fetchall())
    total = sum(by_kind.values())
    assert by_kind.get("policy", 0) > 0  # the demo's untagged pool spreads ownerless spend
    assert main(["tags", "--store", store, "--month", f"{MONTH:%Y-%m}"]) == 0
    text = capsys.readouterr().out
    row = next(line for line in text.splitlines() if line.startswith(f"{MONTH:%Y-%m}"))
    assert f"{Decimal(by_kind['direct']) / Decimal(total):.1%}" in row
    assert f"{Decimal(by_kind['policy']) / Decimal(total):.1%}" in row
    assert main(["tags", "--store", store, "--month", f"{MONTH:%Y-%m}", "--format", "csv"]) == 0
    rows = [line.split(",") for line in capsys.readouterr().out.splitlines()]
    _, _, untagged = store_figures(demo / "finops-store")
    got = next(r for r in rows if r[:2] == ["untagged", f"{MONTH:%Y-%m}"])
    assert Decimal(got[3]).quantize(CENT) == untagged.quantize(CENT)


def test_report_errors_are_one_line(demo, tmp_path, capsys):
    store = str(demo / "finops-store")
    assert main(["report", "--store", store, "--month", "2030-01", "--out", str(tmp_path), "--no-pdf"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "2030-01" in err and "--month" in err
    assert main(["report", "--store", store, "--month", f"{MONTH:%Y-%m}", "--owner", "nobody",
                 "--out", str(tmp_path), "--no-pdf"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nobody" in err and "--owner" in err
    bad = tmp_path / "business.csv"
    bad.write_text("month,owner,metric,value\n2025-03,web,active users,lots\n")
    assert main(["report", "--store", store, "--month", f"{MONTH:%Y-%m}", "--business", str(bad),
                 "--out", str(tmp_path), "--no-pdf"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "row 2" in err and "value" in err and "'lots'" in err


def _ink(png: bytes) -> float:
    """Share of the screenshot's bytes that are not white (a blank page gives 0)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return sum(1 for b in raw[::7] if b < 200) / len(raw[::7])


def test_html_opens_in_headless_chromium_without_console_errors(pack, tmp_path):
    from tests.webdriver import Browser, chromedriver, chromium

    if not (chromedriver() and chromium()):
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    html_path, _ = pack
    with Browser(width=1100, height=800) as browser:
        browser.open(html_path.resolve().as_uri())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and browser.script("return document.readyState") != "complete":
            time.sleep(0.2)
        assert [e for e in browser.console() if e["level"] == "SEVERE"] == []
        sections = browser.elements("section.page")
        assert len(sections) >= 3
        for i, _ in enumerate(sections):
            browser.script(f"document.querySelectorAll('section.page')[{i}].scrollIntoView()")
            png = browser.screenshot(tmp_path / f"page-{i}.png").read_bytes()
            assert _ink(png) > 0.002, f"page {i} looks blank"
        assert browser.script("return document.querySelectorAll('svg').length") >= 3
        # printed, each section is one page tall and nothing in it is cut off
        browser._request("POST", f"{browser.session}/goog/cdp/execute",
                         {"cmd": "Emulation.setEmulatedMedia", "params": {"media": "print"}})
        clipped = browser.script(
            "return [...document.querySelectorAll('section.page')].filter("
            "s => s.scrollHeight > s.clientHeight + 1).map(s => s.dataset.owner || s.dataset.page)")
        assert clipped == []


def test_showback_workbook_has_the_tag_governance_tab(demo):
    from openpyxl import load_workbook

    _, _, untagged = store_figures(demo / "finops-store")
    ws = load_workbook(demo / "showback.xlsx")["Tag governance"]
    row = next(r for r in ws.iter_rows(min_row=5) if r[0].value == dt.datetime(MONTH.year, MONTH.month, 1))
    assert Decimal(str(row[2].value)).quantize(CENT) == untagged.quantize(CENT)
    assert row[3].value == f"=IF(B{row[0].row}=0,\"\",C{row[0].row}/B{row[0].row})"
    headers = [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
    assert "Untagged, spread by policy" in headers and "By tag" in headers and "Tag-key compliance" in headers


def test_bridge_parts_add_up_to_the_change_exactly(demo):
    from finops_xl.report.bridge import bridge

    prev = dt.date(MONTH.year, MONTH.month - 1, 1)
    nxt = dt.date(MONTH.year, MONTH.month + 1, 1)
    with CostStore(demo / "finops-store").reader() as con:
        want = dict(con.execute(
            "SELECT ChargePeriodStart >= ?, sum(EffectiveCost) FROM charges WHERE ChargePeriodStart >= ? "
            "AND ChargePeriodStart < ? AND BillingCurrency = 'USD' GROUP BY 1", [MONTH, prev, nxt]).fetchall())
        b = bridge(con, MONTH, "USD")
    assert (b.previous, b.current) == (Decimal(want[False]), Decimal(want[True]))
    assert sum(a for _, _, a in b.parts) == b.current - b.previous
    assert [k for k, _, _ in b.parts] == ["usage", "price", "new", "gone", "commitment"]
    assert b.amount("gone") < 0  # the demo's GPU training fleet stops after February


def test_allocate_says_how_much_of_the_coverage_is_spread_by_policy(demo, capsys):
    store = str(demo / "finops-store")
    assert main(["allocate", "--store", store, "--rules", str(demo / "inputs" / "demo-rules.yaml")]) == 0
    printed = capsys.readouterr().out
    with CostStore(store).reader() as con:
        policy, total = con.execute(
            "SELECT sum(EffectiveCost) FILTER (WHERE kind = 'shared' AND pool_id = 'untagged'), sum(EffectiveCost) "
            "FROM allocated_charges WHERE month = ?", [MONTH]).fetchall()[0]
    share = Decimal(policy) / Decimal(total)
    assert share > 0
    assert f"{share:.1%} untagged spend spread by policy (untagged)" in printed
