"""Readers and the writer, in separate real processes.

An Excel workbook (a reader) querying the store while an ingest (the writer) runs in another
process must never fail and never see half a load: each answer is the old totals or the new ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

from finops_xl.store.ingest import ingest
from tests.conftest import read_csv_rows, reader_loop, write_csv_rows

ROOT = Path(__file__).resolve().parents[1]

WRITER = textwrap.dedent("""
    import sys
    from finops_xl.store.ingest import ingest
    store, a, b, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    for i in range(rounds):
        ingest([b if i % 2 == 0 else a], store)
    print("writer done", flush=True)
""")

READER = reader_loop("SELECT sum(BilledCost), count(*) FROM charges")


def _totals(path: Path) -> str:
    header, rows = read_csv_rows(path)
    b = header.index("BilledCost")
    return f"{sum((Decimal(r[b]) for r in rows), Decimal(0)):.12f}|{len(rows)}"


def test_reader_sees_old_or_new_totals_never_a_mix(sample_csv, tmp_path):
    header, rows = read_csv_rows(sample_csv)
    b = header.index("BilledCost")
    restated = [r[:b] + [str(Decimal(r[b]) * 3 + 1)] + r[b + 1:] for r in rows]
    a_file, b_file = sample_csv, write_csv_rows(tmp_path / "b" / "restated.csv", header, restated)
    store = tmp_path / "finops-store"
    ingest([a_file], store)
    allowed = {_totals(a_file), _totals(b_file)}

    env_cmd = [sys.executable, "-c"]
    reader = subprocess.Popen(env_cmd + [READER, str(store), "8"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    writer = subprocess.run(env_cmd + [WRITER, str(store), str(a_file), str(b_file), "12"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    out, err = reader.communicate(timeout=300)
    assert writer.returncode == 0, writer.stderr
    assert reader.returncode == 0, err
    result = json.loads(out)
    assert result["error_count"] == 0, result["errors"]
    assert set(result["seen"]) <= allowed, result["seen"]
    assert sum(result["seen"].values()) > 20  # the reader really ran during the loads
    assert len(result["seen"]) == 2, "the reader should have seen both versions"


def test_two_writers_serialize(sample_csv, tmp_path):
    header, rows = read_csv_rows(sample_csv)
    b = header.index("BilledCost")
    other = write_csv_rows(tmp_path / "o" / "other.csv", header,
                           [r[:b] + [str(Decimal(r[b]) + 1)] + r[b + 1:] for r in rows])
    store = tmp_path / "finops-store"
    script = "import sys; from finops_xl.store.ingest import ingest; ingest([sys.argv[2]], sys.argv[1])"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(store), str(f)], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for f in (sample_csv, other)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    from finops_xl.store.store import CostStore

    with CostStore(store).reader() as con:
        loads = con.execute("SELECT count(DISTINCT load_id) FROM manifest").fetchall()[0][0]
        billed, n = con.execute("SELECT sum(BilledCost), count(*) FROM charges").fetchall()[0]
    assert loads == 2
    assert f"{billed}|{n}" in {_totals(sample_csv), _totals(other)}


def test_a_new_store_being_created_by_another_writer_is_not_refused(sample_csv, tmp_path):
    """The moment a first writer has made the new store's folder and is writing its pointer file (the
    name it writes it under before the rename), a second writer sees a folder holding only that file: it
    is a store being made, never "a folder that is not a finops-xl cost store"."""
    from finops_xl.store import delta
    from finops_xl.store.store import CostStore

    store = tmp_path / "finops-store"
    store.mkdir()
    (store / f".{delta.POINTER}.999999").write_text("{")  # the first writer's pointer, not yet renamed
    (store / ".lock").write_text("")  # and its lock
    ingest([str(sample_csv)], str(store))
    with CostStore(store).reader() as con:
        n = con.execute("SELECT count(*) FROM charges").fetchall()[0][0]
    assert n == len(read_csv_rows(sample_csv)[1])


def test_a_new_stores_pointer_never_replaces_one_another_writer_made(sample_csv, tmp_path):
    """Two writers making the same new store each write its first pointer; the second must not rename
    its empty pointer over the first's once that one has a commit (the first load would be lost)."""
    from finops_xl.store import delta

    store = tmp_path / "finops-store"
    ingest([str(sample_csv)], str(store))
    before = (store / delta.POINTER).read_text()
    delta.create_pointer(store)  # what a second writer that saw no pointer a moment ago does
    assert (store / delta.POINTER).read_text() == before
    assert not [p.name for p in store.iterdir() if p.name.startswith(f".{delta.POINTER}.")]


def test_repair_by_a_locked_writer_leaves_a_new_stores_first_pointer_being_written(tmp_path, monkeypatch):
    """A writer that has the lock repairs the folder while a second writer, not yet locked, is writing
    the new store's first pointer under its temporary name: the repair must not remove that file
    (the second writer's link would fail with "No such file or directory")."""
    from finops_xl.store import delta, repair

    store = tmp_path / "finops-store"
    store.mkdir()
    real_link = os.link

    def link_after_a_repair(src, dst, *a, **k):
        repair.repair(store)  # the first writer, holding the lock, repairs at this very moment
        return real_link(src, dst, *a, **k)

    monkeypatch.setattr(os, "link", link_after_a_repair)
    delta.create_pointer(store)
    assert delta.is_store_folder(store)
    assert sorted(p.name for p in store.iterdir()) == [delta.POINTER]
