"""The command line, as a user runs it (``finops-xl ...`` through ``cli.main``)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from finops_xl.cli import main
from finops_xl.store import location
from finops_xl.store.store import CostStore
from tests.conftest import read_csv_rows


def test_ingest_then_summary_csv_matches_the_file(sample_csv, store_path, capsys):
    assert main(["ingest", "--quiet", "--store", str(store_path), str(sample_csv)]) == 0
    out = capsys.readouterr().out
    assert "loaded 1,000 rows from 1 file(s)" in out
    assert "slices: 4 new, 0 replaced" in out
    assert "ChargeFrequency 'Usage-based' -> 'Usage-Based' (7 rows" in out

    assert main(["summary", "--store", str(store_path), "--format", "csv"]) == 0
    got = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    header, rows = read_csv_rows(sample_csv)
    p, bp, b, e = (header.index(c) for c in ("ProviderName", "BillingPeriodStart", "BilledCost", "EffectiveCost"))
    expected: dict = {}
    for r in rows:
        key = (r[p], r[bp][:7])
        acc = expected.setdefault(key, [Decimal(0), Decimal(0), 0])
        acc[0] += Decimal(r[b])
        acc[1] += Decimal(r[e])
        acc[2] += 1
    assert {(g["ProviderName"], g["BillingPeriod"]): [Decimal(g["BilledCost"]), Decimal(g["EffectiveCost"]), int(g["Rows"])]
            for g in got} == expected


def test_reingest_says_unchanged(sample_csv, store_path, capsys):
    main(["ingest", "--quiet", "--store", str(store_path), str(sample_csv)])
    capsys.readouterr()
    assert main(["ingest", "--quiet", "--store", str(store_path), str(sample_csv)]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_summary_table_rounds_half_even_for_display(sample_csv, store_path, capsys):
    main(["ingest", "--quiet", "--store", str(store_path), str(sample_csv)])
    capsys.readouterr()
    assert main(["summary", "--store", str(store_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Provider", "Month", "Cur", "Rows", "BilledCost", "EffectiveCost"]
    assert any(line.split()[:4] == ["AWS", "2024-09", "USD", "942"] for line in lines)


def test_bad_input_exits_1_with_the_message_on_stderr(tmp_path, store_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    assert main(["ingest", "--store", str(store_path), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.csv: file is empty" in err
    assert "Traceback" not in err


def test_summary_without_a_store_says_what_to_do(tmp_path, capsys):
    assert main(["summary", "--store", str(tmp_path / "none.duckdb")]) == 1
    assert "finops-xl ingest" in capsys.readouterr().err


def test_validate_partial_reports_ok(capsys):
    from tests.conftest import SPEC_EXAMPLES

    f = SPEC_EXAMPLES / "commitment_discount_scenarios" / "commitment_discount_usage_scenario_3.csv"
    assert main(["validate", "--partial", str(f)]) == 0
    assert "ok  " in capsys.readouterr().out


def test_store_location_order(tmp_path, monkeypatch):
    monkeypatch.delenv(location.ENV_VAR, raising=False)
    assert location.resolve_store_path() == location.default_store_path().absolute()
    assert location.default_store_path().name == "finops-store"
    monkeypatch.setenv(location.ENV_VAR, str(tmp_path / "env.duckdb"))
    assert location.resolve_store_path() == tmp_path / "env.duckdb"
    assert location.resolve_store_path(tmp_path / "x.duckdb") == tmp_path / "x.duckdb"


def test_env_var_store_is_used_by_commands(sample_csv, tmp_path, monkeypatch, capsys):
    target = tmp_path / "from-env.duckdb"
    monkeypatch.setenv(location.ENV_VAR, str(target))
    assert main(["ingest", "--quiet", str(sample_csv)]) == 0
    assert (target / "_finops_store.json").is_file() and CostStore(target).head().commit == 1


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sample", "--out", "x", "--start", "2025/01"])
    assert exc.value.code == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_forecast_command(tmp_path, capsys):
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest

    generate(SampleSpec(rows=12_000, months=6, seed=2), tmp_path / "x")
    store = tmp_path / "s.duckdb"
    ingest([tmp_path / "x"], store)
    assert main(["forecast", "--store", str(store), "--months", "2"]) == 0
    out = capsys.readouterr().out
    assert "history: 6 month(s)" in out and "2025-07" in out and "2025-08" in out
    assert "backtest (one month ahead)" in out
