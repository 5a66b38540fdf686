"""What a new user trips on: each defect found by following the README on a fresh copy, reproduced.

Expected values come from the store's own rows or from the arguments given, never from the code
under test.
"""

from __future__ import annotations

import os
from datetime import date
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from finops_xl.cli import main
from finops_xl.sample.generator import SampleSpec
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import copy_store, refusal, sample_store

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return sample_store(tmp_path_factory.mktemp("new-user"), SampleSpec(rows=8_000, months=3, seed=5))


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---- 1. an unknown filter value is an error with the closest valid values -------------------------


def test_forecast_for_an_unknown_owner_is_an_error_naming_the_closest(store, capsys):
    with CostStore(store).reader() as con:
        owners = [o for (o,) in con.execute("SELECT DISTINCT owner FROM allocated_charges ORDER BY 1").fetchall()]
    real = next(o for o in owners if len(o) > 3 and not o.startswith("("))
    code, out, err = _run(capsys, "forecast", "--store", str(store), "--owner", real[:-1])
    assert code != 0 and out == ""
    assert f"did you mean {real!r}" in err and "owner" in err


def test_forecast_for_a_misspelt_service_category_is_an_error(store, capsys):
    code, out, err = _run(capsys, "forecast", "--store", str(store), "--service-category", "Compte")
    assert code != 0 and out == ""
    assert "did you mean 'Compute'" in err


def test_forecast_for_a_value_nothing_resembles_lists_valid_values(store, capsys):
    code, _, err = _run(capsys, "forecast", "--store", str(store), "--owner", "nobody")
    assert code != 0 and "owner 'nobody'" in err and "values include" in err


# ---- 2. opportunities report --month -----------------------------------------------------------------


def test_opportunities_report_takes_month_after_the_action(store, capsys):
    code, out, err = _run(capsys, "opportunities", "report", "--month", "2025-03", "--store", str(store))
    assert code == 0, err
    assert "invalid int value" not in err


# ---- 3. workbook overview --by owner ------------------------------------------------------------------


def test_overview_by_owner_builds_without_a_provider_error(store, tmp_path, capsys):
    out_file = tmp_path / "overview.xlsx"
    code, _, err = _run(capsys, "workbook", "overview", "--store", str(store), "--month", "2025-03",
                        "--by", "owner", "--out", str(out_file))
    assert code == 0, err
    wb = load_workbook(out_file)
    data = wb["Data"]
    header = [c.value for c in next(data.iter_rows(max_row=1))]
    assert "owner" in header
    with CostStore(store).reader() as con:
        (owners,) = con.execute("SELECT count(DISTINCT owner) FROM allocated_charges "
                                "WHERE month BETWEEN DATE '2025-01-01' AND DATE '2025-03-01'").fetchone()
    values = {row[header.index("owner")] for row in data.iter_rows(min_row=2, values_only=True)}
    assert len(values - {None}) == owners


# ---- 5. a closed pipe is not a traceback ---------------------------------------------------------------


def test_summary_into_a_closed_pipe_prints_no_traceback(store):
    # the reading end is closed before the command writes (as `| head` does once it has its lines)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "udfs"), str(REPO / "workbooks")]))
    proc = subprocess.Popen([sys.executable, "-m", "finops_xl.cli", "summary", "--store", str(store)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_a_closed_pipe_in_process_ends_quietly(store, capsys, monkeypatch):
    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise OSError("no file")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["summary", "--store", str(store)]) == 141  # 128 + SIGPIPE, as a shell reports it


def test_an_unexpected_error_says_what_failed_and_where_to_report(store, capsys, monkeypatch):
    import finops_xl.cli.summary as summary_command

    def boom(args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(summary_command, "_cmd_summary", boom)
    code, _, err = _run(capsys, "summary", "--store", str(store))
    assert code == 2
    assert "Traceback" not in err
    assert "summary" in err and "disk on fire" in err and "report" in err


# ---- 4. a ledger map with a wrong key says the key is wrong, not the kind ----------------------------


def test_ledger_map_with_a_right_kind_and_a_wrong_key_blames_the_key(tmp_path):
    from finops_xl.close.journal import load_ledger_map

    message = refusal(load_ledger_map, tmp_path / "ledger.csv",
                      "kind,key,value\ncost_center,payments,CC-1\ndefault,accrued_liability,2155 Accrued\n")
    assert "line 3" in message and "column key" in message and "'accrued_liability'" in message
    assert "did you mean 'accrued_liabilities'" in message
    assert "kind must be" not in message


def test_ledger_map_without_its_columns_names_them(tmp_path):
    from finops_xl.close.journal import load_ledger_map

    path = tmp_path / "ledger.csv"
    path.write_text("type,key,value\ncost_center,payments,CC-1\n")
    with pytest.raises(ValueError, match="line 1: the header needs the columns kind, key, value; kind missing"):
        load_ledger_map(path)


# ---- 6. the first close of a fully invoiced month says it is final ------------------------------------


def test_first_close_of_a_fully_invoiced_month_says_final(store, capsys, tmp_path):
    with CostStore(store).reader() as con:
        (open_rows,) = con.execute("SELECT count(*) FROM charges WHERE ChargePeriodStart >= DATE '2025-01-01' "
                                   "AND ChargePeriodStart < DATE '2025-02-01' AND InvoiceId IS NULL").fetchone()
    assert open_rows == 0  # the fixture's January is invoiced in full
    copy = tmp_path / "finops-store"
    copy_store(store, copy)
    code, out, err = _run(capsys, "close", "--store", str(copy), "--month", "2025-01")
    assert code == 0, err
    assert "is final" in out and "not final yet" not in out and "day(s) projected" not in out
    from finops_xl.close.accruals import accrual_path

    assert not accrual_path(copy, date(2025, 1, 1)).exists(), "a final month saves no accrual"


# ---- 10. a tag key is always a literal key ------------------------------------------------------------


@pytest.fixture(scope="module")
def tag_store(tmp_path_factory, sample_csv) -> Path:
    """The FOCUS sample with tags whose keys look like JSON paths beside the plain ones."""
    import json

    from tests.conftest import read_csv_rows, write_csv_rows

    header, rows = read_csv_rows(sample_csv)
    t, e = header.index("Tags"), header.index("EffectiveCost")
    out = []
    for i, r in enumerate([r for r in rows if r[e] and float(r[e]) != 0][:60]):
        r = list(r)
        r[t] = json.dumps({"team": f"plain-{i % 2}", "$.team": f"dollar-{i % 3}", "/team": "slash",
                           "$": "just-dollar"})
        out.append(r)
    root = tmp_path_factory.mktemp("tags")
    ingest([write_csv_rows(root / "tags.csv", header, out)], root / "finops-store")
    return root / "finops-store"


@pytest.mark.parametrize("key,expected", [("team", {"plain-0", "plain-1"}),
                                          ("$.team", {"dollar-0", "dollar-1", "dollar-2"}),
                                          ("/team", {"slash"}), ("$", {"just-dollar"})])
def test_a_tag_key_that_looks_like_a_json_path_is_read_literally(tag_store, key, expected):
    import datetime as dt

    from finops_xl.query.costs import CostQueries

    q = CostQueries(CostStore(tag_store))
    table = q.cost_table(dt.date(2000, 1, 1), dt.date(2100, 1, 1), rows=f"tag:{key}")
    assert {r[0] for r in table.rows} == expected
    with CostStore(tag_store).reader() as con:
        (total,) = con.execute("SELECT sum(EffectiveCost) FROM charges").fetchone()
    assert sum(r[1] for r in table.rows) == total


def test_finops_cost_filters_on_a_literal_dollar_key(tag_store):
    from tests.test_udfs_officejs import call, serial

    with CostStore(tag_store).reader() as con:
        (expected,) = con.execute(
            "SELECT sum(EffectiveCost) FROM (SELECT row_number() OVER () - 1 AS i, EffectiveCost, Tags "
            "FROM charges) WHERE json_extract_string(Tags, '$.\"$.team\"') = 'dollar-1'").fetchone()
        (lo, hi) = con.execute("SELECT min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE + 1 "
                               "FROM charges").fetchone()
    got = call("COST", serial(lo), serial(hi), "tag:$.team", "dollar-1", "store", str(tag_store))
    assert expected and got == [[pytest.approx(float(expected), abs=0.005)]]


# ---- 11. an unreadable store path is a one-line reason, never a traceback ------------------------------


@pytest.mark.parametrize("make,fragment", [
    (lambda d: (d / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n") and d / "passwd",
     "is not a finops-xl cost store"),
    (lambda d: d, "(the folder is empty)"),
    (lambda d: (d / "notes.txt").write_text("x") and d, "is a folder that is not a finops-xl cost store"),
])
def test_finops_cost_on_an_unreadable_store_says_why_in_one_line(tmp_path, caplog, make, fragment):
    import xlwings

    from tests.test_udfs_officejs import call

    path = make(tmp_path)
    with caplog.at_level("ERROR", logger="finops_udfs"):
        with pytest.raises(xlwings.XlwingsError) as err:
            call("COST", 45658, 45689, "store", str(path))
    assert fragment in str(err.value) and "\n" not in str(err.value)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_the_cli_on_an_unreadable_store_says_why(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a store\n")
    code, out, err = _run(capsys, "summary", "--store", str(tmp_path / "notes.txt"))
    assert code == 1 and "is not a finops-xl cost store" in err and "Traceback" not in err


# ---- 7. the forecast method is chosen by the backtest -----------------------------------------------


def _mapes(out: str) -> dict[str, float]:
    line = next(l for l in out.splitlines() if l.startswith("backtest (one month ahead)"))
    found = {}
    for part in line.split(": ", 1)[1].split("; "):
        method, _, rest = part.partition(" MAPE ")
        found[method] = float(rest.split("%")[0])
    return found


@pytest.fixture(scope="module")
def long_store(tmp_path_factory) -> Path:
    return sample_store(tmp_path_factory.mktemp("long-history"), SampleSpec(rows=12_000, months=8, seed=7),
                        allocated=False)


def test_forecast_uses_the_method_the_backtest_scores_best(long_store, capsys):
    code, out, err = _run(capsys, "forecast", "--store", str(long_store))
    assert code == 0, err
    mapes = _mapes(out)
    best = min(mapes, key=mapes.get)
    assert f"method {best}: chosen by backtest: lowest one-month-ahead MAPE" in out, out


def test_a_forced_method_the_backtest_beats_gets_a_note(long_store, capsys):
    _, out, _ = _run(capsys, "forecast", "--store", str(long_store))
    mapes = _mapes(out)
    worst = max(mapes, key=mapes.get)
    best = min(mapes, key=mapes.get)
    code, out, _ = _run(capsys, "forecast", "--store", str(long_store), "--method", worst)
    assert code == 0
    assert f"method {worst}: chosen by the user (the backtest picks {best})" in out


# ---- 8. open savings: one definition, everywhere -------------------------------------------------------


def test_the_cli_counts_open_savings_as_the_ledger_defines_them(store, tmp_path, capsys):
    from decimal import Decimal

    from finops_xl.optimization.demo import demo_ledger

    copy = tmp_path / "finops-store"
    copy_store(store, copy)
    demo_ledger(CostStore(copy), tmp_path / "utilization.csv", date(2025, 3, 1), 3)
    with CostStore(copy).reader() as con:  # straight from the ledger table
        (expected,) = con.execute("SELECT sum(estimated_savings) FROM opportunities WHERE status IN "
                                  "('identified', 'approved') AND month = DATE '2025-03-01'").fetchone()
    code, out, err = _run(capsys, "opportunities", "--store", str(copy), "--month", "2025-03", "--no-record",
                          "--utilization", str(tmp_path / "utilization.csv"))
    assert code == 0, err
    line = next(l for l in out.splitlines() if l.startswith("open savings"))
    assert Decimal(line.split(": ")[1].split(" ")[0].replace(",", "")) == expected


# ---- 9. sample --as-of: an export as delivered mid-month, for the README's close example ---------------


def test_sample_as_of_writes_the_delivery_of_that_day(tmp_path, capsys):
    import duckdb

    full, cut = tmp_path / "full", tmp_path / "cut"
    assert main(["sample", "--rows", "3000", "--months", "2", "--out", str(full)]) == 0
    assert main(["sample", "--rows", "3000", "--months", "2", "--as-of", "2025-02-20", "--out", str(cut)]) == 0
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")

    def facts(folder):
        return con.execute(
            f"SELECT count(*) FILTER (WHERE ChargePeriodStart >= TIMESTAMP '2025-02-20'), "
            f"count(*) FILTER (WHERE ChargePeriodStart < TIMESTAMP '2025-02-20'), "
            f"count(*) FILTER (WHERE BillingPeriodStart >= TIMESTAMP '2025-02-01' AND InvoiceId IS NOT NULL), "
            f"count(*) FILTER (WHERE BillingPeriodStart < TIMESTAMP '2025-02-01' AND InvoiceId IS NULL) "
            f"FROM read_parquet('{folder}/*.parquet')").fetchone()

    late, early, invoiced_feb, open_jan = facts(cut)
    assert (late, invoiced_feb, open_jan) == (0, 0, 0)
    assert early == facts(full)[1]  # every charge before the day is delivered, unchanged in number
    assert "as delivered on 2025-02-20" in capsys.readouterr().out
