"""The store's reliability, path and permission defects (issue 16), each reproduced for real.

Writers are real processes killed by real signals; disk and permission failures are real OS errors
(a file-size limit, folders the process may not write, with root's override dropped by ``setpriv``).
Expected totals come from the input file itself (csv + Decimal), never from the store's code.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
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
from tests.conftest import read_csv_rows, write_csv_rows

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, modes and owners")

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}

#: Holds the store's writer open (a load in progress) until killed.
HOLD = textwrap.dedent("""
    import sys, time
    from finops_xl.store.store import CostStore
    with CostStore(sys.argv[1]).writer() as con:
        con.execute("CREATE TABLE scratch AS SELECT range AS i FROM range(1000)")
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _totals_of_csv(path: Path) -> tuple[Decimal, int]:
    header, rows = read_csv_rows(path)
    b = header.index("BilledCost")
    return sum((Decimal(r[b]) for r in rows), Decimal(0)), len(rows)


def _totals(store: Path) -> tuple[Decimal, int]:
    with CostStore(store).reader() as con:
        billed, n = con.execute("SELECT sum(BilledCost), count(*) FROM charges").fetchall()[0]
    return Decimal(billed), n


def _restated(sample_csv: Path, tmp_path: Path, factor: int = 2) -> Path:
    header, rows = read_csv_rows(sample_csv)
    b = header.index("BilledCost")
    return write_csv_rows(tmp_path / f"restated{factor}" / "restated.csv", header,
                          [r[:b] + [str(Decimal(r[b]) * factor)] + r[b + 1:] for r in rows])


def _leftovers(folder: Path) -> list[str]:
    """The work copies in ``folder`` (a copy's DuckDB ``.wal`` counted with it)."""
    return sorted({p.name.removesuffix(".wal") for p in folder.iterdir() if ".next-" in p.name})


def _hold(store: Path, seconds: float = 60) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(store), str(seconds)], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding", proc.stderr.read()
    return proc


def _cli(*args: str, env: dict | None = None, prefix: tuple[str, ...] = (), **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "finops_xl.cli", *args], cwd=ROOT,
                          env={**ENV, **(env or {})}, capture_output=True, text=True, timeout=300, **kw)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# ---- disk leaks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_writers_copy_is_gone_after_the_next_load(sig, sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    before = _totals(store)
    holder = _hold(store)
    assert _leftovers(tmp_path) == [f"finops.duckdb.next-{holder.pid}"]
    holder.send_signal(sig)
    holder.wait(timeout=30)
    assert _totals(store) == before  # the store is as before the killed load
    if sig == signal.SIGTERM:  # handled: the writer removed its copy and said why it stopped
        assert _leftovers(tmp_path) == []
        assert holder.returncode != 0
    ingest([_restated(sample_csv, tmp_path)], store)
    assert _leftovers(tmp_path) == []
    billed, n = _totals_of_csv(sample_csv)
    assert _totals(store) == (billed * 2, n)


def test_only_copies_of_writers_that_no_longer_run_are_removed(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for pid in (int(dead.stdout), alive.pid):
            (tmp_path / f"finops.duckdb.next-{pid}").write_bytes(b"x" * 1000)
        (tmp_path / "finops.duckdb.next-notapid").write_bytes(b"not a copy of ours")
        ingest([_restated(sample_csv, tmp_path)], store)
        assert _leftovers(tmp_path) == sorted([f"finops.duckdb.next-{alive.pid}", "finops.duckdb.next-notapid"])
    finally:
        alive.kill()
        alive.wait()


def test_sigterm_while_waiting_for_the_lock_is_one_line_and_leaves_nothing(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    holder = _hold(store)
    try:
        cli = subprocess.Popen([sys.executable, "-m", "finops_xl.cli", "ingest", "--quiet", "--store",
                                str(store), str(_restated(sample_csv, tmp_path))], cwd=ROOT, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)  # hashed its input and waits for the lock
        cli.send_signal(signal.SIGTERM)
        _, err = cli.communicate(timeout=30)
    finally:
        holder.kill()
        holder.wait()
    assert cli.returncode == 128 + signal.SIGTERM
    lines = [line for line in err.splitlines() if line.strip() and "waiting for the store lock" not in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "terminated" in lines[0] and "unchanged" in lines[0], err
    assert _leftovers(tmp_path) == [f"finops.duckdb.next-{holder.pid}"]  # only the SIGKILLed holder's


def _limit_file_size(limit: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_an_os_error_during_the_copy_is_one_line_and_leaves_no_partial_copy(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    before = _totals(store)
    size = store.stat().st_size
    done = _cli("ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path)),
                preexec_fn=_limit_file_size(size // 2))
    assert done.returncode == 1, done.stderr
    line = _one_line(done.stderr)
    assert str(store) in line and "File too large" in line
    assert _leftovers(tmp_path) == []
    assert _totals(store) == before


def test_an_os_error_while_duckdb_writes_the_copy_is_one_line_and_leaves_nothing(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    before = _totals(store)
    done = _cli("ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path)),
                preexec_fn=_limit_file_size(store.stat().st_size + 65536))  # the copy fits, the load not
    assert done.returncode == 1, done.stderr
    line = _one_line(done.stderr)
    assert str(store) in line and "File too large" in line and ".next-" not in line
    assert "unexpected error" not in line and "FATAL" not in line
    assert _leftovers(tmp_path) == []
    assert _totals(store) == before


def test_disk_full_names_the_folder_and_the_space_a_load_needs(sample_csv, tmp_path, monkeypatch):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    before = _totals(store)
    real_copy = shutil.copyfileobj

    def full_disk(src, dst, length=0):
        dst.write(src.read(4096))  # a partial copy, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copyfileobj", full_disk)
    monkeypatch.setattr(shutil, "copyfile", lambda s, d, **kw: full_disk(open(s, "rb"), open(d, "wb")))
    with pytest.raises(StoreError) as exc:
        ingest([_restated(sample_csv, tmp_path)], store)
    monkeypatch.setattr(shutil, "copyfileobj", real_copy)
    text = str(exc.value)
    assert "\n" not in text
    assert str(tmp_path) in text and "No space left on device" in text
    assert "the whole store" in text and f"{store.stat().st_size / 2**20:.1f} MiB" in text
    assert _leftovers(tmp_path) == []
    assert _totals(store) == before


def test_the_readme_says_a_load_needs_the_whole_store_in_free_space():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "free space of the whole store plus the new data" in readme


# ---- paths and permissions ---------------------------------------------------------------------------


def test_a_symlinked_store_stays_a_link_and_the_real_store_is_updated(sample_csv, tmp_path):
    real = tmp_path / "real" / "finops.duckdb"
    ingest([sample_csv], real)
    link = tmp_path / "link.duckdb"
    link.symlink_to(real)
    ingest([_restated(sample_csv, tmp_path)], link)
    assert link.is_symlink() and link.resolve() == real
    billed, n = _totals_of_csv(sample_csv)
    assert _totals(real) == (billed * 2, n)
    assert _leftovers(tmp_path) == [] and _leftovers(real.parent) == []


def test_writers_through_two_paths_to_one_store_share_one_lock(sample_csv, tmp_path):
    real = tmp_path / "real" / "finops.duckdb"
    ingest([sample_csv], real)
    link = tmp_path / "link.duckdb"
    link.symlink_to(real)
    holder = _hold(real)
    try:
        done = _cli("ingest", "--quiet", "--store", str(link), str(_restated(sample_csv, tmp_path)),
                    env={"FINOPS_XL_LOCK_TIMEOUT": "3"})
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert f"waiting for the store lock held by pid {holder.pid} (command " in lines[0]
    assert "since" in lines[0]
    assert len(lines) == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"pid {holder.pid}" in lines[1] and "FINOPS_XL_LOCK_TIMEOUT" in lines[1]
    assert str(real) in lines[1]
    billed, n = _totals_of_csv(sample_csv)
    assert _totals(real) == (billed, n)


def test_a_waiting_writer_says_who_holds_the_lock_then_loads(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store), "3"], cwd=ROOT, env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    done = _cli("ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path)))
    holder.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert f"waiting for the store lock held by pid {holder.pid} (command " in done.stderr
    billed, n = _totals_of_csv(sample_csv)
    assert _totals(store) == (billed * 2, n)


def test_the_lock_timeout_must_be_a_number(sample_csv, tmp_path):
    done = _cli("ingest", "--quiet", "--store", str(tmp_path / "s.duckdb"), str(sample_csv),
                env={"FINOPS_XL_LOCK_TIMEOUT": "soon"})
    assert done.returncode == 1
    assert "FINOPS_XL_LOCK_TIMEOUT" in _one_line(done.stderr)


def test_a_load_keeps_the_stores_mode_and_owner(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    store.chmod(0o600)
    owner = (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        owner = (65534, 65534)  # root can give the store away: a load must keep it with its owner
        os.chown(store, *owner)
    ingest([_restated(sample_csv, tmp_path)], store)
    st = store.stat()
    assert oct(st.st_mode & 0o7777) == oct(0o600)
    assert (st.st_uid, st.st_gid) == owner
    billed, n = _totals_of_csv(sample_csv)
    assert _totals(store) == (billed * 2, n)


def test_a_read_only_store_file_loads_and_stays_read_only(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    store.chmod(0o440)
    done = _cli("ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path)),
                prefix=_unprivileged())
    assert done.returncode == 0, done.stderr
    assert oct(store.stat().st_mode & 0o7777) == oct(0o440)
    billed, n = _totals_of_csv(sample_csv)
    assert _totals(store) == (billed * 2, n)


@pytest.fixture
def closed_store(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    return store


@pytest.mark.parametrize("target", ["store", "allocation", "savings", "close", "link"])
def test_no_command_writes_over_the_store_or_its_files(target, closed_store, tmp_path, capsys):
    store = CostStore(closed_store)
    (tmp_path / "finops.allocation.duckdb").write_bytes(b"allocation")
    (tmp_path / "finops.savings.duckdb").write_bytes(b"savings")
    (tmp_path / "finops.close").mkdir()
    (tmp_path / "link.duckdb").symlink_to(closed_store)
    named = {"store": closed_store, "allocation": store.allocation_path, "savings": store.savings_path,
             "close": tmp_path / "finops.close" / "ACCR-2024-09.json", "link": tmp_path / "link.duckdb"}[target]
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    runs = [["close", "--store", str(closed_store), "--month", "2024-09", "--journal", str(named)],
            ["close", "--store", str(closed_store), "--month", "2024-09", "--out", str(named)],
            ["workbook", "overview", "--store", str(closed_store), "--month", "2024-09", "--out", str(named)]]
    for argv in runs:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "\n" not in err.strip() and "Traceback" not in err
        assert str(named) in err and "store" in err, err
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert not (tmp_path / "finops.close" / "ACCR-2024-09.json").exists()


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


def test_another_applications_database_is_not_turned_into_a_store(sample_csv, tmp_path):
    other = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE customers AS SELECT 1 AS id, 'Ada' AS name")
    con.close()
    before = other.read_bytes()
    done = _cli("ingest", "--quiet", "--store", str(other), str(sample_csv))
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert str(other) in line and "customers" in line and "not a finops-xl cost store" in line
    assert other.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_an_empty_database_becomes_a_store(sample_csv, tmp_path):
    empty = tmp_path / "new.duckdb"
    duckdb.connect(str(empty)).close()
    ingest([sample_csv], empty)
    assert _totals(empty) == _totals_of_csv(sample_csv)


# ---- OS errors: one line naming the path, nothing left behind ------------------------------------------


def _unprivileged() -> tuple[str, ...]:
    """A prefix that runs a command without root's permission override (nothing when not root)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be checked")
    caps = "-dac_override,-dac_read_search"
    return (setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}")


def test_a_read_only_folder_is_one_line_naming_it(sample_csv, tmp_path):
    folder = tmp_path / "ro"
    store = folder / "finops.duckdb"
    ingest([sample_csv], store)
    folder.chmod(0o555)
    try:
        done = _cli("ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path)),
                    prefix=_unprivileged())
    finally:
        folder.chmod(0o755)
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert str(folder) in line and "ermission denied" in line
    assert _leftovers(folder) == []
    assert _totals(store) == _totals_of_csv(sample_csv)


def test_an_unreadable_store_is_one_line_naming_it(sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    store.chmod(0o000)
    try:
        for argv in (["summary", "--store", str(store)],
                     ["ingest", "--quiet", "--store", str(store), str(sample_csv)]):
            done = _cli(*argv, prefix=_unprivileged())
            assert done.returncode == 1, argv
            line = _one_line(done.stderr)
            assert str(store) in line and "ermission denied" in line
    finally:
        store.chmod(0o644)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated"])
def test_a_damaged_store_is_one_line_naming_it(damage, sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    data = store.read_bytes()
    store.write_bytes({"empty": b"", "garbage": os.urandom(len(data)),
                       "truncated": data[:65536]}[damage])
    damaged = store.read_bytes()
    for argv in (["summary", "--store", str(store)],
                 ["ingest", "--quiet", "--store", str(store), str(_restated(sample_csv, tmp_path))]):
        done = _cli(*argv)
        assert done.returncode == 1, (argv, done.stderr)
        line = _one_line(done.stderr)
        assert str(store) in line and "unexpected error" not in line, line
        assert ".next-" not in line
        assert ("empty" if damage == "empty" else "damaged" if damage == "truncated" else "not a") in line
    assert store.read_bytes() == damaged
    assert _leftovers(tmp_path) == []


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
def test_ctrl_c_or_sigterm_during_a_load_is_one_line_and_leaves_nothing(where, sig, sample_csv, tmp_path):
    store = tmp_path / "finops.duckdb"
    ingest([sample_csv], store)
    done = subprocess.run([sys.executable, "-c", CTRL_C, str(store), where, sig], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 128 + getattr(signal, sig), done.stderr
    assert ("interrupted" if sig == "SIGINT" else "terminated (SIGTERM)") in _one_line(done.stderr)
    assert _leftovers(tmp_path) == []
    assert _totals(store) == _totals_of_csv(sample_csv)
