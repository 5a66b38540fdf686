"""Forecasts: methods, short-history fallback, intervals, backtest against the naive baseline, and
monthly history read from the store."""

from __future__ import annotations

import datetime
import itertools
import math
from decimal import Decimal

import pytest

from finops_xl.planning.backtest import backtest, finops_band
from finops_xl.planning.forecast import (
    NO_HISTORY_NOTE,
    add_months,
    forecast,
    monthly_history,
)

START = datetime.date(2022, 1, 1)


def series(months: int, growth: float = 0.03, season: float = 0.15, noise: float = 0.02):
    """Known truth: 3%/month growth × yearly seasonality (±15%) × deterministic noise (±2%, a fixed
    repeating pattern, not random)."""
    pattern = (-1.0, 0.5, 0.0, 1.0, -0.5)
    return [(add_months(START, i),
             Decimal(repr(round(10_000 * (1 + growth) ** i
                                * (1 + season * math.sin(2 * math.pi * i / 12))
                                * (1 + noise * pattern[i % 5]), 2))))
            for i in range(months)]


def test_ets_backtest_beats_seasonal_naive_on_seasonal_growth():
    result = backtest(series(42), methods=("ets", "seasonal_naive"), horizon=1, min_train=24)
    ets, naive = result.scores
    assert ets.methods_used == (("ets", 18),)
    assert ets.scored == naive.scored == 18
    assert ets.mape < naive.mape
    assert ets.mape < Decimal("0.05") and ets.band == "run"
    # seasonal naive lags a year of 3%/month growth: forecasts ≈ 1.03**-12 − 1 ≈ −30% of actual
    assert naive.bias == pytest.approx(Decimal(1.03 ** -12 - 1), abs=Decimal("0.01"))
    assert naive.band == "above crawl"
    assert result.best == "ets"


@pytest.mark.parametrize(("mape", "band"), [
    ("0", "run"), ("0.12", "run"), ("0.1201", "walk"), ("0.15", "walk"), ("0.20", "crawl"),
    ("0.21", "above crawl")])
def test_finops_bands_glossary_thresholds(mape, band):
    # GLOSSARY "Forecasting": ≤ 20% crawl, ≤ 15% walk, ≤ 12% run
    assert finops_band(Decimal(mape)) == band


def test_pure_trend_forecast_close_to_truth():
    history = series(24, season=0.0, noise=0.001)
    f = forecast(history, 6, "ets")
    assert f.method_used == "ets" and f.model == "ETS(A,A,A) m=12"
    for k, row in enumerate(f.rows):
        truth = 10_000 * 1.03 ** (24 + k)
        assert row.month == add_months(START, 24 + k)
        assert abs(float(row.forecast) / truth - 1) < 0.01


@pytest.mark.parametrize("method", ["ets", "seasonal_naive", "run_rate"])
def test_intervals_contain_forecast_and_widen(method):
    # 13 months: seasonal naive widens once per whole season ahead (FPP3 Table 5.2)
    f = forecast(series(36), 13, method, interval=0.80)
    assert f.method_used == method and len(f.rows) == 13
    for row in f.rows:
        assert row.low <= row.forecast <= row.high
        assert row.low >= 0
    widths = [r.high - r.low for r in f.rows]
    assert widths[-1] > widths[0]
    assert all(b >= a for a, b in itertools.pairwise(widths)) or method == "ets"


def test_wider_coverage_gives_wider_interval():
    h = series(36)
    narrow = forecast(h, 3, "ets", interval=0.50).rows[-1]
    wide = forecast(h, 3, "ets", interval=0.95).rows[-1]
    assert wide.high - wide.low > narrow.high - narrow.low


@pytest.mark.parametrize("method", ["ets", "seasonal_naive", "run_rate"])
def test_no_history_gives_zero_run_rate_with_note(method):
    f = forecast([], 3, method, start=datetime.date(2026, 1, 1))
    assert f.method_used == "run_rate" and f.note == NO_HISTORY_NOTE
    assert [r.month for r in f.rows] == [datetime.date(2026, m, 1) for m in (1, 2, 3)]
    assert all(r.forecast == r.low == r.high == 0 for r in f.rows)


@pytest.mark.parametrize("months", [1, 2])
@pytest.mark.parametrize("method", ["ets", "seasonal_naive"])
def test_short_history_falls_back_to_run_rate(months, method):
    history = series(months)
    f = forecast(history, 3, method)
    assert f.method_used == "run_rate" and f.method_requested == method
    assert f.note.startswith(f"short history ({months} month")
    assert "run rate" in f.note
    last = history[-1][1]
    assert [r.forecast for r in f.rows] == [last.quantize(Decimal("0.01"))] * 3
    assert f.rows[0].month == add_months(history[-1][0], 1)


def test_seasonal_naive_repeats_last_season_and_ets_short_is_not_seasonal():
    history = series(18)
    f = forecast(history, 14, "seasonal_naive")
    assert [r.forecast for r in f.rows[:12]] == [v for _, v in history[6:18]]
    assert f.rows[12].forecast == history[6][1]
    g = forecast(history, 3, "ets")
    assert g.model == "ETS(A,A,N)" and "less than two full seasons" in g.note


def test_negative_forecast_clamped_to_zero():
    # a service winding down to nothing: 1000, 750, 500, 250, 0 (a zero month → fitted on cost)
    falling = [(add_months(START, i), Decimal(1000 - 250 * i)) for i in range(5)]
    f = forecast(falling, 6, "ets")
    assert all(r.forecast >= 0 and r.low >= 0 for r in f.rows)
    assert f.rows[-1].forecast == 0 and "clamped to 0" in f.note


@pytest.mark.parametrize(("history", "message"), [
    ([(datetime.date(2025, 1, 15), Decimal(1))], "first-of-month"),
    ([(datetime.date(2025, 1, 1), Decimal(1)), (datetime.date(2025, 3, 1), Decimal(1))], "consecutive"),
])
def test_bad_history_names_the_problem(history, message):
    with pytest.raises(ValueError, match=message):
        forecast(history, 1)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest
    from finops_xl.store.store import CostStore

    root = tmp_path_factory.mktemp("forecast-store")
    generate(SampleSpec(rows=20_000, months=6, seed=1), root / "exports")
    store = CostStore(root / "store.duckdb")
    ingest([root / "exports"], store)
    return store


def _independent(con, where: str = "TRUE"):
    # straight from the charge rows, not the cost_daily cube monthly_history reads
    return [(m, Decimal(c)) for m, c in con.execute(
        "SELECT CAST(date_trunc('month', ChargePeriodStart) AS DATE), sum(EffectiveCost) "
        f"FROM charges WHERE {where} GROUP BY 1 ORDER BY 1").fetchall()]


def test_monthly_history_equals_sql_sum_per_month(store):
    with store.reader() as con:
        got = monthly_history(con)
        expected = _independent(con)
        assert len(got) == 6 and got == expected
        assert got[0][0] == datetime.date(2025, 1, 1)
        (cat,) = con.execute("SELECT ServiceCategory FROM charges GROUP BY 1 ORDER BY count(*) DESC "
                             "LIMIT 1").fetchone()
        assert monthly_history(con, service_category=cat) == _independent(
            con, f"ServiceCategory = '{cat}'")
        with pytest.raises(ValueError, match="no allocation"):
            monthly_history(con, owner="team-a")
    f = forecast(got, 3, "ets")
    assert f.method_used == "ets" and len(f.rows) == 3
