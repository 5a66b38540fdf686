"""The store's reliability, path and permission guarantees (issue 16), each tried for real on the
store folder (Delta tables, a pointer file naming the current commit).

Writers are real ``finops-xl`` processes stopped by real signals at chosen points of a load (the
test hook ``FINOPS_XL_TEST_PAUSE=<stage>`` makes the writer stop there and say so); permission
failures are real OS errors (folders the process may not write, with root's override dropped by
``setpriv``). Expected totals come from the input file itself (csv + Decimal), and what is on disk
is checked with ``deltalake`` directly, never with the store's own code.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finops_xl.cli import main
from finops_xl.store.errors import StoreError
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import file_digest, read_csv_rows, reader_loop, write_csv_rows

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, modes and owners")

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
POINTER = "_finops_store.json"


# ---- what the inputs hold, what the store holds, what is on disk ------------------------------------


def _totals_of_csv(*paths: Path) -> tuple[Decimal, int]:
    billed, n = Decimal(0), 0
    for path in paths:
        header, rows = read_csv_rows(path)
        b = header.index("BilledCost")
        billed += sum((Decimal(r[b]) for r in rows), Decimal(0))
        n += len(rows)
    return billed, n


def _slices_of_csv(path: Path) -> dict[tuple[str, str, str], Decimal]:
    """BilledCost per (provider, billing account, billing month) of a FOCUS CSV."""
    header, rows = read_csv_rows(path)
    p, a, m, b = (header.index(c) for c in ("ProviderName", "BillingAccountId", "BillingPeriodStart", "BilledCost"))
    out: dict[tuple[str, str, str], Decimal] = {}
    for r in rows:
        key = (r[p], r[a], r[m][:7])
        out[key] = out.get(key, Decimal(0)) + Decimal(r[b])
    return out


def _totals(store: Path, as_of=None) -> tuple[Decimal, int]:
    """The charges' BilledCost and rows; the daily cube read in the same snapshot must agree."""
    with CostStore(store).reader(as_of) as con:
        billed, n = con.execute("SELECT sum(BilledCost), count(*) FROM charges").fetchall()[0]
        cube = con.execute("SELECT sum(BilledCost) FROM cost_daily").fetchall()[0][0]
    assert Decimal(cube) == Decimal(billed), "the daily cube and the charges are of different loads"
    return Decimal(billed), n


def _slices(store: Path, as_of=None) -> dict[tuple[str, str, str], Decimal]:
    with CostStore(store).reader(as_of) as con:
        rows = con.execute("SELECT ProviderName, BillingAccountId, strftime(BillingPeriodStart, '%Y-%m'), "
                           "sum(BilledCost) FROM charges GROUP BY ALL").fetchall()
    return {(p, a, m): Decimal(b) for p, a, m, b in rows}


def _restated(sample_csv: Path, tmp_path: Path, factor: int = 2) -> Path:
    header, rows = read_csv_rows(sample_csv)
    b = header.index("BilledCost")
    return write_csv_rows(tmp_path / f"restated{factor}" / "restated.csv", header,
                          [r[:b] + [str(Decimal(r[b]) * factor)] + r[b + 1:] for r in rows])


def _a_year_earlier(sample_csv: Path, tmp_path: Path) -> Path:
    """The sample's rows moved to the same months a year earlier (other billing periods)."""
    header, rows = read_csv_rows(sample_csv)
    moved = [[f"2023-{v[5:]}" if re.match(r"2024-\d\d-\d\d", v) else v for v in r] for r in rows]
    return write_csv_rows(tmp_path / "earlier" / "earlier.csv", header, moved)


def _leftovers(store: Path) -> list[str]:
    """What no current or past version of the store needs: table versions beyond the pointer's,
    data files no version up to it references, writers' markers, spill folders, temporary files
    (read with ``deltalake`` and the pointer's JSON, not with the store's code)."""
    from deltalake import DeltaTable

    found = [p.name for p in store.iterdir()
             if p.name.startswith(("_writing-", ".tmp", f".{POINTER}")) or ".tmp-" in p.name]
    pointer = json.loads((store / POINTER).read_text())
    versions = pointer.get("tables", {})
    for folder in sorted(p for p in store.iterdir() if (p / "_delta_log").is_dir()):
        if folder.name not in versions:
            found.append(f"{folder.name}/ (a table no commit names)")
            continue
        last = versions[folder.name]
        for f in (folder / "_delta_log").iterdir():
            m = re.match(r"(\d{20})\.", f.name)
            if m and int(m.group(1)) > last:
                found.append(f"{folder.name}/_delta_log/{f.name} (beyond version {last})")
            elif not m and f.name != "_last_checkpoint":
                found.append(f"{folder.name}/_delta_log/{f.name}")
        referenced = set()
        for v in range(last + 1):
            referenced |= {os.path.realpath(u.removeprefix("file://"))
                           for u in DeltaTable(str(folder), version=v).file_uris()}
        for f in folder.rglob("*"):
            if f.is_file() and "_delta_log" not in f.relative_to(folder).parts and os.path.realpath(f) not in referenced:
                found.append(f"{f.relative_to(store)} (a data file no version references)")
    return sorted(found)


def _cli(*args: str, env: dict | None = None, prefix: tuple[str, ...] = (), **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "finops_xl.cli", *args], cwd=ROOT,
                          env={**ENV, **(env or {})}, capture_output=True, text=True, timeout=300, **kw)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def _unprivileged() -> tuple[str, ...]:
    """A prefix that runs a command without root's permission override (nothing when not root)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be checked")
    caps = "-dac_override,-dac_read_search,-fowner"
    return (setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}")


#: ``finops-xl`` with the pause hook; ``validating`` pauses in the load's validation (reported
#: through its progress callback), the other stages in the store's writer (FINOPS_XL_TEST_PAUSE).
PAUSED_CLI = textwrap.dedent("""
    import os, sys, time
    import finops_xl.cli as cli
    import finops_xl.cli.ingest as ingest_command
    if os.environ.get("FINOPS_XL_TEST_PAUSE") == "validating":
        load = ingest_command.ingest
        def ingest(paths, store, progress=None, **kw):
            def report(stage, fraction):
                if stage.startswith("validating"):
                    print("finops-xl: paused at validating", file=sys.stderr, flush=True)
                    end = time.monotonic() + float(os.environ.get("FINOPS_XL_TEST_PAUSE_SECONDS") or 60)
                    while time.monotonic() < end:
                        time.sleep(0.05)
                if progress:
                    progress(stage, fraction)
            return load(paths, store, progress=report, **kw)
        ingest_command.ingest = ingest
    sys.exit(cli.main(sys.argv[1:]))
""")


def _paused(stage: str, *argv: str, seconds: float = 120) -> subprocess.Popen:
    """``finops-xl ARGV`` started and stopped at ``stage`` (returns once it says it is there)."""
    proc = subprocess.Popen([sys.executable, "-c", PAUSED_CLI, *argv], cwd=ROOT, text=True,
                            env={**ENV, "FINOPS_XL_TEST_PAUSE": stage, "FINOPS_XL_TEST_PAUSE_SECONDS": str(seconds)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if f"paused at {stage}" in line:
            return proc
    proc.wait(timeout=30)
    raise AssertionError(f"the writer ended (exit {proc.returncode}) before {stage}: {''.join(seen)}")


# ---- a writer killed at any point of a load -------------------------------------------------------

STAGES = ["validating", "writing charges", "cost_daily", "tables", "history"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
@pytest.mark.parametrize("stage", STAGES)
def test_a_writer_killed_during_a_load_leaves_the_old_totals_and_nothing_after_the_next_load(
        stage, sig, sample_csv, tmp_path):
    store = tmp_path / "store"
    ingest([sample_csv], store)
    old = _totals_of_csv(sample_csv)
    assert _totals(store) == old
    # Delta writes a table in threads of its own: a SIGTERM meanwhile takes effect once that table's
    # write returns (the store still unchanged), so that pause is a short one, as a real write is
    seconds = 4 if stage.startswith("writing") else 120
    writer = _paused(stage, "ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path, 3)),
                     seconds=seconds)
    writer.send_signal(sig)
    _, err = writer.communicate(timeout=60)
    assert _totals(store) == old  # readable, and the old load whole (charges and cube alike)
    if sig == signal.SIGTERM:  # handled: one line, and the writer removed what it wrote
        assert writer.returncode == 128 + signal.SIGTERM, err
        line = _one_line(err.replace(f"finops-xl: paused at {stage} (FINOPS_XL_TEST_PAUSE)\n", ""))
        assert "terminated" in line and "unchanged" in line and "copy" not in line, line
        assert _leftovers(store) == []
    else:
        assert writer.returncode == -signal.SIGKILL
        if stage != "validating":  # it had written: what it left is there until the next writer
            assert _leftovers(store) != []
    ingest([_restated(sample_csv, tmp_path, 2)], store)
    billed, n = old
    assert _totals(store) == (billed * 2, n)
    assert _leftovers(store) == []


def test_a_writer_killed_on_the_first_load_of_a_new_store_leaves_no_half_store(sample_csv, tmp_path):
    store = tmp_path / "new-store"
    writer = _paused("cost_daily", "ingest", "--quiet", "--store", str(store), str(sample_csv))
    writer.kill()
    writer.wait(timeout=30)
    done = _cli("summary", "--store", str(store))
    assert done.returncode == 1 and "no cost store" in _one_line(done.stderr)
    ingest([sample_csv], store)
    assert _totals(store) == _totals_of_csv(sample_csv)
    assert _leftovers(store) == []


# ---- readers during loads ---------------------------------------------------------------------------

READER = reader_loop("SELECT sum(BilledCost), count(*) FROM charges", "SELECT sum(BilledCost) FROM cost_daily",
                     "SELECT sum(rows) FROM slices")


def test_a_reader_loop_during_repeated_loads_never_errors_nor_sees_a_partial_load(sample_csv, tmp_path):
    store = tmp_path / "store"
    a, b = sample_csv, _restated(sample_csv, tmp_path, 3)
    ingest([a], store)
    with CostStore(store).reader() as con:
        assert "rows" in {c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'slices'").fetchall()}
    allowed = set()
    for f in (a, b):
        billed, n = _totals_of_csv(f)
        allowed.add((billed, n, billed, n))
    reader = subprocess.Popen([sys.executable, "-c", READER, str(store), "10"], cwd=ROOT, env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    loads = 0
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        ingest([b if loads % 2 == 0 else a], store)
        loads += 1
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    result = json.loads(out)
    assert result["error_count"] == 0, result["errors"]
    seen = {tuple(Decimal(x) if i in (0, 2) else int(x) for i, x in enumerate(k.split("|"))) for k in result["seen"]}
    assert seen <= allowed, result["seen"]
    assert len(seen) == 2 and loads >= 2, (loads, result["seen"])  # both versions seen, during the loads
    assert _leftovers(store) == []


# ---- concurrent writers and the lock -----------------------------------------------------------------


def test_two_concurrent_writers_on_different_months_both_land(sample_csv, tmp_path):
    store = tmp_path / "store"
    earlier = _a_year_earlier(sample_csv, tmp_path)
    first = _paused("history", "ingest", "--quiet", "--store", str(store), str(sample_csv), seconds=8)
    second = subprocess.Popen([sys.executable, "-m", "finops_xl.cli", "ingest", "--quiet", "--store", str(store),
                               str(earlier)], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    _, err2 = second.communicate(timeout=120)
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    assert f"waiting for the store lock held by pid {first.pid} (command " in err2  # it waited, and said for whom
    assert _totals(store) == _totals_of_csv(sample_csv, earlier)  # no lost update
    assert _slices(store) == _slices_of_csv(sample_csv) | _slices_of_csv(earlier)
    assert [c.kind for c in CostStore(store).history()] == ["load", "load"]
    assert _leftovers(store) == []


def test_a_waiting_writer_names_the_holder_and_gives_up_after_the_timeout(sample_csv, tmp_path):
    store = tmp_path / "store"
    ingest([sample_csv], store)
    holder = _paused("tables", "ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path, 3)))
    try:
        started = time.monotonic()
        done = _cli("ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path, 2)),
                    env={"FINOPS_XL_LOCK_TIMEOUT": "3"})
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr and len(lines) == 2, done.stderr
    assert f"waiting for the store lock held by pid {holder.pid} (command " in lines[0] and " ingest " in lines[0]
    assert f"pid {holder.pid}" in lines[1] and "FINOPS_XL_LOCK_TIMEOUT" in lines[1] and str(store) in lines[1]
    assert 3 <= waited < 30
    assert _totals(store) == _totals_of_csv(sample_csv)


def test_sigterm_while_waiting_for_the_lock_is_one_line_and_leaves_nothing(sample_csv, tmp_path):
    store = tmp_path / "store"
    ingest([sample_csv], store)
    holder = _paused("history", "ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path, 3)))
    try:
        waiting = subprocess.Popen([sys.executable, "-m", "finops_xl.cli", "ingest", "--quiet", "--store", str(store),
                                    str(_restated(sample_csv, tmp_path, 2))], cwd=ROOT, env=ENV,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in waiting.stderr:
            if "waiting for the store lock" in line:
                break
        waiting.send_signal(signal.SIGTERM)
        _, err = waiting.communicate(timeout=30)
    finally:
        holder.kill()
        holder.wait()
    assert waiting.returncode == 128 + signal.SIGTERM, err
    line = _one_line(err)
    assert "terminated" in line and "unchanged" in line and "copy" not in line, line
    assert _totals(store) == _totals_of_csv(sample_csv)
    assert not (store / f"_writing-{waiting.pid}.json").exists()
    ingest([sample_csv], store)
    assert _leftovers(store) == []


def test_the_lock_timeout_must_be_a_number(sample_csv, tmp_path):
    done = _cli("ingest", "--quiet", "--store", str(tmp_path / "store"), str(sample_csv),
                env={"FINOPS_XL_LOCK_TIMEOUT": "soon"})
    assert done.returncode == 1
    assert "FINOPS_XL_LOCK_TIMEOUT" in _one_line(done.stderr)
    assert not (tmp_path / "store").exists()


# ---- FINOPS.* in a long-lived process -----------------------------------------------------------------

EXCEL = textwrap.dedent("""
    import json, sys
    from tests.test_udfs_officejs import call, scalar, serial
    import datetime as dt
    from finops_xl.store.ingest import ingest
    from finops_xl.store.store import CostStore
    store, files = sys.argv[1], sys.argv[2:]
    lo, hi = serial(dt.date(2000, 1, 1)), serial(dt.date(2100, 1, 1))
    def cost():
        return scalar(call("COST", lo, hi, "store", store))
    got = [cost()]
    held = CostStore(store).reader()  # a read connection of the process held open across the loads
    con = held.__enter__()
    con.execute("SELECT count(*) FROM charges").fetchall()
    for f in files:
        ingest([f], store)
        got.append(cost())
        got.append(cost())  # the cached answer, too
    held.__exit__(None, None, None)
    print(json.dumps(got))
""")


def _effective_of_csv(path: Path) -> Decimal:
    header, rows = read_csv_rows(path)
    e = header.index("EffectiveCost")
    return sum((Decimal(r[e]) for r in rows), Decimal(0))


def test_finops_cost_in_a_long_lived_process_returns_the_new_totals_once_a_load_landed(sample_csv, tmp_path):
    """One process (as xlwings Server or the add-in) calls FINOPS.COST through the Office.js path
    before and after loads that change the EffectiveCost it sums, a read connection of its own held
    open across them: every answer after a load is the new total, cached answers too."""
    header, rows = read_csv_rows(sample_csv)
    e = header.index("EffectiveCost")
    doubled = write_csv_rows(tmp_path / "eff2" / "eff.csv", header,
                             [r[:e] + [str(Decimal(r[e]) * 2)] + r[e + 1:] for r in rows])
    store = tmp_path / "store"
    ingest([sample_csv], store)
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "udfs"), str(ROOT / "workbooks"),
                                                 os.environ.get("PYTHONPATH", "")]),
           "XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
    done = subprocess.run([sys.executable, "-c", EXCEL, str(store), str(doubled), str(sample_csv)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = [round(Decimal(str(v)), 6) for v in json.loads(done.stdout.strip().splitlines()[-1])]
    one, two = round(_effective_of_csv(sample_csv), 6), round(_effective_of_csv(doubled), 6)
    assert one != two
    assert got == [one, two, two, one, one]


# ---- paths and permissions ----------------------------------------------------------------------------


def test_a_symlinked_store_folder_is_followed_and_stays_a_link(sample_csv, tmp_path):
    real = tmp_path / "real" / "store"
    ingest([sample_csv], real)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    done = _cli("ingest", "--quiet", "--store", str(link), str(_restated(sample_csv, tmp_path)))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == real
    billed, n = _totals_of_csv(sample_csv)
    assert _totals(real) == (billed * 2, n)
    assert _leftovers(real) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real", "restated2"]


def test_writers_through_two_paths_to_one_store_share_one_lock(sample_csv, tmp_path):
    real = tmp_path / "real" / "store"
    ingest([sample_csv], real)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    holder = _paused("cost_daily", "ingest", "--quiet", "--store", str(real), str(_restated(sample_csv, tmp_path, 3)))
    try:
        done = _cli("ingest", "--quiet", "--store", str(link), str(_restated(sample_csv, tmp_path)),
                    env={"FINOPS_XL_LOCK_TIMEOUT": "2"})
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1, done.stderr
    assert f"held by pid {holder.pid}" in done.stderr.splitlines()[-1] and str(real) in done.stderr
    assert not (link / ".lock").is_symlink() and [p.name for p in link.parent.iterdir() if ".lock" in p.name] == []
    assert _totals(real) == _totals_of_csv(sample_csv)


def _modes(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` whose mode is not 600 (files) or 700 (folders)."""
    bad = {}
    for p in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(p.lstat().st_mode)
        if mode != (0o700 if p.is_dir() else 0o600):
            bad[str(p.relative_to(folder))] = oct(mode)
    return bad


def test_a_private_store_folder_keeps_every_file_private(tmp_path):
    from finops_xl.data import allocation_rules

    data = tmp_path / "exports"
    assert _cli("sample", "--rows", "3000", "--months", "2", "--plant-waste", "--out", str(data),
                "--utilization", str(tmp_path / "utilization.csv")).returncode == 0
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    store.chmod(0o700)
    os.umask(old := os.umask(0o022))
    steps = [("ingest", "--quiet", "--store", str(store), str(data)),
             ("allocate", "--store", str(store), "--rules", str(allocation_rules())),
             ("opportunities", "--store", str(store), "--utilization", str(tmp_path / "utilization.csv")),
             ("ingest", "--quiet", "--store", str(store), str(data / sorted(os.listdir(data))[0])),
             ("vacuum", "--store", str(store), "--keep-days", "0")]
    for argv in steps:
        done = _cli(*argv)
        assert done.returncode == 0, (argv, done.stderr)
        assert _modes(store) == {}, argv
    assert old == 0o022
    kinds = [c.kind for c in CostStore(store).history()]
    assert {"load", "allocation", "savings"} <= set(kinds), kinds
    listed = _cli("history", "--store", str(store))
    assert listed.returncode == 0 and "allocation" in listed.stdout and "savings" in listed.stdout, listed.stdout


def _v1_store(v2: Path, path: Path) -> Path:
    """A single-file store of an earlier finops-xl: the store's tables as declared (keys and all) in
    one DuckDB file, the allocation in ``<name>.allocation.duckdb`` beside it, filled with DuckDB
    from the tables of the store folder ``v2``."""
    from finops_xl.store.store import ALLOCATION_TABLES
    from finops_xl.store.tables import declare_tables

    path.parent.mkdir(parents=True, exist_ok=True)
    main_db, alloc_db = duckdb.connect(str(path)), duckdb.connect(str(path.with_name(f"{path.stem}.allocation.duckdb")))
    declare_tables(main_db)
    with CostStore(v2).reader() as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        for t in tables:
            data = con.sql(f"SELECT * FROM {t}").to_arrow_table()
            db = alloc_db if t in ALLOCATION_TABLES else main_db
            db.register("data", data)
            have = {n for (n,) in db.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if t in have:
                cols = {c for (c,) in db.execute("SELECT column_name FROM information_schema.columns "
                                                 "WHERE table_name = ?", [t]).fetchall()}
                for c, typ, *_ in db.execute("DESCRIBE SELECT * FROM data").fetchall():
                    if c not in cols:  # a column a load added (as v1 loads did)
                        db.execute(f'ALTER TABLE {t} ADD COLUMN "{c}" {typ}')
                db.execute(f"INSERT INTO {t} BY NAME SELECT * FROM data")
            else:
                db.execute(f"CREATE TABLE {t} AS SELECT * FROM data")
            db.unregister("data")
    main_db.close()
    alloc_db.close()
    return path


def test_migrate_from_a_v1_store_keeps_every_total_and_the_allocation(sample_csv, tmp_path):
    from finops_xl.data import allocation_rules

    v2 = tmp_path / "v2"
    ingest([sample_csv], v2)
    assert _cli("allocate", "--store", str(v2), "--rules", str(allocation_rules())).returncode == 0
    v1 = _v1_store(v2, tmp_path / "old" / "finops.duckdb")
    v1.chmod(0o600)
    with CostStore(v2).reader() as con:
        allocation = sorted(con.execute("SELECT * EXCLUDE (run_id) FROM allocated_charges").fetchall()
                            if "run_id" in {c for (c,) in con.execute(
                                "SELECT column_name FROM information_schema.columns "
                                "WHERE table_name = 'allocated_charges'").fetchall()}
                            else con.execute("SELECT * FROM allocated_charges").fetchall(), key=repr)
    done = _cli("summary", "--store", str(v1))  # a v1 store is read as it is
    assert done.returncode == 0, done.stderr
    done = _cli("ingest", "--quiet", "--store", str(v1), str(sample_csv))
    assert done.returncode == 1 and "finops-xl migrate" in _one_line(done.stderr)
    done = _cli("migrate", "--store", str(v1))
    assert done.returncode == 0, done.stderr
    assert v1.is_dir() and (tmp_path / "old" / "finops.duckdb.v1").is_file()
    assert _slices(v1) == _slices_of_csv(sample_csv)
    assert _totals(v1) == _totals_of_csv(sample_csv)
    with CostStore(v1).reader() as con:
        cols = {c for (c,) in con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'allocated_charges'").fetchall()}
        moved = sorted(con.execute("SELECT * EXCLUDE (run_id) FROM allocated_charges" if "run_id" in cols
                                   else "SELECT * FROM allocated_charges").fetchall(), key=repr)
    assert moved == allocation and moved
    assert _modes(v1) == {}  # a file of mode 600 becomes a folder of 700, its files 600
    assert _leftovers(v1) == []


def test_history_and_as_of_read_the_old_totals_and_vacuum_keeps_a_pinned_commit(sample_csv, tmp_path):
    from finops_xl.data import allocation_rules
    from finops_xl.store.maintenance import pin

    store = tmp_path / "store"
    ingest([sample_csv], store)
    first = CostStore(store).head()
    assert _cli("allocate", "--store", str(store), "--rules", str(allocation_rules())).returncode == 0
    ingest([_restated(sample_csv, tmp_path, 2)], store)
    ingest([_restated(sample_csv, tmp_path, 3)], store)
    billed, n = _totals_of_csv(sample_csv)
    kinds = [c.kind for c in CostStore(store).history()]
    assert kinds == ["load", "allocation", "load", "load"], kinds
    done = _cli("history", "--store", str(store))
    assert done.returncode == 0 and "allocat" in done.stdout and done.stdout.count("load") >= 3, done.stdout
    for factor in (1, 2, 3):  # each load's BilledCost, as the input file sums it
        assert f"BilledCost {billed * factor:,.2f} USD" in done.stdout, done.stdout
    assert _totals(store, as_of=1) == (billed, n)
    assert _totals(store, as_of=3) == (billed * 2, n)
    assert _totals(store) == (billed * 3, n)
    assert _totals(store, as_of=first.committed_at.isoformat()) == (billed, n)
    done = _cli("summary", "--store", str(store), "--as-of", "2000-01-01")
    assert done.returncode == 1 and "no version as early" in _one_line(done.stderr)
    pin(CostStore(store), 1, "close 2024-09")
    done = _cli("vacuum", "--store", str(store), "--keep-days", "0")
    assert done.returncode == 0, done.stderr
    assert _totals(store, as_of=1) == (billed, n)  # pinned: kept
    assert _totals(store) == (billed * 3, n)
    done = _cli("summary", "--store", str(store), "--as-of", "3")
    assert done.returncode == 1 and "vacuum" in _one_line(done.stderr), done.stderr
    again = _cli("vacuum", "--store", str(store))  # keeping more days than the last one did
    assert again.returncode == 0, again.stderr
    assert _totals(store, as_of=1) == (billed, n) and _totals(store) == (billed * 3, n)
    assert _leftovers(store) == []


# ---- no command writes over a store or an input ------------------------------------------------------


@pytest.fixture
def loaded(sample_csv, tmp_path) -> Path:
    store = tmp_path / "store"
    ingest([sample_csv], store)
    return store


@pytest.mark.parametrize("target", ["store", "pointer", "table", "inside", "link", "close"])
def test_no_output_is_written_into_the_store_folder(target, loaded, tmp_path, capsys):
    (tmp_path / "link").symlink_to(loaded, target_is_directory=True)
    (tmp_path / "store.close").mkdir()
    named = {"store": loaded, "pointer": loaded / POINTER, "table": loaded / "charges",
             "inside": loaded / "report.xlsx", "link": tmp_path / "link" / "journal.csv",
             "close": tmp_path / "store.close" / "ACCR-2024-09.json"}[target]
    before = file_digest(loaded)
    runs = [["close", "--store", str(loaded), "--month", "2024-09", "--journal", str(named)],
            ["close", "--store", str(loaded), "--month", "2024-09", "--out", str(named)],
            ["workbook", "overview", "--store", str(loaded), "--month", "2024-09", "--out", str(named)]]
    for argv in runs:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "\n" not in err.strip() and "Traceback" not in err, err
        assert str(named) in err and "store" in err, err
    assert file_digest(loaded) == before
    assert not (tmp_path / "store.close" / "ACCR-2024-09.json").exists()


def test_sample_utilization_is_not_written_into_the_store(loaded, tmp_path, capsys):
    before = file_digest(loaded)
    argv = ["sample", "--rows", "500", "--months", "1", "--plant-waste", "--out", str(tmp_path / "gen"),
            "--utilization", str(loaded / "utilization.csv"), "--store", str(loaded)]
    try:
        code = main(argv)
    except SystemExit as exc:  # `sample` may take no --store: name the store through the environment
        code = exc.code
    if code == 2:
        capsys.readouterr()
        os.environ["FINOPS_XL_STORE"] = str(loaded)
        try:
            code = main(argv[:-2])
        finally:
            del os.environ["FINOPS_XL_STORE"]
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(loaded / "utilization.csv") in err, err
    assert file_digest(loaded) == before


def test_no_command_writes_over_its_input(tmp_path, capsys):
    from finops_xl.data import write_sample_inputs

    inputs = {p.name: p for p in write_sample_inputs(tmp_path / "inputs")}
    drivers = inputs["drivers.csv"]
    before = drivers.read_bytes()
    argv = ["workbook", "budget", "--drivers", str(drivers), "--unit-costs", str(inputs["unit-costs.csv"]),
            "--out", str(drivers)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(drivers) in err and "--drivers" in err, err
    assert drivers.read_bytes() == before


def test_a_folder_that_is_not_a_store_is_refused_with_nothing_written(sample_csv, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8 not a store")
    before = file_digest(folder)
    done = _cli("ingest", "--quiet", "--store", str(folder), str(sample_csv))
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert str(folder) in line and "not a finops-xl cost store" in line
    assert file_digest(folder) == before and sorted(p.name for p in folder.iterdir()) == ["cat.jpg"]


def test_another_applications_database_is_refused_with_nothing_written(sample_csv, tmp_path):
    other = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE customers AS SELECT 1 AS id, 'Ada' AS name")
    con.close()
    before = other.read_bytes()
    for argv in (["ingest", "--quiet", "--store", str(other), str(sample_csv)], ["migrate", "--store", str(other)]):
        done = _cli(*argv)
        assert done.returncode == 1, argv
        line = _one_line(done.stderr)
        assert str(other) in line and "not a finops-xl cost store" in line, line
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.duckdb"]


# ---- OS errors: one line naming the path, the store unchanged ------------------------------------------


def test_a_read_only_store_folder_is_one_line_naming_it(loaded, sample_csv, tmp_path):
    before = file_digest(loaded)
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in [loaded, *loaded.rglob("*")] if p.is_dir()}
    for p in modes:
        p.chmod(0o555)
    try:
        done = _cli("ingest", "--quiet", "--store", str(loaded), str(_restated(sample_csv, tmp_path)),
                    prefix=_unprivileged())
        readable = _cli("summary", "--store", str(loaded), prefix=_unprivileged())
    finally:
        for p, m in modes.items():
            p.chmod(m)
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert str(loaded) in line and "ermission denied" in line, line
    assert readable.returncode == 0, readable.stderr  # a store others may only read is read
    assert file_digest(loaded) == before


def test_an_unreadable_store_is_one_line_naming_it(loaded, sample_csv):
    loaded.chmod(0o000)
    try:
        for argv in (["summary", "--store", str(loaded)],
                     ["ingest", "--quiet", "--store", str(loaded), str(sample_csv)]):
            done = _cli(*argv, prefix=_unprivileged())
            assert done.returncode == 1, argv
            line = _one_line(done.stderr)
            assert str(loaded) in line and "ermission denied" in line, line
    finally:
        loaded.chmod(0o755)
    assert _leftovers(loaded) == []


#: A load that meets a full disk while Delta writes its files (ENOSPC from the OS call itself).
DISK_FULL = textwrap.dedent("""
    import errno, os, sys
    import finops_xl.cli as cli
    import deltalake, finops_xl.store.delta as delta
    real = delta._write
    def full(folder, *a, **kw):
        if folder.name == "cost_daily":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "part-00001.parquet"))
        return real(folder, *a, **kw)
    delta._write = full
    sys.exit(cli.main(sys.argv[1:]))
""")


def test_disk_full_during_a_load_is_one_line_and_leaves_nothing(loaded, sample_csv, tmp_path):
    done = subprocess.run([sys.executable, "-c", DISK_FULL, "ingest", "--quiet", "--store", str(loaded),
                           str(_restated(sample_csv, tmp_path))], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    line = _one_line(done.stderr)
    assert str(loaded) in line and "No space left on device" in line, line
    assert "whole store" not in line  # a load needs space for its new data only
    assert _totals(loaded) == _totals_of_csv(sample_csv)
    assert _leftovers(loaded) == []


def test_a_file_size_limit_hit_by_delta_is_one_line(loaded, sample_csv, tmp_path):
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    done = _cli("ingest", "--quiet", "--store", str(loaded), str(_restated(sample_csv, tmp_path)), preexec_fn=limit)
    assert done.returncode == 1, done.stderr
    line = _one_line(done.stderr)
    assert str(loaded) in line and ("File too large" in line or "too large" in line.lower()), line
    assert _totals(loaded) == _totals_of_csv(sample_csv)
    assert _leftovers(loaded) == []


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated"])
def test_a_damaged_pointer_file_is_one_line_naming_it(damage, loaded, sample_csv, tmp_path):
    pointer = loaded / POINTER
    data = pointer.read_bytes()
    pointer.write_bytes({"empty": b"", "garbage": os.urandom(200), "truncated": data[: len(data) // 2]}[damage])
    before = file_digest(loaded)
    for argv in (["summary", "--store", str(loaded)],
                 ["ingest", "--quiet", "--store", str(loaded), str(_restated(sample_csv, tmp_path))]):
        done = _cli(*argv)
        assert done.returncode == 1, (argv, done.stderr)
        line = _one_line(done.stderr)
        assert str(loaded) in line and "damaged" in line and POINTER in line, line
    assert file_digest(loaded) == before


def test_a_deleted_data_file_is_one_line_naming_it(loaded, sample_csv, tmp_path):
    victim = next(p for p in sorted((loaded / "charges").rglob("*.parquet")))
    victim.unlink()
    done = _cli("summary", "--store", str(loaded))
    assert done.returncode == 1, done.stderr
    line = _one_line(done.stderr)
    assert str(loaded) in line and ("damaged" in line or "missing" in line), line


def test_disk_full_error_text_from_delta_is_one_line(monkeypatch, loaded, sample_csv, tmp_path):
    """delta-rs reports a full disk as its own error type, with the OS words inside."""
    import finops_xl.store.delta as delta

    real = delta._write

    def full(folder, *a, **kw):
        if folder.name == "charges":
            raise RuntimeError(f"Generic LocalFileSystem error: Unable to write {folder}/x.parquet: "
                               "No space left on device (os error 28)")
        return real(folder, *a, **kw)

    monkeypatch.setattr(delta, "_write", full)
    with pytest.raises(StoreError) as exc:
        ingest([_restated(sample_csv, tmp_path)], loaded)
    assert "\n" not in str(exc.value) and "No space left" in str(exc.value) and str(loaded) in str(exc.value)
    assert errno.ENOSPC
    assert _leftovers(loaded) == []


#: A command whose load is stopped by Ctrl-C (SIGINT) or SIGTERM in Python code or inside a DuckDB query.
CTRL_C = textwrap.dedent("""
    import argparse, os, signal, sys, threading, time
    import finops_xl.cli as cli
    from finops_xl.store.store import CostStore

    def run(args):
        with CostStore(sys.argv[1]).writer() as con:
            con.execute("CREATE TABLE scratch AS SELECT 1 AS i")
            sig = getattr(signal, sys.argv[3])
            if sys.argv[2] == "python":
                os.kill(os.getpid(), sig)
                time.sleep(30)
            threading.Timer(0.5, os.kill, (os.getpid(), sig)).start()
            con.execute("SELECT count(*) FROM range(10000000000) a WHERE a.range % 7 = 3").fetchall()
        return 0

    class Parser:
        def parse_args(self, argv):
            return argparse.Namespace(command="ingest", run=run)

    cli._parser = Parser
    sys.exit(cli.main([]))
""")


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("where", ["python", "duckdb"])
def test_ctrl_c_or_sigterm_during_a_load_is_one_line_and_leaves_nothing(where, sig, loaded, sample_csv):
    done = subprocess.run([sys.executable, "-c", CTRL_C, str(loaded), where, sig], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 128 + getattr(signal, sig), done.stderr
    assert ("interrupted" if sig == "SIGINT" else "terminated (SIGTERM)") in _one_line(done.stderr)
    assert _leftovers(loaded) == []
    assert _totals(loaded) == _totals_of_csv(sample_csv)
