"""Trend forecasts of monthly cost: exponential smoothing (ETS), seasonal naive, run rate.

Steps of :func:`forecast`:

1. Check the history: first-of-month dates, consecutive, no month twice (a gap is a month of 0 —
   :func:`monthly_history` fills them).
2. Pick the method that the history supports (*short-history fallback*): with 0 months the forecast is
   0 with a note asking for a run rate; with 1–2 months it is a run rate; ETS is seasonal only with
   at least two full seasons, otherwise trend-only; seasonal naive with less than one season falls
   back to the last value. Every fallback is named in ``method_used`` and explained in ``note``;
   none raises.
3. Fit and predict in float (statsmodels works in float64), then return Decimal amounts rounded
   half-even to the cent and clamped at 0 — cost is spend, and a forecast of negative spend is never
   what an analyst means (credits are not forecast here). Forecasts are estimates, not postings, so
   the float step does not break the exact-money rule: nothing here is summed into a ledger.

Prediction intervals are central: ``interval=0.80`` means a 10% chance each of the actual falling
below ``low`` or above ``high`` (provider consoles show 80% by default).

* ``"ets"`` — statsmodels ``ETSModel`` (state-space exponential smoothing), additive trend, additive
  seasonality when ≥ 2 full seasons, additive errors, fitted by maximum likelihood. When every month
  is > 0 the model is fitted to ``log(cost)`` — growth becomes a % per month and seasonality a % of
  the level, as cloud cost behaves — and forecasts and bounds are mapped back with ``exp`` (the
  bounds keep their coverage; the point forecast is then the median, not the mean). With any month
  ≤ 0 it is fitted to cost itself. Intervals from
  ``ETSResults.get_prediction(...).summary_frame(alpha=1 - interval)`` (columns ``pi_lower`` /
  ``pi_upper``): closed-form forecast variances for this all-additive (linear) model, Hyndman &
  Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.), §8.7, Table 8.8 — no simulation,
  so results are deterministic. If the model cannot be fitted the method falls back to the run rate,
  with a note.
* ``"seasonal_naive"`` — the value of the same month one season earlier; interval from the standard
  deviation σ of the seasonal differences ``y[t] − y[t−m]`` as ``± z·σ·√(k+1)``, k = whole seasons
  ahead (FPP3 §5.5, Table 5.2).
* ``"run_rate"`` — the last month, flat; interval from the month-over-month differences of the last
  12 months as a random walk, ``± z·σ·√h`` (FPP3 §5.5). With fewer than 3 months there is no
  variability to measure: ``low = high = forecast`` and the note says so.
"""

from __future__ import annotations

import datetime
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np

from finops_xl.money import ZERO, round_money
from finops_xl.names import suggest
from finops_xl.months import add_months

Method = Literal["ets", "seasonal_naive", "run_rate"]
METHODS: tuple[str, ...] = ("ets", "seasonal_naive", "run_rate")

#: Months of history below which every method becomes a run rate.
MIN_MODEL_MONTHS = 3
#: Months of month-over-month differences used for the run-rate interval.
RUN_RATE_WINDOW = 12

NO_HISTORY_NOTE = "no history: nothing to forecast from; enter a run rate"


@dataclass(frozen=True)
class ForecastRow:
    """One forecast month.

    Attributes:
      month: first day of the month.
      forecast: point forecast of EffectiveCost (≥ 0, rounded to the cent).
      low: lower end of the prediction interval (≥ 0).
      high: upper end of the prediction interval.
    """

    month: datetime.date
    forecast: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class Forecast:
    """A forecast and how it was made.

    Attributes:
      rows: one :class:`ForecastRow` per month, ``horizon`` of them, in month order.
      method_requested: the method asked for.
      method_used: the method that produced ``rows`` (differs after a short-history fallback), e.g.
        ``"ets"`` with ``model`` telling which ETS, ``"seasonal_naive"``, ``"run_rate"``.
      note: plain-language explanation of the method, any fallback and the interval.
      interval: the prediction interval's coverage (0.80 = 80%).
      model: the fitted model's short name (``"ETS(A,A,A) m=12"``, ``"ETS(A,A,N)"``, …) or ``""``.
      history_months: how many months of history there were.
    """

    rows: tuple[ForecastRow, ...]
    method_requested: str
    method_used: str
    note: str
    interval: float
    model: str = ""
    history_months: int = 0


def forecast(history: Sequence[tuple[datetime.date, Decimal]], horizon: int, method: Method = "ets",
             seasonality: int | None = 12, interval: float = 0.80, *,
             start: datetime.date | None = None) -> Forecast:
    """Forecast monthly cost ``horizon`` months past the end of ``history``.

    Parameters:
      history: ``(month, cost)`` pairs, months as first-of-month dates, consecutive, oldest first.
        Cost is FOCUS EffectiveCost (positive spend).
      horizon: months to forecast (≥ 1).
      method: ``"ets"``, ``"seasonal_naive"`` or ``"run_rate"``.
      seasonality: season length in months (12 = yearly); ``None`` or ``< 2`` for none.
      interval: coverage of the prediction interval, strictly between 0 and 1.
      start: first forecast month when ``history`` is empty (default: next month from today).

    Returns:
      A :class:`Forecast`. Short or missing history never raises: it falls back to a run rate and
      says so in ``note``.

    Notes:
      See the module docstring for each method's equations, the float step and the clamp at 0.

    Examples:
      >>> d = datetime.date
      >>> f = forecast([(d(2025, 1, 1), Decimal("100")), (d(2025, 2, 1), Decimal("110"))], 2)
      >>> f.method_used, [(r.month.isoformat(), str(r.forecast)) for r in f.rows]
      ('run_rate', [('2025-03-01', '110.00'), ('2025-04-01', '110.00')])
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a whole number of months ≥ 1; got {horizon!r}")
    if not 0 < interval < 1:
        raise ValueError(f"interval must be a coverage between 0 and 1 (e.g. 0.80); got {interval!r}")
    months, values = _check_history(history)
    m = seasonality if seasonality and seasonality >= 2 else None
    n = len(values)

    if n == 0:
        first = start or add_months(datetime.date.today().replace(day=1), 1)
        rows = tuple(ForecastRow(add_months(first, i), ZERO, ZERO, ZERO) for i in range(horizon))
        return Forecast(rows, method, "run_rate", NO_HISTORY_NOTE, interval, "", 0)

    first = add_months(months[-1], 1)
    y = np.array([float(v) for v in values])
    if n < MIN_MODEL_MONTHS:
        point, low, high, note = _run_rate(y, horizon, interval)
        note = (f"short history ({n} month{'s' if n > 1 else ''}): too little to fit a "
                f"{method} forecast; using the last month as a run rate. " + note)
        return _result(first, point, low, high, method, "run_rate", note, interval, "", n)

    if method == "ets":
        try:
            point, low, high, model, note = _ets(y, horizon, m, interval)
            return _result(first, point, low, high, method, "ets", note, interval, model, n)
        except (ValueError, np.linalg.LinAlgError) as exc:
            point, low, high, note = _run_rate(y, horizon, interval)
            note = f"ETS could not be fitted to {n} months ({exc}); using the run rate. " + note
            return _result(first, point, low, high, method, "run_rate", note, interval, "", n)
    if method == "seasonal_naive":
        if m is not None and n >= m:
            point, low, high, note = _seasonal_naive(y, horizon, m, interval)
            return _result(first, point, low, high, method, "seasonal_naive", note, interval, "", n)
        point, low, high, note = _run_rate(y, horizon, interval)
        why = "no seasonality given" if m is None else f"less than one season ({n} < {m} months)"
        note = f"seasonal naive needs a full season: {why}; using the last month as a run rate. " + note
        return _result(first, point, low, high, method, "run_rate", note, interval, "", n)
    point, low, high, note = _run_rate(y, horizon, interval)
    return _result(first, point, low, high, method, "run_rate", note, interval, "", n)


def _check_history(history: Sequence[tuple[datetime.date, Decimal]]
                   ) -> tuple[list[datetime.date], list[Decimal]]:
    months: list[datetime.date] = []
    values: list[Decimal] = []
    for i, pair in enumerate(history):
        try:
            month, value = pair
        except (TypeError, ValueError):
            raise ValueError(f"history[{i}] must be a (month, cost) pair; got {pair!r}") from None
        if not isinstance(month, datetime.date) or isinstance(month, datetime.datetime) or month.day != 1:
            raise ValueError(f"history[{i}]: month must be a first-of-month date; got {month!r}")
        if months and month != add_months(months[-1], 1):
            raise ValueError(f"history[{i}]: months must be consecutive; {month.isoformat()} follows "
                             f"{months[-1].isoformat()} (fill missing months with 0)")
        try:
            amount = Decimal(value)
        except (TypeError, ArithmeticError):
            raise ValueError(f"history[{i}]: cost must be a number; got {value!r}") from None
        if not amount.is_finite():
            raise ValueError(f"history[{i}]: cost must be finite; got {value!r}")
        months.append(month)
        values.append(amount)
    return months, values


def _z(interval: float) -> float:
    return statistics.NormalDist().inv_cdf(0.5 + interval / 2)


def _run_rate(y: np.ndarray, horizon: int, interval: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    point = np.full(horizon, y[-1])
    diffs = np.diff(y[-(RUN_RATE_WINDOW + 1):])
    if len(diffs) < 2:
        return point, point.copy(), point.copy(), (
            "No interval: too few months to measure variability (low = high = forecast).")
    sigma = float(np.std(diffs, ddof=1))
    half = _z(interval) * sigma * np.sqrt(np.arange(1, horizon + 1))
    return point, point - half, point + half, (
        f"Run rate: last month, flat; {interval:.0%} interval from the variability of the last "
        f"{len(diffs)} month-over-month changes, widening as a random walk (√h).")


def _seasonal_naive(y: np.ndarray, horizon: int, m: int, interval: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    n = len(y)
    h = np.arange(1, horizon + 1)
    # y[n + h - 1] = y[n - m + (h - 1) % m]
    point = y[n - m + (h - 1) % m]
    sdiff = y[m:] - y[:-m]
    if len(sdiff) < 2:
        return point, point.copy(), point.copy(), (
            f"Seasonal naive: same month one season ({m} months) earlier. No interval: fewer than "
            "two seasonal differences to measure variability (low = high = forecast).")
    sigma = float(np.std(sdiff, ddof=1))
    half = _z(interval) * sigma * np.sqrt((h - 1) // m + 1)
    return point, point - half, point + half, (
        f"Seasonal naive: same month one season ({m} months) earlier; {interval:.0%} interval from "
        f"the variability of {len(sdiff)} year-over-year changes.")


def _ets(y: np.ndarray, horizon: int, m: int | None, interval: float
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    import pandas as pd
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    n = len(y)
    seasonal = m is not None and n >= 2 * m
    log = bool(np.all(y > 0))
    # Positive history: fit on log(cost), so trend is a growth rate and seasonality a % of the level
    # (cloud cost grows by percentages). Otherwise: on cost scaled to ~1, for a well-conditioned fit.
    scale = 1.0 if log else (float(np.mean(np.abs(y))) or 1.0)
    data = np.log(y) if log else y / scale
    # A pandas series with a monthly index: ETSResults.get_prediction needs labelled data.
    endog = pd.Series(data, index=pd.date_range("2000-01-01", periods=n, freq="MS"))
    model = ETSModel(endog, error="add", trend="add", damped_trend=False,
                     seasonal="add" if seasonal else None, seasonal_periods=m if seasonal else None,
                     initialization_method="estimated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = model.fit(disp=False, maxiter=1000)
        frame = res.get_prediction(start=n, end=n + horizon - 1).summary_frame(alpha=1 - interval)
    back = np.exp if log else (lambda v: v * scale)
    point = back(frame["mean"].to_numpy())
    low = back(frame["pi_lower"].to_numpy())
    high = back(frame["pi_upper"].to_numpy())
    if not (np.all(np.isfinite(point)) and np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("the fitted model gave non-finite forecasts")
    name = f"ETS(A,A,A) m={m}" if seasonal else "ETS(A,A,N)"
    why = "" if seasonal or m is None else (
        f" Not seasonal: {n} months is less than two full seasons ({2 * m}).")
    on = (f"log(cost), so growth is a % per month{' and seasonality a % of the level' if seasonal else ''}"
          if log else "cost (some months ≤ 0, so not on log scale)")
    note = (f"{name}: exponential smoothing with additive trend"
            f"{' and additive seasonality' if seasonal else ''} on {on} (statsmodels ETSModel, "
            f"fitted by maximum likelihood on {n} months).{why} {interval:.0%} prediction interval "
            "from the model's forecast-error variance (ETSResults.get_prediction).")
    return point, low, high, name, note


def _money(x: float) -> Decimal:
    return round_money(Decimal(repr(max(float(x), 0.0))))


def _result(first: datetime.date, point: np.ndarray, low: np.ndarray, high: np.ndarray,
            requested: str, used: str, note: str, interval: float, model: str, n: int) -> Forecast:
    clamped = bool(np.any(point < 0) or np.any(low < 0))
    rows = tuple(
        ForecastRow(add_months(first, i), _money(p), _money(min(lo, p)), _money(max(hi, p)))
        for i, (p, lo, hi) in enumerate(zip(point, low, high)))
    if clamped:
        note += " Negative values were clamped to 0 (cost forecasts are spend, never negative)."
    return Forecast(rows, requested, used, note, interval, model, n)


def monthly_history(con, owner: str | None = None, service_category: str | None = None,
                    currency: str | None = None) -> list[tuple[datetime.date, Decimal]]:
    """Monthly EffectiveCost from the store, ready for :func:`forecast`.

    Parameters:
      con: a store connection (``CostStore(path).reader()``).
      owner: an allocation owner: read ``allocated_charges`` (needs an allocation run). ``None``:
        read ``cost_daily`` (the whole bill).
      service_category: a FOCUS ServiceCategory to keep (``cost_daily`` only).
      currency: the BillingCurrency to read; required when the data holds more than one.

    Returns:
      ``(month, EffectiveCost)`` pairs, oldest first, every month from the first to the last with
      cost (months without any in between are 0). Sums are exact DECIMAL sums in SQL.
    """
    if owner is not None and service_category is not None:
        raise ValueError("give owner or service_category, not both: owners come from the allocation, "
                         "service categories from the cost store")
    if owner is not None:
        has_alloc = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'allocated_charges'"
                                " UNION ALL SELECT count(*) FROM duckdb_tables() "
                                "WHERE table_name = 'allocated_charges'").fetchall()
        if not any(c for (c,) in has_alloc):
            raise ValueError("owner given but the store has no allocation: run `finops-xl allocate` "
                             "first")
        source = ("SELECT CAST(month AS DATE) AS month, currency, EffectiveCost "
                  "FROM allocated_charges WHERE owner = $filter")
        params: dict[str, object] = {"filter": owner}
    else:
        source = ("SELECT CAST(date_trunc('month', ChargeDate) AS DATE) AS month, "
                  "BillingCurrency AS currency, EffectiveCost FROM cost_daily")
        params = {}
        if service_category is not None:
            source += " WHERE ServiceCategory = $filter"
            params["filter"] = service_category
    if params.get("filter") is not None:
        _check_filter_value(con, "owner" if owner is not None else "service category", owner or service_category,
                            source)
    currencies = [c for (c,) in con.execute(
        f"SELECT DISTINCT currency FROM ({source}) WHERE currency IS NOT NULL ORDER BY 1", params
    ).fetchall()]
    if currency is None and len(currencies) > 1:
        raise ValueError(f"the cost is in {len(currencies)} currencies ({', '.join(currencies)}): "
                         "give currency= to pick one")
    if currency is not None:
        source = f"SELECT * FROM ({source}) WHERE currency = $currency"
        params["currency"] = currency
    rows = con.execute(f"""
        WITH src AS ({source}),
        monthly AS (SELECT month, sum(EffectiveCost) AS cost FROM src GROUP BY month),
        bounds AS (SELECT CAST(min(month) AS TIMESTAMP) AS lo, CAST(max(month) AS TIMESTAMP) AS hi
                   FROM monthly),
        span AS (SELECT CAST(g.m AS DATE) AS month
                 FROM bounds, generate_series(bounds.lo, bounds.hi, INTERVAL 1 MONTH) AS g(m))
        SELECT span.month, coalesce(monthly.cost, 0) FROM span LEFT JOIN monthly USING (month)
        ORDER BY span.month
    """, params).fetchall()
    return [(m, Decimal(c)) for m, c in rows]


def _check_filter_value(con, what: str, value: str, source: str) -> None:
    """An owner or service category the store does not hold is an error naming the closest ones,
    never an empty history forecast as zeros."""
    column = "owner" if what == "owner" else "ServiceCategory"
    table = "allocated_charges" if what == "owner" else "cost_daily"
    if con.execute(f"SELECT count(*) FROM ({source}) LIMIT 1", {"filter": value}).fetchone()[0]:
        return
    known = [v for (v,) in con.execute(
        f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()]
    raise ValueError(f"no cost for {what} {value!r} in the store{suggest(value, known)}")
