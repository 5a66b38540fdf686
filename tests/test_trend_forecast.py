"""The trend forecast knows its limits: method by backtest, one-off spikes, the horizon, accuracy by month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from finops_xl.cli import main
from finops_xl.planning.forecast import forecast, monthly_history
from finops_xl.planning.trend import detect_spikes, horizon_warning, trend_forecast
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore


def _months(values, start=dt.date(2025, 1, 1)):
    out = []
    for i, v in enumerate(values):
        y, m = divmod(start.month - 1 + i, 12)
        out.append((dt.date(start.year + y, m + 1, 1), D(v)))
    return out


def test_a_known_spike_is_detected_shown_and_excluded_or_damped_by_choice():
    h = _months([100, 102, 104, 250, 108, 110, 112, 114])  # April: a one-off GPU burst
    (s,) = detect_spikes(h)
    assert s.month == dt.date(2025, 4, 1) and s.baseline == D(106) and s.excess == D(144)
    assert s.used == D(106)
    assert detect_spikes(h, mode="damp")[0].used == D(106) + D(144) / 2
    assert detect_spikes(h, mode="keep")[0].used == D(250)
    excluded = trend_forecast(h, 3, method="run_rate")
    assert excluded.spikes == (s,) and any("2025-04" in w and "excluded" in w for w in excluded.warnings)
    kept = trend_forecast(h, 3, method="ets", spikes="keep")
    clean = trend_forecast(h, 3, method="ets", spikes="exclude")
    # the spike kept inflates the trend; excluded, the forecast stays near the 2-a-month line (116, 118, 120)
    assert all(abs(r.forecast - D(116 + 2 * i)) < 3 for i, r in enumerate(clean.result.rows))
    assert kept.result.rows[-1].forecast > clean.result.rows[-1].forecast
    assert any("kept in the fit" in w for w in kept.warnings)


def test_a_jump_in_the_last_month_is_not_called_a_spike():
    assert detect_spikes(_months([100, 100, 100, 300])) == ()
    assert detect_spikes(_months([100, 125, 100])) != ()  # 25% above both neighbours
    assert detect_spikes(_months([100, 115, 100])) == ()  # 15%: under the 20% threshold


def test_horizon_beyond_the_history_warns_and_far_beyond_is_refused():
    h = _months([100, 101, 103, 104, 106, 107])
    assert horizon_warning(6, 6) is None and "longer than the history" in horizon_warning(6, 12)
    assert trend_forecast(h, 6).warnings == ()
    assert any("longer than the history" in w for w in trend_forecast(h, 12).warnings)
    with pytest.raises(ValueError, match=r"36 months ahead from 6 months.*--months 12.*--long-horizon"):
        trend_forecast(h, 36)
    long = trend_forecast(h, 36, allow_long=True)
    assert len(long.result.rows) == 36 and any("scenario" in w for w in long.warnings)


def test_accuracy_month_by_month_against_the_actuals():
    h = _months([100, 110, 120, 150, 140, 160])
    t = trend_forecast(h, 1, method="run_rate", spikes="keep")
    # run rate: next month = the last month. Months after the first max(3, 6 // 2) = 3 are scored.
    assert [(a.month.month, a.forecast, a.actual) for a in t.accuracy] == [
        (4, D(120), D(150)), (5, D(150), D(140)), (6, D(140), D(160))]
    # FinOps Framework forecast-variance targets (GLOSSARY): ≤ 12% run, ≤ 15% walk, ≤ 20% crawl
    assert t.accuracy[0].error == (D(120) - D(150)) / D(150) and t.accuracy[0].band == "crawl"  # −20%
    assert t.accuracy[1].band == "run"  # (150 − 140) / 140 = 7.1%
    assert t.accuracy[2].error == (D(140) - D(160)) / D(160) and t.accuracy[2].band == "walk"  # −12.5%


def _mape(history, method, first):
    errors = []
    for k in range(first, len(history)):
        (row,) = forecast(history[:k], 1, method).rows
        errors.append(abs(row.forecast - history[k][1]) / history[k][1])
    return sum(errors) / len(errors)


@pytest.fixture(scope="module")
def six_months(tmp_path_factory):
    from finops_xl.sample.generator import SampleSpec, generate

    out = tmp_path_factory.mktemp("trend")
    generate(SampleSpec(rows=12_000, months=6, seed=42), out / "x")
    ingest([out / "x"], out / "s.duckdb")
    return out / "s.duckdb"


def test_the_demo_forecast_picks_the_method_that_backtests_better(six_months):
    with CostStore(six_months).reader() as con:
        history = monthly_history(con)
    assert len(history) == 6
    for spikes in ("keep", "exclude"):
        t = trend_forecast(history, 6, spikes=spikes)
        fitted = [(m, s.used if (s := next((x for x in t.spikes if x.month == m), None)) else v) for m, v in history]
        mapes = {m: _mape(fitted, m, 3) for m in ("ets", "run_rate", "seasonal_naive")}
        best = min(mapes.values())
        assert mapes[t.method] == best and t.chosen_by.startswith("chosen by backtest")
        assert t.result.method_requested == t.method


def test_cli_forecast_refuses_36_months_from_6_and_warns_at_12(six_months, capsys):
    assert main(["forecast", "--store", str(six_months), "--months", "36"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--months 12" in err and "Traceback" not in err
    assert main(["forecast", "--store", str(six_months), "--months", "12"]) == 0
    out = capsys.readouterr().out
    assert "warning: the horizon (12 months) is longer than the history (6 months)" in out
    assert "accuracy of" in out and "chosen by backtest" in out
    assert main(["forecast", "--store", str(six_months), "--months", "36", "--long-horizon"]) == 0


def test_a_month_without_cost_breaks_the_series():
    h = _months([15, 0, 0, 100, 102, 104, 106, 108, 110])  # an old trial month, then a gap, then the real run
    t = trend_forecast(h, 3)
    assert any("up to 2025-03" in w and "starts again in 2025-04" in w for w in t.warnings)
    assert t.accuracy[0].month == dt.date(2025, 7, 1)  # 6 months from April: the first max(3, 3) = 3 trained on
