"""The records of a driver-based forecast (``drivers.py``): drivers, unit costs, events, price changes, the
commitment strategy, scenarios, and the forecast's own row. Each input record checks its values when made.

Pure Python (no DuckDB) so the Excel functions run in xlwings Lite.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from finops_xl.planning.fiscal import CALENDAR_YEAR, FiscalCalendar, as_month

ZERO = Decimal(0)
ONE = Decimal(1)
#: Service category of budget rows whose unit cost or event names none.
DEFAULT_CATEGORY = "Other"


def to_decimal(value, what: str) -> Decimal:
    """``value`` as a finite ``Decimal``; floats via their shortest repr; ``what`` names the argument."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number, not {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        d = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return d


def _ym(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


# ---- records ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Driver:
    """A business plan of driver volumes by month.

    Attributes:
      name: e.g. ``headcount``, ``MAU``, ``transactions``, ``TB stored``.
      unit: the volume's unit (``people``, ``users``, ``TB``).
      volumes: ``(month, volume)`` pairs in month order (a Mapping is accepted); volumes ≥ 0.
      owner: the team whose plan this is, or None for a plan every owner shares.
    """

    name: str
    unit: str
    volumes: tuple[tuple[dt.date, Decimal], ...]
    owner: str | None = None

    def __post_init__(self):
        items = self.volumes.items() if isinstance(self.volumes, Mapping) else self.volumes
        vols: dict[dt.date, Decimal] = {}
        for m, v in items:
            month = as_month(m)
            d = to_decimal(v, f"volume of driver {self.name!r} in {_ym(month)}")
            if d < 0:
                raise ValueError(f"volume of driver {self.name!r} in {_ym(month)} is negative ({d})")
            if month in vols:
                raise ValueError(f"driver {self.name!r} has two volumes for {_ym(month)}")
            vols[month] = d
        object.__setattr__(self, "volumes", tuple(sorted(vols.items())))

    def volume(self, month: dt.date | str) -> Decimal:
        """The planned volume of ``month``; ValueError naming driver and month when it has none."""
        m = as_month(month)
        for k, v in self.volumes:
            if k == m:
                return v
        who = f" of {self.owner!r}" if self.owner else ""
        raise ValueError(f"driver {self.name!r}{who} has no volume for {_ym(m)}")


@dataclasses.dataclass(frozen=True)
class UnitCost:
    """What one unit of a driver costs an owner.

    Attributes:
      owner: the team (cost owner).  driver: the ``Driver.name`` it multiplies.
      cost_per_unit: money per unit per month.
      since: first month it applies (None = from the beginning); a later ``since`` for the same
        owner × driver replaces it from then on.
      service_category: FOCUS ServiceCategory for budget rows (None = ``DEFAULT_CATEGORY``).
      source: where it came from (e.g. the history window of ``unit_costs_from_history``).
    """

    owner: str
    driver: str
    cost_per_unit: Decimal
    since: dt.date | None = None
    service_category: str | None = None
    source: str = ""

    def __post_init__(self):
        object.__setattr__(self, "cost_per_unit",
                           to_decimal(self.cost_per_unit, f"cost_per_unit of {self.owner}/{self.driver}"))
        if self.since is not None:
            object.__setattr__(self, "since", as_month(self.since))


@dataclasses.dataclass(frozen=True)
class Event:
    """A roadmap event, applied from ``month`` on.

    Attributes:
      name: e.g. ``launch EU region``; event-amount rows carry it as their ``driver``.
      month: the first month it applies.
      kind: ``"step"`` (full effect at once) or ``"ramp"`` (linear over ``ramp_months``).
      amount: money per month added (a launch, positive) or removed (a decommission, negative); or
      factor: a multiplier on the unit cost (a migration; 0.8 = 20% cheaper). Exactly one of the two.
      ramp_months: months to reach the full effect (ramp only; ≥ 1).
      owner: the owner it concerns (required for an amount; None = every owner for a factor).
      driver: for a factor, the driver it concerns (None = every driver).
      service_category: for an amount, its budget category (None = ``DEFAULT_CATEGORY``).
    """

    name: str
    month: dt.date
    kind: str = "step"
    amount: Decimal | None = None
    factor: Decimal | None = None
    ramp_months: int = 1
    owner: str | None = None
    driver: str | None = None
    service_category: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "month", as_month(self.month))
        if self.kind not in ("step", "ramp"):
            raise ValueError(f"event {self.name!r}: kind must be 'step' or 'ramp', not {self.kind!r}")
        if (self.amount is None) == (self.factor is None):
            raise ValueError(f"event {self.name!r}: give exactly one of amount or factor")
        if self.amount is not None:
            object.__setattr__(self, "amount", to_decimal(self.amount, f"amount of event {self.name!r}"))
            if self.owner is None:
                raise ValueError(f"event {self.name!r}: an amount needs the owner it is charged to")
        else:
            object.__setattr__(self, "factor", to_decimal(self.factor, f"factor of event {self.name!r}"))
            if self.factor < 0:
                raise ValueError(f"event {self.name!r}: factor must be ≥ 0, not {self.factor}")
        if isinstance(self.ramp_months, bool) or not isinstance(self.ramp_months, int) \
                or self.ramp_months < 1:
            raise ValueError(f"event {self.name!r}: ramp_months must be a whole number ≥ 1")

    def share(self, month: dt.date) -> Decimal:
        """Share of the full effect in ``month``: 0 before ``month``, min(k, n) ÷ n in its k-th month."""
        k = (month.year - self.month.year) * 12 + month.month - self.month.month + 1
        if k < 1:
            return ZERO
        if self.kind == "step":
            return ONE
        return Decimal(min(k, self.ramp_months)) / Decimal(self.ramp_months)

    def matches(self, owner: str, driver: str) -> bool:
        return (self.owner is None or self.owner == owner) and (self.driver is None or self.driver == driver)


@dataclasses.dataclass(frozen=True)
class PriceChange:
    """A price change: unit costs × ``factor`` from ``from_month`` on (1.05 = a 5% increase).

    Attributes:
      from_month: first month it applies.  factor: multiplier (> 0).
      owner, driver: what it concerns (None = all).
    """

    from_month: dt.date
    factor: Decimal
    owner: str | None = None
    driver: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "from_month", as_month(self.from_month))
        object.__setattr__(self, "factor", to_decimal(self.factor, "factor of a price change"))
        if self.factor <= 0:
            raise ValueError(f"price change factor must be > 0, not {self.factor}")

    def matches(self, owner: str, driver: str) -> bool:
        return (self.owner is None or self.owner == owner) and (self.driver is None or self.driver == driver)


@dataclasses.dataclass(frozen=True)
class CommitmentStrategy:
    """Commitment coverage target and discount by fiscal year: ``net = gross × (1 − c × d)``.

    Attributes:
      by_year: ``(fiscal_year, coverage, discount)`` triples (a Mapping ``{year: (c, d)}`` is
        accepted); both fractions in [0, 1].
      calendar: the fiscal calendar naming the years.
      default: ``(coverage, discount)`` for years not listed (None = no commitment discount).
    """

    by_year: tuple[tuple[int, Decimal, Decimal], ...] = ()
    calendar: FiscalCalendar = CALENDAR_YEAR
    default: tuple[Decimal, Decimal] | None = None

    def __post_init__(self):
        items = self.by_year.items() if isinstance(self.by_year, Mapping) else \
            ((y, (c, d)) for y, c, d in self.by_year)
        triples = []
        for year, (c, d) in items:
            triples.append((int(year), *self._check(c, d, f"FY{year}")))
        object.__setattr__(self, "by_year", tuple(sorted(triples)))
        if self.default is not None:
            object.__setattr__(self, "default", self._check(*self.default, "default"))

    @staticmethod
    def _check(c, d, what: str) -> tuple[Decimal, Decimal]:
        c, d = to_decimal(c, f"coverage ({what})"), to_decimal(d, f"discount ({what})")
        for name, v in (("coverage", c), ("discount", d)):
            if not ZERO <= v <= ONE:
                raise ValueError(f"{name} ({what}) must be a fraction in [0, 1], not {v}")
        return c, d

    @classmethod
    def flat(cls, coverage, discount, calendar: FiscalCalendar = CALENDAR_YEAR) -> CommitmentStrategy:
        """The same coverage and discount in every year."""
        return cls((), calendar, (coverage, discount))

    def rate(self, month: dt.date) -> Decimal:
        """c × d for ``month``'s fiscal year (0 when neither listed nor defaulted)."""
        fy = self.calendar.fiscal_year(month)
        for y, c, d in self.by_year:
            if y == fy:
                return c * d
        return self.default[0] * self.default[1] if self.default else ZERO


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A planning scenario.

    Attributes:
      name: ``base``, ``low``, ``high``, …
      volume_factor: multiplier on every driver volume.
      drivers: its own driver table (None = the forecast's drivers), also × ``volume_factor``.
    """

    name: str
    volume_factor: Decimal = ONE
    drivers: tuple[Driver, ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "volume_factor",
                           to_decimal(self.volume_factor, f"volume_factor of scenario {self.name!r}"))
        if self.volume_factor < 0:
            raise ValueError(f"volume_factor of scenario {self.name!r} must be ≥ 0")
        if self.drivers is not None:
            object.__setattr__(self, "drivers", tuple(self.drivers))


#: base / low / high as multipliers on driver volumes.
DEFAULT_SCENARIOS = (Scenario("base", ONE), Scenario("low", Decimal("0.9")),
                     Scenario("high", Decimal("1.1")))


class ForecastRow(NamedTuple):
    """One forecast line: owner × driver × month (or an event's amount).

    Attributes:
      month, owner, driver: the cell (``driver`` = the event name on event-amount rows).
      volume: driver volume after the scenario (None on event rows).
      unit_cost: after price changes and factor events (None on event rows).
      gross: volume × unit_cost, or the event's amount share.
      discount: gross × coverage × discount of the commitment overlay.  net: gross − discount.
      service_category: for budget rows.  source: ``unit cost …`` or ``event …``.
    """

    month: dt.date
    owner: str
    driver: str
    volume: Decimal | None
    unit_cost: Decimal | None
    gross: Decimal
    discount: Decimal
    net: Decimal
    service_category: str
    source: str


