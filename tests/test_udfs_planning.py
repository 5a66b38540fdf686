"""The planning functions through the Office.js call path."""

from __future__ import annotations

import datetime as dt

import pytest
import xlwings

from tests.test_udfs_officejs import call, serial


def months(n: int, start=dt.date(2022, 1, 1)) -> list[list[int]]:
    out, y, m = [], start.year, start.month
    for _ in range(n):
        out.append([serial(dt.date(y, m, 1))])
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_forecast_spills_month_forecast_low_high():
    values = [[100 * 1.03 ** i] for i in range(6)]  # 3% a month, no seasonality to learn yet
    table = call("FORECAST", values, months(6), 3)
    assert table[0] == ["month", "forecast", "low", "high"] and len(table) == 4
    for _, f, low, high in table[1:]:
        assert low <= f <= high
    assert table[1][1] == pytest.approx(100 * 1.03 ** 6, rel=0.02)


def test_short_history_falls_back_to_a_run_rate():
    table = call("FORECAST", [[250]], months(1), 2)
    assert [r[1] for r in table[1:]] == [250.0, 250.0]


def test_backtest_reports_mape_and_band():
    import math

    values = [[1000 * 1.02 ** i * (1 + 0.1 * math.sin(2 * math.pi * i / 12))] for i in range(36)]
    table = call("BACKTEST", values, months(36), 1, 24)
    assert table[0] == ["method", "mape", "bias", "band", "scored"]
    scores = {r[0]: r for r in table[1:]}
    assert scores["ets"][1] < scores["seasonal_naive"][1]


def test_unit_cost_and_driver_forecast_hand_derived():
    # 1500 + 1650 + 1800 = 4950 over 10 + 11 + 12 = 33 heads → $150 a head
    assert call("UNIT_COST", [[1500], [1650], [1800]], [[10], [11], [12]]) == [[150.0]]
    # 10/11/12 heads × $150 × (1 − 0.6 × 0.3 = 0.82) → 1230 / 1353 / 1476
    assert call("DRIVER_FORECAST", [[10], [11], [12]], 150, 0.6, 0.3) == [[1230.0], [1353.0], [1476.0]]
    assert call("DRIVER_FORECAST", [[10, 11, 12]], 150) == [[1500.0, 1650.0, 1800.0]]
    with pytest.raises(xlwings.XlwingsError, match="add up to 0"):
        call("UNIT_COST", [[1], [2]], [[0], [0]])
