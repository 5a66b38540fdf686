"""Driver plans and unit costs from the CSV files analysts supply (``finops-xl workbook budget
--drivers … --unit-costs …``), read with :func:`finops_xl.inputs.csv_rows`.

- drivers: ``owner, driver, unit, month (YYYY-MM), volume`` — one row per driver and month;
- unit costs: ``owner, driver, cost_per_unit``.

Problems are raised as :class:`DriverInputError`, naming file, data row and column.
"""

from __future__ import annotations

from pathlib import Path

from finops_xl.inputs import InputError, csv_rows
from finops_xl.planning.driver_model import Driver, UnitCost
from finops_xl.planning.fiscal import as_month
from finops_xl.store.errors import Problem

DRIVER_COLUMNS = ("owner", "driver", "unit", "month", "volume")
UNIT_COST_COLUMNS = ("owner", "driver", "cost_per_unit")


class DriverInputError(InputError):
    """A drivers or unit-costs CSV that cannot be used."""

    what = "the driver inputs"


def read_drivers_csv(path: str | Path) -> tuple[Driver, ...]:
    """Driver plans from a CSV with columns owner, driver, unit, month (YYYY-MM), volume."""
    plans: dict[tuple[str, str], tuple[str, dict]] = {}
    for i, row in _rows(path, DRIVER_COLUMNS):
        key = (row["owner"], row["driver"])
        _, volumes = plans.setdefault(key, (row["unit"], {}))
        month = as_month(row["month"])
        if month in volumes:
            raise DriverInputError([Problem(str(path), f"{key[0]}/{key[1]} has two volumes for {month:%Y-%m}",
                                            row=i, column="month")])
        volumes[month] = row["volume"]
    return tuple(Driver(name, unit, tuple(vols.items()), owner=owner or None)
                 for (owner, name), (unit, vols) in plans.items())


def read_unit_costs_csv(path: str | Path) -> tuple[UnitCost, ...]:
    """Unit costs from a CSV with columns owner, driver, cost_per_unit."""
    return tuple(UnitCost(r["owner"], r["driver"], r["cost_per_unit"])
                 for _, r in _rows(path, UNIT_COST_COLUMNS))


def _rows(path, columns) -> list[tuple[int, dict[str, str]]]:
    rows = list(csv_rows(path, columns, (), DriverInputError))
    if not rows:
        raise DriverInputError([Problem(str(path), "no rows")])
    return rows
