"""OpenCost CSV exports load into their own table, ``kubernetes_allocation``, never into ``charges``.

OpenCost's rows are Kubernetes allocations of cloud costs already in the bill (node costs split by
namespace and pod): adding them to ``charges`` would count the bill twice. The samples are the
layouts OpenCost's CSV exporter writes (tests/data/provider-samples/opencost-allocation-csv, from
opencost/opencost pkg/costmodel/csv_export_test.go). Expected totals come from the files themselves
(Python's csv module and Decimal), never from the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops_xl.cli import main
from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import DATA, read_csv_rows, write_csv_rows
from tests.test_ingest import csv_totals, store_totals

D = Decimal
SAMPLES = DATA / "provider-samples" / "opencost-allocation-csv"
BASIC = SAMPLES / "opencost_csv_export_basic.csv"
LABELS = SAMPLES / "opencost_csv_export_labels.csv"
MERGED = SAMPLES / "opencost_csv_export_merged.csv"
PREVIOUS = SAMPLES / "opencost_csv_export_prev_partial.csv"
ALL = [BASIC, LABELS, MERGED, PREVIOUS]
COSTS = ("CPUCost", "RAMCost", "NetworkCost", "PVCost", "GPUCost", "TotalCost")


def csv_day_totals(path: Path, column: str = "TotalCost") -> dict[dt.date, Decimal | None]:
    """Σ ``column`` per Date, from the file; None for a day on which no row has a value."""
    header, rows = read_csv_rows(path)
    d = header.index("Date")
    c = header.index(column) if column in header else None
    out: dict[dt.date, Decimal | None] = {}
    for r in rows:
        day = dt.date.fromisoformat(r[d])
        value = r[c] if c is not None else ""
        if value == "":
            out.setdefault(day, None)
        else:
            out[day] = (out.get(day) or D(0)) + D(value)
    return out


def table_day_totals(store_path: Path, column: str = "TotalCost") -> dict[dt.date, Decimal | None]:
    with CostStore(store_path).reader() as con:
        rows = con.execute(f'SELECT "Date", sum("{column}") FROM kubernetes_allocation GROUP BY 1').fetchall()
    return {day: (None if total is None else Decimal(total)) for day, total in rows}


def table_rows(store_path: Path) -> int:
    with CostStore(store_path).reader() as con:
        return con.execute("SELECT count(*) FROM kubernetes_allocation").fetchall()[0][0]


def charges_rows(store_path: Path) -> int:
    with CostStore(store_path).reader() as con:
        return con.execute("SELECT count(*) FROM charges").fetchall()[0][0]


# ---- each real layout loads alone, ties to its own columns, leaves charges alone -------------------


@pytest.mark.parametrize("sample", ALL, ids=lambda p: p.stem)
def test_each_sample_loads_alone_and_ties_per_day(sample, store_path):
    _, rows = read_csv_rows(sample)
    report = ingest([sample], store_path)
    assert not report.unchanged
    assert table_rows(store_path) == len(rows)
    header, _ = read_csv_rows(sample)
    for column in COSTS:
        if column in header:
            assert table_day_totals(store_path, column) == csv_day_totals(sample, column), column
    if "TotalCost" not in header:  # the older layout has no TotalCost: stored empty, never invented
        assert set(table_day_totals(store_path).values()) == {None}
    assert charges_rows(store_path) == 0
    assert report.rows == 0  # no charges loaded
    assert report.kubernetes is not None and report.kubernetes.rows == len(rows)


def test_columns_are_typed_and_carry_lineage(store_path):
    ingest([LABELS], store_path)
    with CostStore(store_path).reader() as con:
        types = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'kubernetes_allocation'").fetchall())
        row = con.execute(
            "SELECT Labels, x_SourceFile, x_ContentHash, x_LoadId, Currency, Cluster "
            "FROM kubernetes_allocation").fetchall()[0]
    assert types["Date"] == "DATE"
    assert types["TotalCost"].startswith("DECIMAL")
    assert types["CPUCoreUsageAverage"] == "DOUBLE"
    assert types["Labels"] == "JSON"
    header, rows = read_csv_rows(LABELS)
    assert json.loads(row[0]) == json.loads(rows[0][header.index("Labels")])
    assert row[1] == str(LABELS)
    assert row[2].startswith("sha256:")
    assert row[3] >= 1
    assert row[4] == "USD"
    assert row[5] == ""  # the export has no Cluster column


def test_label_columns_become_labels(store_path):
    ingest([PREVIOUS], store_path)
    header, rows = read_csv_rows(PREVIOUS)
    with CostStore(store_path).reader() as con:
        labels = con.execute("SELECT Labels FROM kubernetes_allocation").fetchall()[0][0]
    assert json.loads(labels) == {"app": rows[0][header.index("Label_app")]}


def test_reloading_the_same_file_is_unchanged(store_path, capsys):
    ingest([BASIC], store_path)
    again = ingest([BASIC], store_path)
    assert again.unchanged
    assert table_rows(store_path) == 1
    assert main(["ingest", "--quiet", "--store", str(store_path), str(BASIC)]) == 0
    assert "unchanged" in capsys.readouterr().out


@pytest.mark.parametrize("spelling", ["named twice", "identical bytes under two names"])
def test_an_export_reached_twice_is_loaded_once(spelling, store_path, tmp_path):
    if spelling == "named twice":
        paths = [BASIC, BASIC]
    else:
        copy = tmp_path / "copy-of-basic.csv"
        shutil.copyfile(BASIC, copy)
        paths = [BASIC, copy]
    report = ingest(paths, store_path)
    assert len(report.skipped) == 1
    assert table_day_totals(store_path) == csv_day_totals(BASIC)


def test_a_restated_export_replaces_its_days(store_path, tmp_path):
    ingest([BASIC], store_path)
    header, rows = read_csv_rows(BASIC)
    rows[0][header.index("TotalCost")] = "7.25"
    restated = write_csv_rows(tmp_path / BASIC.name, header, rows)
    report = ingest([restated], store_path)
    assert table_rows(store_path) == 1
    assert table_day_totals(store_path) == csv_day_totals(restated)
    assert [d.state for d in report.kubernetes.days] == ["replaced"]


def test_a_growing_export_adds_its_new_days_and_keeps_the_old_ones(store_path, tmp_path):
    """OpenCost's exporter appends each new day to the same file (merging an older layout): the day
    already loaded is unchanged, the new one is added, nothing is counted twice."""
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copyfile(PREVIOUS, folder / "opencost.csv")
    ingest([folder / "opencost.csv"], store_path)
    shutil.copyfile(MERGED, folder / "opencost.csv")
    report = ingest([folder / "opencost.csv"], store_path)
    _, rows = read_csv_rows(MERGED)
    assert table_rows(store_path) == len(rows)
    assert table_day_totals(store_path, "CPUCost") == csv_day_totals(MERGED, "CPUCost")
    assert sorted(d.state for d in report.kubernetes.days) == ["new", "unchanged"]


def test_the_same_days_in_two_files_of_one_load(store_path):
    """Identical days (the older file and the merged one) load once; different rows for one day of
    one cluster are refused: which is right cannot be told."""
    report = ingest([PREVIOUS, MERGED], store_path)
    _, rows = read_csv_rows(MERGED)
    assert table_rows(store_path) == len(rows)
    assert any("identical" in n.message for n in report.all_notices)
    with pytest.raises(IngestError) as exc:
        ingest([BASIC, LABELS], tmp := store_path.with_name("other.duckdb"))
    text = str(exc.value)
    assert BASIC.name in text and LABELS.name in text and "2021-01-01" in text
    assert not tmp.exists() or table_rows(tmp) == 0


def test_another_file_replacing_days_of_an_unnamed_cluster_is_warned(store_path, tmp_path):
    ingest([BASIC], store_path)
    other = tmp_path / "cluster-b.csv"
    shutil.copyfile(LABELS, other)
    report = ingest([other], store_path)
    warned = [n for n in report.all_notices if n.message.startswith("WARNING")]
    assert warned and BASIC.name in warned[0].message and "--cluster" in warned[0].message


def test_a_cluster_column_or_option_keys_the_days_by_cluster(store_path, tmp_path):
    ingest([BASIC], store_path, kubernetes=_options(cluster="cluster-a"))
    ingest([LABELS], store_path, kubernetes=_options(cluster="cluster-b"))
    with CostStore(store_path).reader() as con:
        clusters = con.execute(
            "SELECT Cluster, count(*) FROM kubernetes_allocation GROUP BY 1 ORDER BY 1").fetchall()
    assert clusters == [("cluster-a", 1), ("cluster-b", 1)]
    header, rows = read_csv_rows(BASIC)
    with_cluster = write_csv_rows(tmp_path / "with-cluster.csv", ["Cluster", *header],
                                  [["east", *rows[0]], ["west", *rows[0]]])
    ingest([with_cluster], store_path.with_name("c.duckdb"))
    with CostStore(store_path.with_name("c.duckdb")).reader() as con:
        clusters = con.execute(
            "SELECT Cluster, sum(TotalCost) FROM kubernetes_allocation GROUP BY 1 ORDER BY 1").fetchall()
    one = D(rows[0][header.index("TotalCost")])
    assert clusters == [("east", one), ("west", one)]


def _options(**kw):
    from finops_xl.store.opencost import AllocationOptions

    return AllocationOptions(**kw)


# ---- mixed folders ----------------------------------------------------------------------------------


def test_a_folder_of_focus_and_opencost_files_loads_each_to_its_table(sample_csv, store_path, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copyfile(sample_csv, folder / "focus.csv")
    shutil.copyfile(BASIC, folder / "opencost.csv")
    report = ingest([folder], store_path)
    assert store_totals(store_path) == csv_totals(sample_csv)
    assert table_day_totals(store_path) == csv_day_totals(BASIC)
    assert report.rows == len(read_csv_rows(sample_csv)[1])
    # reloading: both unchanged
    assert ingest([folder], store_path).unchanged
    # a new OpenCost day alone, beside an unchanged FOCUS file: loads the day, the charges stay
    header, rows = read_csv_rows(BASIC)
    rows.append(["2021-01-02", *rows[0][1:]])
    write_csv_rows(folder / "opencost.csv", header, rows)
    again = ingest([folder], store_path)
    assert not again.unchanged and again.rows == 0
    assert store_totals(store_path) == csv_totals(sample_csv)
    assert table_day_totals(store_path) == csv_day_totals(folder / "opencost.csv")


# ---- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("column, value", [("TotalCost", "abc"), ("CPUCost", "1,25"),
                                           ("CPUCoreUsageAverage", "lots"), ("Date", "01/01/2021"),
                                           ("TotalCost", "+Inf")])
def test_a_bad_value_is_refused_naming_file_line_column_value(column, value, store_path, tmp_path):
    header, rows = read_csv_rows(BASIC)
    rows.append(list(rows[0]))
    rows[1][header.index(column)] = value
    bad = write_csv_rows(tmp_path / "bad.csv", header, rows)
    with pytest.raises(IngestError) as exc:
        ingest([bad], store_path)
    [p] = exc.value.problems
    assert (p.file, p.row, p.column, p.value) == (str(bad), 2, column, value)
    assert "line 3" in str(p)
    assert "Traceback" not in str(p) and "strict_mode" not in str(p)
    assert not store_path.exists() or table_rows(store_path) == 0


def test_a_column_given_twice_is_refused(store_path, tmp_path):
    header, rows = read_csv_rows(BASIC)
    bad = write_csv_rows(tmp_path / "twice.csv", [*header, "TotalCost"], [[*rows[0], "1"]])
    with pytest.raises(IngestError) as exc:
        ingest([bad], store_path)
    assert "TotalCost" in str(exc.value) and "twice" in str(exc.value)


def test_labels_that_are_not_a_json_object_are_refused(store_path, tmp_path):
    header, rows = read_csv_rows(LABELS)
    rows[0][header.index("Labels")] = "app=web"
    bad = write_csv_rows(tmp_path / "labels.csv", header, rows)
    with pytest.raises(IngestError) as exc:
        ingest([bad], store_path)
    [p] = exc.value.problems
    assert (p.row, p.column, p.value) == (1, "Labels", "app=web")


def test_nan_is_stored_empty_with_a_notice(store_path, tmp_path):
    header, rows = read_csv_rows(BASIC)
    rows[0][header.index("GPUCost")] = "NaN"
    f = write_csv_rows(tmp_path / "nan.csv", header, rows)
    report = ingest([f], store_path)
    assert any("NaN" in n.message and n.column == "GPUCost" for n in report.all_notices)
    assert table_day_totals(store_path, "GPUCost") == {dt.date(2021, 1, 1): None}
    assert table_day_totals(store_path) == csv_day_totals(f)


# ---- what the user is told --------------------------------------------------------------------------


def test_the_cli_says_these_are_allocations_not_cloud_costs(store_path, capsys):
    assert main(["ingest", "--quiet", "--store", str(store_path), str(BASIC)]) == 0
    out = capsys.readouterr().out
    assert "Kubernetes allocations" in out and "NOT added to cloud costs" in out
    assert "2021-01-01" in out and "USD" in out
    total = csv_day_totals(BASIC)[dt.date(2021, 1, 1)]
    assert f"{total:,.2f}" in out
    assert "--currency" in out  # the assumption is stated


def test_the_currency_option_is_recorded(store_path, capsys):
    assert main(["ingest", "--quiet", "--store", str(store_path), "--currency", "EUR", str(BASIC)]) == 0
    assert "EUR" in capsys.readouterr().out
    with CostStore(store_path).reader() as con:
        assert con.execute("SELECT DISTINCT Currency FROM kubernetes_allocation").fetchall() == [("EUR",)]
    assert main(["ingest", "--quiet", "--store", str(store_path), "--currency", "euro", str(BASIC)]) == 1
    assert "currency" in capsys.readouterr().err


# ---- validate ---------------------------------------------------------------------------------------


def test_validate_checks_opencost_exports_without_loading(store_path, tmp_path, capsys):
    from finops_xl.store.ingest import validate

    [report] = validate([MERGED])
    assert (report.native_format, report.rows) == ("opencost", len(read_csv_rows(MERGED)[1]))
    assert main(["validate", str(MERGED)]) == 0
    out = capsys.readouterr().out
    assert "OpenCost" in out and "kubernetes_allocation" in out and "FOCUS" not in out.split("\n")[0]
    header, rows = read_csv_rows(BASIC)
    rows[0][header.index("TotalCost")] = "abc"
    bad = write_csv_rows(tmp_path / "bad.csv", header, rows)
    with pytest.raises(IngestError) as exc:
        validate([bad])
    assert [(p.row, p.column, p.value) for p in exc.value.problems] == [(1, "TotalCost", "abc")]
    assert not store_path.exists()


def test_problems_of_opencost_and_focus_files_are_listed_together(store_path, tmp_path):
    header, rows = read_csv_rows(BASIC)
    rows[0][header.index("TotalCost")] = "abc"
    bad = write_csv_rows(tmp_path / "bad-opencost.csv", header, rows)
    not_focus = write_csv_rows(tmp_path / "not-focus.csv", ["a", "b"], [["1", "2"]])
    with pytest.raises(IngestError) as exc:
        ingest([bad, not_focus], store_path)
    assert {p.file for p in exc.value.problems} == {str(bad), str(not_focus)}


def test_the_allocation_compute_csv_layout_and_unknown_columns(store_path, tmp_path):
    """OpenCost's allocation compute CSV adds Cluster, LoadBalancerCost, SharedCost and ExternalCost;
    a column this package does not know is kept in Extras, with a notice."""
    header, rows = read_csv_rows(BASIC)
    wide = write_csv_rows(
        tmp_path / "compute.csv",
        [*header, "Cluster", "LoadBalancerCost", "SharedCost", "ExternalCost", "Node"],
        [[*rows[0], "prod", "0.125", "1.5", "0.0000000000000001", "node-1"]])
    report = ingest([wide], store_path)
    for column in ("TotalCost", "LoadBalancerCost", "SharedCost", "ExternalCost"):
        assert table_day_totals(store_path, column) == csv_day_totals(wide, column), column
    with CostStore(store_path).reader() as con:
        cluster, extras = con.execute("SELECT Cluster, Extras FROM kubernetes_allocation").fetchall()[0]
    assert cluster == "prod" and json.loads(extras) == {"Node": "node-1"}
    assert any("Extras" in n.message and "Node" in n.message for n in report.all_notices)
    assert not any("no Cluster column" in n.message for n in report.all_notices)


def test_an_export_with_a_header_and_no_rows_is_refused(store_path, tmp_path):
    header, _ = read_csv_rows(BASIC)
    empty = write_csv_rows(tmp_path / "empty.csv", header, [])
    with pytest.raises(IngestError) as exc:
        ingest([empty], store_path)
    assert "no data rows" in str(exc.value)


def test_a_spreadsheet_resave_with_bom_and_crlf_loads(store_path, tmp_path):
    resaved = tmp_path / "resaved.csv"
    resaved.write_bytes(b"\xef\xbb\xbf" + LABELS.read_bytes().replace(b"\n", b"\r\n"))
    ingest([resaved], store_path)
    assert table_day_totals(store_path) == csv_day_totals(LABELS)
    with CostStore(store_path).reader() as con:
        labels = con.execute("SELECT Labels FROM kubernetes_allocation").fetchall()[0][0]
    header, rows = read_csv_rows(LABELS)
    assert json.loads(labels) == json.loads(rows[0][header.index("Labels")])


# ---- never counted twice, whatever the combination ---------------------------------------------------

_SPELLINGS = ("older export", "grown export", "grown export copied", "folder of both", "folder of both/",
              "grown export via ..")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(_SPELLINGS), min_size=1, max_size=4), min_size=1, max_size=3))
def test_any_combination_of_loads_holds_each_day_once(tmp_path_factory, commands):
    """OpenCost's growing export (an older copy with day 1, the current one with days 1 and 2, a copy
    under another name, a folder holding both), loaded in any mix over several commands: every day
    is in the store once, as the current export has it."""
    tmp = tmp_path_factory.mktemp("combo")
    (tmp / "a").mkdir()
    (tmp / "b").mkdir()
    (tmp / "both").mkdir()
    shutil.copyfile(PREVIOUS, tmp / "a" / "opencost.csv")
    shutil.copyfile(MERGED, tmp / "b" / "opencost.csv")
    shutil.copyfile(MERGED, tmp / "copy.csv")
    shutil.copyfile(PREVIOUS, tmp / "both" / "older.csv")
    shutil.copyfile(MERGED, tmp / "both" / "current.csv")
    where = {"older export": [tmp / "a" / "opencost.csv"], "grown export": [tmp / "b" / "opencost.csv"],
             "grown export copied": [tmp / "copy.csv"], "folder of both": [tmp / "both"],
             "folder of both/": [f"{tmp / 'both'}/"],
             "grown export via ..": [tmp / "a" / ".." / "b" / "opencost.csv"]}
    older_only = {"older export"}
    store = tmp / "s.duckdb"
    loaded_days: set[dt.date] = set()
    for picks in commands:
        ingest([p for pick in picks for p in where[pick]], store)
        loaded_days |= set(csv_day_totals(PREVIOUS if set(picks) <= older_only else MERGED))
        expected = {d: v for d, v in csv_day_totals(MERGED, "CPUCost").items() if d in loaded_days}
        assert table_day_totals(store, "CPUCost") == expected
        with CostStore(store).reader() as con:
            per_day = dict(con.execute(
                'SELECT "Date", count(*) FROM kubernetes_allocation GROUP BY 1').fetchall())
        assert per_day == {d: 1 for d in loaded_days}


def test_many_shared_days_make_one_message(store_path, tmp_path):
    header, rows = read_csv_rows(BASIC)
    d, t = header.index("Date"), header.index("TotalCost")

    def days(n: int, cost: str | None = None) -> list[list[str]]:
        out = []
        for i in range(n):
            r = list(rows[0])
            r[d] = f"2021-01-{i + 1:02d}"
            r[t] = cost or r[t]
            out.append(r)
        return out

    older = write_csv_rows(tmp_path / "a" / "export-older.csv", header, days(3))
    newer = write_csv_rows(tmp_path / "a" / "export.csv", header, days(4))
    report = ingest([tmp_path / "a"], store_path)
    shared = [n for n in report.all_notices if "identical rows" in n.message]
    assert len(shared) == 1 and "3 days" in shared[0].message
    assert table_day_totals(store_path) == csv_day_totals(newer)
    assert older.exists()
    other = write_csv_rows(tmp_path / "b" / "other-cluster.csv", header, days(3, cost="9"))
    with pytest.raises(IngestError) as exc:
        ingest([newer, other], store_path.with_name("b.duckdb"))
    [p] = exc.value.problems
    assert "3 days" in p.message and "--cluster" in p.message


def test_a_row_with_fields_missing_is_refused_naming_its_line(store_path, tmp_path):
    header, rows = read_csv_rows(BASIC)
    cut = write_csv_rows(tmp_path / "cut.csv", header, [rows[0], rows[0][:8]])
    with pytest.raises(IngestError) as exc:
        ingest([cut], store_path)
    [p] = exc.value.problems
    assert p.row == 2 and "line 3 has 8 fields where the header has 20" in p.message
    assert "sniff" not in str(p).lower()


def test_the_notices_are_recorded_with_the_load(store_path):
    report = ingest([PREVIOUS], store_path)
    with CostStore(store_path).reader() as con:
        recorded = con.execute("SELECT load_id, source_file, column_name, rows, amount FROM load_notices "
                               "WHERE message LIKE '%no TotalCost%'").fetchall()
        loads = {r[0] for r in con.execute("SELECT DISTINCT x_LoadId FROM kubernetes_allocation").fetchall()}
    header, rows = read_csv_rows(PREVIOUS)
    parts = sum(D(rows[0][header.index(c)]) for c in ("CPUCost", "RAMCost"))
    assert recorded == [(report.load_id, str(PREVIOUS), "TotalCost", 1, parts)]
    assert loads == {report.load_id}
    # the next load, of anything, takes a new id
    again = ingest([BASIC], store_path)
    assert again.load_id == report.load_id + 1


def test_the_allocation_summary_csv_is_refused_with_its_reason(store_path, tmp_path):
    """OpenCost's allocation summary CSV has windows (WindowStart, WindowEnd), not days."""
    summary = write_csv_rows(
        tmp_path / "summary.csv",
        ["Name", "Namespace", "Cluster", "WindowStart", "WindowEnd", "CPUCost", "RAMCost", "TotalCost"],
        [["cluster-one/kube-system", "kube-system", "cluster-one", "2024-01-01T00:00:00Z",
          "2024-01-08T00:00:00Z", "1.5", "0.5", "2"]])
    with pytest.raises(IngestError) as exc:
        ingest([summary], store_path)
    [p] = exc.value.problems
    assert "allocation summary" in p.message and "Date" in p.message
