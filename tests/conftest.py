"""Shared fixtures. Under CI=true a skipped test is a failure: CI must run every layer."""

from __future__ import annotations

import os

# xlwings' Office.js call path (the one xlwings Server and Lite use) is what the UDF tests exercise:
# xlwings reads these when it is first imported, so they are set before anything imports it.
os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import csv
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import settings

from finops_xl.data import focus_sample_csv

# CI explores the same examples every run (a red build must be reproducible); locally, hypothesis
# keeps searching new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
    settings.load_profile("ci")

DATA = Path(__file__).parent / "data"
SPEC_EXAMPLES = DATA / "focus-spec-1.2-examples"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"} and report.skipped:
        if not hasattr(report, "wasxfail"):
            report.outcome = "failed"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            report.longrepr = f"skipped under CI=true, which must run every test: {reason}"


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    """The FinOps Foundation FOCUS 1.0 sample (1,000 real anonymized rows), as bundled."""
    return focus_sample_csv()


@pytest.fixture
def store_path(tmp_path) -> Path:
    return tmp_path / "store" / "finops-store"


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV, with Python's csv module (independent of the code under test)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, list(reader)


def write_csv_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        w.writerows(rows)
    return path


def refusal(load, path: Path, text: str, error: type[Exception] = ValueError) -> str:
    """The message ``load(path)`` refuses ``path`` with (raising ``error``), once ``text`` is written
    to it."""
    path.write_text(text)
    with pytest.raises(error) as exc:
        load(path)
    return str(exc.value)


def copy_store(src, dst) -> Path:
    """A copy of the store at ``src`` (a store folder, with its allocation and ledger) at ``dst``."""
    import shutil

    src, dst = Path(src), Path(dst)
    if src.is_dir():
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    else:
        shutil.copyfile(src, dst)
    return dst


def file_digest(path: Path) -> str:
    """The bytes of a file, or of every file of a folder (a store folder: but its lock), as a digest."""
    if not path.exists():
        return "missing"
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.name != ".lock"):
        h.update(str(f.relative_to(path)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def sample_store(root: Path, spec, *, allocated: bool = True) -> Path:
    """A store at ``root / "finops-store"`` loaded with the generated exports of ``spec`` (a
    ``SampleSpec``, written to ``root / "exports"``) and, unless ``allocated`` is False, allocated by
    the demo rules."""
    from finops_xl.allocation.engine import allocate
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules
    from finops_xl.sample.generator import generate
    from finops_xl.store.ingest import ingest

    store = root / "finops-store"
    generate(spec, root / "exports")
    ingest([root / "exports"], store)
    if allocated:
        allocate(store, load_rules(allocation_rules()))
    return store


def run_without_duckdb(code: str) -> str:
    """What ``code`` prints, run in a fresh Python where duckdb and pyarrow cannot be imported (as in
    xlwings Lite, which has neither)."""
    import subprocess
    import sys
    import textwrap

    script = 'import sys\nsys.modules["duckdb"] = None\nsys.modules["pyarrow"] = None\n' + textwrap.dedent(code)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def fixture_decimal(value) -> Decimal:
    """A raw value of a provider fixture (CSV text, JSON or Parquet number) as an exact amount, for
    expected totals: blank or missing is 0, a float is taken by its shortest repr."""
    if value is None or value == "":
        return Decimal(0)
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Path, str]:
    """The folder ``finops-xl demo --rows 20000 --months 3`` wrote, and what it printed; run once, for
    the tests that only read what the demo made."""
    import contextlib
    import io

    from finops_xl.cli import main

    out = tmp_path_factory.mktemp("demo-run") / "demo"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--rows", "20000", "--months", "3", "--out", str(out)]) == 0
    return out, printed.getvalue()


def reader_loop(*queries: str) -> str:
    """A script for ``python -c``: for ``argv[2]`` seconds, read the store at ``argv[1]`` again and
    again, each time running ``queries`` (each gives one row) in one snapshot; prints, as JSON, how
    often each result was seen (the rows' values joined by ``|``) and the errors, none hidden."""
    import textwrap

    return textwrap.dedent(f"""
        import json, sys, time
        from finops_xl.store.store import CostStore
        store, seconds = CostStore(sys.argv[1]), float(sys.argv[2])
        seen, errors, end = {{}}, [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                values = []
                with store.reader() as con:
                    for query in {list(queries)!r}:
                        values += con.execute(query).fetchall()[0]
                key = "|".join(str(v) for v in values)
                seen[key] = seen.get(key, 0) + 1
            except Exception as exc:  # any failure is reported, not hidden
                errors.append(f"{{type(exc).__name__}}: {{exc}}")
        print(json.dumps({{"seen": seen, "errors": errors[:5], "error_count": len(errors)}}))
    """)
