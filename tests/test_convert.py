"""Boundary conversions. Reference serials from Microsoft's "Date systems in Excel" documentation:
1900 date system, serial 1 = 1900-01-01; 60 is the nonexistent 1900-02-29 (kept for Lotus 1-2-3
compatibility); 2958465 = 9999-12-31; DATE(2025,1,1) = 45658."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from finops_udfs.convert import ArgumentError, is_empty, pairs, table, to_date, to_text, to_values


@pytest.mark.parametrize("serial,date", [
    (1, dt.date(1900, 1, 1)), (59, dt.date(1900, 2, 28)), (61, dt.date(1900, 3, 1)),
    (45658, dt.date(2025, 1, 1)), (45658.75, dt.date(2025, 1, 1)), (2958465, dt.date(9999, 12, 31)),
])
def test_excel_serials(serial, date):
    assert to_date(serial, "start") == date
    assert to_date([[serial]], "start") == date


@pytest.mark.parametrize("bad,fragment", [
    (60, "does not exist"), (0, "is empty"), (None, "is empty"), (-1, "not a valid Excel date"),
    (2958466, "not a valid Excel date"), (True, "not TRUE/FALSE"), ("31/01/2025", "is not a date"),
    ([[45658, 45659]], "not a range of 2 cells"),
])
def test_bad_dates(bad, fragment):
    with pytest.raises(ArgumentError, match=fragment):
        to_date(bad, "start")


def test_dates_from_cells_and_text():
    assert to_date(dt.datetime(2025, 3, 4, 15, 0), "d") == dt.date(2025, 3, 4)
    assert to_date("2025-03-04", "d") == dt.date(2025, 3, 4)


def test_empty_cells_in_both_runtimes():
    assert all(is_empty(v) for v in (None, "", "  ", 0, 0.0, [[0, None]]))
    assert not any(is_empty(v) for v in ("x", 1, False, [["x"]]))
    assert to_text(0, "metric", optional=True) is None
    assert to_text(2025.0, "x") == "2025"


def test_pairs_from_arguments_and_two_column_ranges():
    assert pairs(["provider", "AWS", "BilledCost"]) == ([("provider", "AWS")], "BilledCost")
    got, rest = pairs([[["provider", "AWS"], ["region", "us-east-1"]], 0, None])
    assert got == [("provider", "AWS"), ("region", "us-east-1")] and rest is None
    assert to_values([["AWS"], [0], ["Microsoft"]]) == ["AWS", "Microsoft"]


def test_tables_turn_decimal_into_numbers_and_none_into_blank():
    assert table(("a", "b"), [("x", Decimal("1.25")), ("y", None)]) == [["a", "b"], ["x", 1.25], ["y", ""]]
