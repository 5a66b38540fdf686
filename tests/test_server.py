"""``finops-xl serve``: xlwings Server as Excel talks to it, over HTTP.

The server runs as a child process (``python -m finops_xl.cli serve``) on 127.0.0.1 and a free port,
over a store generated for the test. Excel fetches the manifest, then the custom functions'
metadata, then calls ``/xlwings/custom-functions-call`` with the body its Office.js add-in builds
(``custom-functions-code.js`` of xlwings Server: every argument a 2-D array, a repeating argument a
list of them, omitted optional arguments null, dates as serial numbers). Expected amounts come from
SQL over the store's ``charges`` and from the export files themselves, never from the query layer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import xlwings

from finops_udfs import registry
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.test_udfs_officejs import matrix, serial

if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
    import xlwings_server  # noqa: F401 - CI installs the server extra: without it this module must fail
else:
    pytest.importorskip("xlwings_server", reason="the server extra: pip install -e '.[server]'")

ROOT = Path(__file__).resolve().parents[1]
JAN, FEB, MAR, APR = (dt.date(2025, m, 1) for m in (1, 2, 3, 4))
OFFICE_NS = "{http://schemas.microsoft.com/office/appforoffice/1.1}"
OVERRIDES_NS = "{http://schemas.microsoft.com/office/taskpaneappversionoverrides}"
BT_NS = "{http://schemas.microsoft.com/office/officeappbasictypes/1.0}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "udfs"), str(ROOT / "workbooks"),
                                         env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


class Server:
    """A running ``finops-xl serve`` child process and the HTTP calls Excel makes to it."""

    def __init__(self, store: Path, port: int):
        self.store, self.url = store, f"http://127.0.0.1:{port}"
        self.log = store.with_name("serve.log")
        with self.log.open("w") as log:  # a file, not a pipe: nothing can block on it
            self.process = subprocess.Popen(
                [sys.executable, "-m", "finops_xl.cli", "serve", "--store", str(store), "--port", str(port)],
                env=child_env(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"finops-xl serve exited: {self.log.read_text()}")
            with contextlib.suppress(OSError):
                self.get("/manifest")
                return
            time.sleep(0.3)
        self.stop()
        raise AssertionError("finops-xl serve did not answer within 90 s")

    def stop(self) -> int:
        self.process.terminate()  # finops-xl serve passes SIGTERM on to the server
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError("finops-xl serve did not stop on SIGTERM") from None

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return response.read()

    def post(self, path: str, body: dict) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def call(self, name: str, *args, omitted: int = 0):
        """``=FINOPS.<name>(args...)`` as Excel's Office.js add-in sends it; ``omitted`` trailing
        optional arguments are left out (Office.js sends them as null). Returns the 2-D result."""
        spec = registry.function(name)
        repeating = next((i for i, a in enumerate(spec.args) if a.repeating), None)
        fixed = args if repeating is None else args[:repeating]
        wire = [matrix(a) for a in fixed] + [None] * omitted
        if repeating is not None:
            wire.append([matrix(a) for a in args[repeating:]])
        status, body = self.post("/xlwings/custom-functions-call", {
            "client": "Office.js", "func_name": spec.python_name, "args": wire,
            "caller_address": "[Costs.xlsx]Sheet1!B2", "session_id": "test-session",
            "culture_info_name": "en-US", "date_format": "M/d/yyyy",
            "version": xlwings.__version__, "runtime": "1.4"})
        assert status == 200, (name, status, body.decode())
        return json.loads(body)["result"]


def scalar(result):
    assert isinstance(result, list) and len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


def sql(store: Path, query: str, params: list | None = None):
    with CostStore(store).reader() as con:
        return con.execute(query, params or []).fetchall()


def sql_sum(store: Path, where: str, params: list, metric: str = "EffectiveCost") -> Decimal:
    (total,) = sql(store, f"SELECT sum({metric}) FROM charges WHERE {where}", params)[0]
    return Decimal(total or 0)


PERIOD = "ChargePeriodStart >= ? AND ChargePeriodStart < ?"


def file_sum(files: list[Path], column: str = "EffectiveCost") -> Decimal:
    """Σ a cost column of export files, read with pyarrow (not through the store)."""
    total = Decimal(0)
    for f in files:
        total += sum((v for v in pq.read_table(f, columns=[column]).column(column).to_pylist()
                      if v is not None), Decimal(0))
    return total


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("server-exports")
    generate(SampleSpec(rows=6_000, months=3, seed=21), out)
    return out


@pytest.fixture(scope="module")
def server(exports, tmp_path_factory):
    """The server over a store holding January and February; March is loaded by a test."""
    store = tmp_path_factory.mktemp("server-store") / "finops-store"
    ingest(sorted(p for p in exports.glob("*.parquet") if "2025-03" not in p.name), store)
    running = Server(store, free_port())
    yield running
    assert running.stop() == 0, running.log.read_text()
    with pytest.raises(OSError):  # the server process stopped with it
        running.get("/manifest")


# ---- what Excel fetches when the add-in loads -------------------------------------------------


def test_manifest_is_an_office_add_in_in_the_finops_namespace(server):
    root = ET.fromstring(server.get("/manifest"))
    assert root.tag == f"{OFFICE_NS}OfficeApp"
    assert root.find(f"{OFFICE_NS}DisplayName").get("DefaultValue") == "finops-xl"
    strings = {s.get("id"): s.get("DefaultValue") for s in root.iter(f"{BT_NS}String")}
    assert strings["Functions.Namespace"] == "FINOPS"
    extension = next(e for e in root.iter(f"{OVERRIDES_NS}ExtensionPoint")
                     if e.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "CustomFunctions")
    assert extension.find(f"{OVERRIDES_NS}Namespace").get("resid") == "Functions.Namespace"
    urls = {u.get("id"): u.get("DefaultValue") for u in root.iter(f"{BT_NS}Url")}
    assert urls["Functions.Metadata.Url"] == f"{server.url}/xlwings/custom-functions-meta.json"
    assert urls["Taskpane.Url"] == f"{server.url}/taskpane.html"


def test_metadata_names_every_function_with_its_arguments_and_help(server):
    """Excel shows <manifest namespace>.<metadata name>: FINOPS.COST, never FINOPS.FINOPS.COST."""
    meta = json.loads(server.get("/xlwings/custom-functions-meta.json"))
    by_id = {f["id"]: f for f in meta["functions"]}
    assert set(by_id) == {f.python_name for f in registry.FUNCTIONS}
    for spec in registry.FUNCTIONS:
        f = by_id[spec.python_name]
        assert f"FINOPS.{f['name']}" == spec.officejs_name
        assert f["description"] == spec.summary
        assert [(p["name"], p["description"]) for p in f["parameters"]] == [(a.name, a.doc) for a in spec.args]
        assert [bool(p.get("repeating")) for p in f["parameters"]] == [a.repeating for a in spec.args]
        assert [bool(p.get("optional")) for p in f["parameters"]] == [a.optional for a in spec.args]
    code = server.get("/xlwings/custom-functions-code.js").decode()
    for spec in registry.FUNCTIONS:
        assert f'CustomFunctions.associate("{spec.python_name}"' in code


def test_macros_are_served_for_the_task_pane(server):
    scripts = json.loads(server.get("/xlwings/custom-scripts-meta.json"))
    assert {s["function_name"] for s in scripts} == {
        "finops_refresh", "finops_build_overview", "finops_allocate", "finops_build_close"}
    page = server.get("/taskpane.html").decode()
    for name in ("finops_refresh", "finops_build_overview", "finops_allocate", "finops_build_close"):
        assert f'xw-click="{name}"' in page


# ---- FINOPS.* over HTTP, against SQL on the store ----------------------------------------------


def test_cost_and_costtable_equal_sql_then_follow_a_load(server, exports):
    store = server.store
    got = scalar(server.call("COST", serial(JAN), serial(APR), "provider", "AWS"))
    want = sql_sum(store, f"{PERIOD} AND ProviderName = 'AWS'", [JAN, APR])
    assert want > 0 and round(Decimal(str(got)), 2) == round(want, 2)
    table = server.call("COSTTABLE", serial(JAN), serial(APR), "provider", "month", 0)
    assert table[0] == ["provider", "2025-01", "2025-02"]  # no March yet

    march = sorted(exports.glob("*-2025-03.parquet"))
    done = subprocess.run([sys.executable, "-m", "finops_xl.cli", "ingest", "--store", str(store),
                           *map(str, march)], env=child_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    total = scalar(server.call("COST", serial(JAN), serial(APR)))
    assert round(Decimal(str(total)), 2) == round(sql_sum(store, PERIOD, [JAN, APR]), 2)
    in_march = scalar(server.call("COST", serial(MAR), serial(APR)))
    assert file_sum(march) > 0 and round(Decimal(str(in_march)), 2) == round(file_sum(march), 2)
    table = server.call("COSTTABLE", serial(JAN), serial(APR), "provider", "month", 0)
    assert table[0] == ["provider", "2025-01", "2025-02", "2025-03"]
    rows = sql(store, f"SELECT ProviderName, strftime(ChargePeriodStart, '%Y-%m'), sum(EffectiveCost) "
                      f"FROM charges WHERE {PERIOD} GROUP BY ALL", [JAN, APR])
    want_cells = {(p, m): round(Decimal(v), 2) for p, m, v in rows}
    got_cells = {(r[0], m): round(Decimal(str(v)), 2) for r in table[1:] for m, v in zip(table[0][1:], r[1:])}
    assert got_cells == want_cells


def test_a_close_and_a_commitment_function(server):
    store = server.store
    # FINOPS.COVERAGE(month, "AWS"): covered ListCost ÷ eligible ListCost, as the function's help
    # defines it (usage at Standard or Committed pricing, in a provider/service category where a
    # commitment has Used or Unused rows; rows without a list price left out)
    covered, eligible = sql(store, """
        WITH pairs AS (SELECT DISTINCT ProviderName, ServiceCategory FROM charges
                       WHERE ChargeCategory = 'Usage' AND CommitmentDiscountStatus IN ('Used', 'Unused')),
        rows AS (SELECT c.* FROM charges c JOIN pairs p USING (ProviderName, ServiceCategory)
                 WHERE c.ChargeCategory = 'Usage' AND c.PricingCategory IN ('Standard', 'Committed')
                   AND c.ProviderName = 'AWS' AND c.ChargePeriodStart >= ? AND c.ChargePeriodStart < ?
                   AND coalesce(c.CommitmentDiscountStatus, '') <> 'Unused'
                   AND NOT (c.ListCost IS NULL OR (c.ListCost = 0 AND coalesce(c.EffectiveCost, 0) <> 0)))
        SELECT sum(ListCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), sum(ListCost) FROM rows
        """, [FEB, MAR])[0]
    coverage = scalar(server.call("COVERAGE", serial(FEB), "AWS", omitted=1))
    assert 0 < coverage < 1
    assert abs(Decimal(str(coverage)) - Decimal(covered) / Decimal(eligible)) < Decimal("1e-12")

    # FINOPS.ACCRUAL(month, , cutoff): with data through the 24th, the missing days are projected
    from finops_xl.close.accruals import accrue

    cutoff = dt.date(2025, 2, 25)
    accrual = scalar(server.call("ACCRUAL", serial(FEB), 0, serial(cutoff), omitted=1))
    with CostStore(store).reader() as con:
        want = accrue(con, FEB, cutoff=cutoff).total("accrual", "USD")
    assert accrual > 0 and round(Decimal(str(accrual)), 2) == round(want, 2)


def test_errors_reach_the_cell_as_messages(server):
    status, body = server.post("/xlwings/custom-functions-call", {
        "client": "Office.js", "func_name": "FINOPS_COST",
        "args": [[[serial(JAN)]], [[serial(FEB)]], [[["provider"]], [["AWZ"]]]],
        "caller_address": "[Costs.xlsx]Sheet1!B2", "culture_info_name": "en-US",
        "date_format": "M/d/yyyy", "version": xlwings.__version__, "runtime": "1.4"})
    assert status == 400
    assert body.decode().startswith("FINOPS.COST: no charges have provider = 'AWZ'")


# ---- stale totals: a read connection open in the server's process while a load lands -----------


@pytest.fixture
def in_process_server(exports, tmp_path):
    """xlwings Server in a thread of this process, so that the test can hold a read connection of
    the same process open (as a macro or another function of the server's process does)."""
    import threading

    from finops_udfs.server import ServerConfig, environment

    store = tmp_path / "finops-store"
    ingest(sorted(p for p in exports.glob("*.parquet") if "2025-03" not in p.name), store)
    settings = {k: v for k, v in environment(ServerConfig(store), base={}).items()
                if k.startswith("XLWINGS_")}
    old = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)  # xlwings Server reads its settings when first imported
    try:
        import uvicorn
        from xlwings_server.main import main_app

        port = free_port()
        uv = uvicorn.Server(uvicorn.Config(main_app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not uv.started and time.monotonic() < deadline:
            time.sleep(0.1)
        assert uv.started
        server = Server.__new__(Server)
        server.store, server.url = store, f"http://127.0.0.1:{port}"
        yield server
        uv.should_exit = True
        thread.join(timeout=20)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_a_load_is_seen_while_a_reader_of_the_old_store_is_open(in_process_server, exports):
    """issue 16's stale totals: DuckDB hands a process the database it already has open, which a
    load has since replaced; the next FINOPS.COST must still see the load."""
    server, store = in_process_server, in_process_server.store
    s = str(store)
    before = scalar(server.call("COST", serial(JAN), serial(APR), "store", s))
    march = sorted(exports.glob("*-2025-03.parquet"))
    with CostStore(store).reader() as held:  # open across the load, in the server's process
        done = subprocess.run([sys.executable, "-m", "finops_xl.cli", "ingest", "--store", s,
                               *map(str, march)], env=child_env(), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        during = scalar(server.call("COST", serial(JAN), serial(APR), "store", s))
        assert held.execute("SELECT 1").fetchall() == [(1,)]
    after = scalar(server.call("COST", serial(JAN), serial(APR), "store", s))
    want = round(Decimal(str(before)), 2) + round(file_sum(march), 2)
    assert file_sum(march) > 0
    assert abs(Decimal(str(during)) - want) <= Decimal("0.01"), (before, during)
    assert abs(Decimal(str(after)) - want) <= Decimal("0.01"), (before, after)


# ---- the task pane in headless Chromium ----------------------------------------------------------


def test_task_pane_opens_without_console_errors_and_shows_the_macro_buttons(server, tmp_path):
    """Debian's chromium + chromium-driver (.ci/run installs them). Outside Excel, office.js has no
    host; ``data/server/excel-host.js`` plays Excel's part (an Excel host on the web, every
    requirement set supported) and records the functions the page associates."""
    from tests.webdriver import Browser, chromedriver, chromium, run_before_every_page

    if not (chromedriver() and chromium()):
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    host = (Path(__file__).parent / "data" / "server" / "excel-host.js").read_text()
    with Browser(width=420, height=640) as browser:
        run_before_every_page(browser, host)
        browser.open(f"{server.url}/taskpane.html")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and browser.script(
                "return document.readyState === 'complete' && window.__associated.length") < len(registry.FUNCTIONS):
            time.sleep(0.2)
        time.sleep(1)  # the page's module scripts finish after the load event
        errors = [e for e in browser.console() if e["level"] == "SEVERE"]
        assert errors == []
        assert sorted(browser.script("return window.__associated")) == sorted(
            f.python_name for f in registry.FUNCTIONS)
        buttons = {browser.text(b): b for b in browser.elements("button[xw-click]")}
        assert list(buttons) == ["Refresh: load new exports", "Build overview",
                                 "Allocate by this workbook's rules", "Build close package"]
        shot = browser.screenshot(tmp_path / "taskpane.png")
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        for button in buttons.values():
            assert browser.displayed(button)
            r = browser.rect(button)
            assert r["width"] > 0 and r["height"] > 0
            assert r["x"] + r["width"] <= width and r["y"] + r["height"] <= height  # in the shot


# ---- Google Sheets: the macros as xlwings' Apps Script client calls them -------------------------


def apps_script_functions() -> set[str]:
    """The actions the Apps Script client (xlwings.js, ``xlwings copy gs``) can carry out."""
    import re

    source = (Path(xlwings.__file__).parent / "js" / "xlwings.js").read_text()
    return set(re.findall(r"^function (\w+)\(workbook, action\)", source, flags=re.M))


def sheets_payload(settings: dict[str, str]) -> dict:
    """The body ``runPython(url)`` of xlwings.js posts: values, named ranges, no tables."""
    rows = [["Setting", "Value"]] + [[k, v] for k, v in settings.items()] + [["Last refresh", ""]]
    names = [{"name": k, "sheet_index": 0, "address": f"B{i + 2}", "scope_sheet_name": None,
              "scope_sheet_index": None, "book_scope": True}
             for i, k in enumerate([*settings, "RefreshStatus"])]
    return {"client": "Google Apps Script", "version": xlwings.__version__,
            "book": {"name": "Costs", "active_sheet_index": 0, "selection": "A1"},
            "names": names,
            "sheets": [{"name": "Settings", "values": rows, "pictures": [], "tables": []}]}


def test_google_sheets_refresh_over_http(server, exports, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    for f in exports.glob("aws-2025-0[12].parquet"):
        (folder / f.name).write_bytes(f.read_bytes())
    store = tmp_path / "sheets.duckdb"
    status, body = server.post("/xlwings/custom-scripts-call/finops_refresh",
                               sheets_payload({"StorePath": str(store), "ExportsFolder": str(folder)}))
    assert status == 200, body.decode()
    actions = json.loads(body)["actions"]
    assert {a["func"] for a in actions} <= apps_script_functions(), actions
    assert "new slice(s)" in actions[0]["values"][0][0]
    assert round(sql_sum(store, "true", []), 2) == round(file_sum(sorted(folder.glob("*.parquet"))), 2)


def test_google_sheets_allocate_reads_rules_from_sheets_named_like_the_tables(server, exports, tmp_path):
    store = tmp_path / "sheets.duckdb"
    ingest(sorted(exports.glob("*-2025-01.parquet")), store)
    payload = sheets_payload({"StorePath": str(store)})
    payload["sheets"] += [
        {"name": "AllocationTaxonomy", "pictures": [], "tables": [],
         "values": [["dimension", "keys", "values", "owner"], ["team", "team", "", "yes"]]},
        {"name": "AllocationPools", "pictures": [], "tables": [],
         "values": [["pool", "filter", "split"], ["untagged", "owner =", "proportional"]]},
    ]
    status, body = server.post("/xlwings/custom-scripts-call/finops_allocate", payload)
    assert status == 200, body.decode()
    actions = json.loads(body)["actions"]
    assert {a["func"] for a in actions} <= apps_script_functions(), actions
    assert "allocated" in actions[0]["values"][0][0]
    with CostStore(store).reader() as con:
        (allocated,) = con.execute("SELECT sum(EffectiveCost) FROM allocated_charges").fetchone()
        kinds = {k for (k,) in con.execute("SELECT DISTINCT kind FROM allocated_charges").fetchall()}
    assert round(allocated, 2) == round(sql_sum(store, "true", [], metric="EffectiveCost"), 2)
    assert "shared" in kinds  # the untagged pool from the AllocationPools sheet was applied


# ---- the README's Excel section ----------------------------------------------------------------


def test_readme_server_commands_run(server, tmp_path):
    """The README's xlwings Server commands: the extra exists, ``finops-xl serve`` with the README's
    options starts, and the manifest it prints answers (the store and port made the test's own)."""
    import re
    import shlex
    import tomllib

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("**xlwings Server (Excel on Windows, Mac and the web).**"):]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)
    commands = [shlex.split(line.split("#")[0]) for line in block.splitlines() if line.strip()]
    assert [c[:3] for c in commands] == [["pip", "install", "-e"], ["finops-xl", "serve", "--store"],
                                         ["curl", "-s", "http://127.0.0.1:8000/manifest"]]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert commands[0][3] == ".[server]" and any(d.startswith("xlwings-server") for d in extras["server"])
    serve = commands[1]
    port = free_port()
    options = dict(zip(serve[2::2], serve[3::2]))
    assert set(options) == {"--store", "--port"}
    running = Server(server.store, port)  # the README's command, with this test's store and port
    try:
        from urllib.parse import urlparse

        manifest = running.get(urlparse(commands[2][2]).path)
        assert manifest.startswith(b"<?xml") and b'DefaultValue="FINOPS"' in manifest
        assert f"manifest:  http://localhost:{port}/manifest" in running.log.read_text()
    finally:
        assert running.stop() == 0


# ---- HTTPS with given certificates (Office.js accepts nothing else) --------------------------------


def test_serve_over_https_with_the_certificates_given(tmp_path):
    import shutil
    import ssl

    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make a test certificate (.ci/run installs it)"
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(certs / "localhost-key.pem"), "-out", str(certs / "localhost.pem"),
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    store = tmp_path / "finops-store"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "finops_xl.cli", "serve", "--store", str(store),
                                    "--port", str(port), "--certs", str(certs)],
                                   env=child_env(), stdout=out, stderr=subprocess.STDOUT)
    trusted = ssl.create_default_context(cafile=str(certs / "localhost.pem"))
    try:
        deadline, body = time.monotonic() + 90, None
        while time.monotonic() < deadline and body is None:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"https://localhost:{port}/manifest", timeout=10,
                                            context=trusted) as response:
                    body = response.read()
            time.sleep(0.3)
        assert body is not None, f"no HTTPS answer within 90 s:\n{log.read_text()}"
        root = ET.fromstring(body)
        urls = [e.get("DefaultValue") for e in root.iter() if (e.get("DefaultValue") or "").startswith("http")]
        ours = [u for u in urls if "localhost" in u or "127.0.0.1" in u]  # the rest are xlwings' own links
        assert ours and all(u.startswith(f"https://localhost:{port}/") for u in ours), ours
        with pytest.raises(OSError):  # plain HTTP is not served on an HTTPS port
            urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest", timeout=10).read()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert f"https://localhost:{port}/manifest" in log.read_text()
