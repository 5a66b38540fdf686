"""A trend forecast that knows its limits: method chosen by backtest, one-off spikes, the horizon, accuracy.

Steps of :func:`trend_forecast` (after dropping the months up to the last month without cost, which
breaks the series; a warning says so):

1. **Spikes** (:func:`detect_spikes`): an interior month more than ``threshold`` (20%) above *both* its
   neighbours is a one-off spike; its **baseline** is the mean of the two neighbours. The first and the
   last month are never called spikes (a jump at the end may be a new level; only the next month tells).
   By choice (``spikes``): ``"exclude"`` (default) fits on the history with each spike replaced by its
   baseline; ``"damp"`` keeps half of the excess (baseline + ½ × (value − baseline)); ``"keep"`` fits on
   the history as it is. The spikes are returned either way, to be shown.
2. **Method** (:func:`choose_method`): with at least :data:`MIN_BACKTEST_MONTHS` (6) months, a
   rolling-origin one-month-ahead backtest (:func:`finops_xl.planning.backtest.backtest`, first training
   window ``max(3, n // 2)``) of ets, seasonal naive and run rate on the (spike-treated) history picks
   the lowest MAPE; with fewer, ETS (which falls back by itself on very short history) and the reason
   is stated.
3. **Horizon** (:func:`horizon_warning`): a forecast further ahead than the history is long
   extrapolates what it has not seen (a seasonal model needs two full seasons, a trend compounds):
   above ``n`` months a warning; above ``2 × n`` months :func:`trend_forecast` refuses unless
   ``allow_long=True`` (the warning is still given).
4. **Accuracy month by month** (:func:`accuracy`): for each month after the first training window, the
   chosen method's one-month-ahead forecast from the months before it against the actual, its error and
   the FinOps forecast-variance band of that error (GLOSSARY "Forecasting").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from finops_xl.planning.backtest import Backtest, backtest, finops_band
from finops_xl.planning.forecast import Forecast, forecast

MIN_BACKTEST_MONTHS = 6
SPIKE_THRESHOLD = Decimal("0.20")
SPIKE_MODES = ("exclude", "damp", "keep")
METHODS = ("ets", "run_rate", "seasonal_naive")  # on a tie the simpler run rate wins


@dataclasses.dataclass(frozen=True)
class Spike:
    month: dt.date
    amount: Decimal
    baseline: Decimal
    used: Decimal  # the value the forecast was fitted on

    @property
    def excess(self) -> Decimal:
        return self.amount - self.baseline


@dataclasses.dataclass(frozen=True)
class AccuracyRow:
    month: dt.date
    forecast: Decimal
    actual: Decimal
    error: Decimal | None  # (forecast − actual) ÷ actual
    band: str


@dataclasses.dataclass(frozen=True)
class TrendForecast:
    """The forecast and everything that qualifies it (module notes)."""

    result: Forecast
    method: str
    chosen_by: str
    backtest: Backtest | None
    spikes: tuple[Spike, ...]
    spike_mode: str
    warnings: tuple[str, ...]
    accuracy: tuple[AccuracyRow, ...]


def detect_spikes(history: Sequence[tuple[dt.date, Decimal]], threshold: Decimal = SPIKE_THRESHOLD,
                  mode: str = "exclude") -> tuple[Spike, ...]:
    """Step 1: the one-off spikes of ``history`` and the value each is replaced by under ``mode``."""
    if mode not in SPIKE_MODES:
        raise ValueError(f"spikes must be one of {', '.join(SPIKE_MODES)}, not {mode!r}")
    out = []
    for i in range(1, len(history) - 1):
        prev, (month, y), nxt = history[i - 1][1], history[i], history[i + 1][1]
        if y > (1 + threshold) * max(prev, nxt) and max(prev, nxt) > 0:
            baseline = (Decimal(prev) + Decimal(nxt)) / 2
            used = {"exclude": baseline, "damp": baseline + (y - baseline) / 2, "keep": Decimal(y)}[mode]
            out.append(Spike(month, Decimal(y), baseline, used))
    return tuple(out)


def treated(history: Sequence[tuple[dt.date, Decimal]], spikes: Sequence[Spike]) -> list[tuple[dt.date, Decimal]]:
    """``history`` with each spike's month at its ``used`` value."""
    by = {s.month: s.used for s in spikes}
    return [(m, by.get(m, Decimal(v))) for m, v in history]


def choose_method(history: Sequence[tuple[dt.date, Decimal]]) -> tuple[str, str, Backtest | None]:
    """Step 2: (method, why, backtest)."""
    n = len(history)
    if n < MIN_BACKTEST_MONTHS:
        return "ets", (f"not chosen by backtest: {n} month(s) of history, {MIN_BACKTEST_MONTHS} needed to "
                       "backtest; ETS (it falls back to a run rate on very short history)"), None
    tested = backtest(history, methods=METHODS, min_train=max(3, n // 2))
    if not tested.best:
        return "ets", "not chosen by backtest: no month could be scored (actuals of 0)", tested
    score = next(s for s in tested.scores if s.method == tested.best)
    return tested.best, (f"chosen by backtest: lowest one-month-ahead MAPE ({score.mape:.1%}, "
                         f"{tested.origins} months scored)"), tested


def horizon_warning(months_of_history: int, horizon: int) -> str | None:
    """Step 3: the warning for ``horizon`` months ahead of ``months_of_history`` (None when within it)."""
    if horizon <= months_of_history:
        return None
    return (f"the horizon ({horizon} months) is longer than the history ({months_of_history} months): months "
            f"after {months_of_history} ahead extrapolate a trend and seasonality the data has not shown; "
            f"treat them as a scenario, not a forecast")


def accuracy(history: Sequence[tuple[dt.date, Decimal]], method: str, min_train: int | None = None, *,
             actuals: Sequence[tuple[dt.date, Decimal]] | None = None) -> tuple[AccuracyRow, ...]:
    """Step 4: one row per month after the first ``min_train`` (default ``max(3, n // 2)``), forecast from
    ``history`` (spike-treated) and scored against ``actuals`` (default ``history``): what was billed."""
    n = len(history)
    first = max(3, n // 2) if min_train is None else min_train
    actuals = history if actuals is None else actuals
    out = []
    for t in range(first, n):
        month, actual = actuals[t]
        (row,) = forecast(history[:t], 1, method).rows
        actual = Decimal(actual)
        err = (row.forecast - actual) / actual if actual else None
        out.append(AccuracyRow(month, row.forecast, actual, err, finops_band(abs(err) if err is not None else None)))
    return tuple(out)


def trend_forecast(history: Sequence[tuple[dt.date, Decimal]], horizon: int, *, method: str = "auto",
                   spikes: str = "exclude", threshold: Decimal = SPIKE_THRESHOLD,
                   allow_long: bool = False) -> TrendForecast:
    """The steps of the module notes. ``method="auto"`` chooses by backtest; a named method is used as is
    (the backtest still runs and the accuracy is of that method).

    Raises:
      ValueError: the horizon is over twice the history and ``allow_long`` is not set (one line naming
      the longest horizon the history supports and the option), an unknown method or spike mode.
    """
    history = [(m, Decimal(v)) for m, v in history]
    gaps = [i for i, (_, v) in enumerate(history) if v == 0]
    dropped = None
    if gaps and gaps[-1] < len(history) - 1:  # a month without cost breaks the series: use the run after it
        dropped, history = history[gaps[-1]][0], history[gaps[-1] + 1:]
    if method != "auto" and method not in METHODS:
        raise ValueError(f"method must be auto or one of {', '.join(METHODS)}, not {method!r}")
    n = len(history)
    warning = horizon_warning(n, horizon)
    if warning and horizon > 2 * n and not allow_long:
        raise ValueError(f"{horizon} months ahead from {n} months of history: at most {2 * n} months can be "
                         f"forecast from it (--months {2 * n}), or allow a longer horizon explicitly "
                         "(--long-horizon) and read it as a scenario")
    found = detect_spikes(history, threshold, spikes)
    fitted = treated(history, found)
    chosen, why, tested = choose_method(fitted)
    if method != "auto":
        chosen, why = method, f"chosen by the user (the backtest picks {chosen_by(tested)})"
    result = forecast(fitted, horizon, chosen)
    warnings = []
    if dropped is not None:
        warnings.append(f"the months up to {dropped:%Y-%m} (a month without cost) are left out: the series "
                        f"starts again in {history[0][0]:%Y-%m}")
    if warning:
        warnings.append(warning)
    if found and spikes != "keep":
        warnings.append("one-off spike(s) " + ", ".join(f"{s.month:%Y-%m} ({s.excess:,.2f} above the "
                                                          f"neighbours)" for s in found)
                        + (" excluded" if spikes == "exclude" else " damped by half") + " before fitting")
    elif found:
        warnings.append("one-off spike(s) " + ", ".join(f"{s.month:%Y-%m}" for s in found)
                        + " kept in the fit: the trend may carry them forward")
    acc = accuracy(fitted, chosen, actuals=history) if n >= MIN_BACKTEST_MONTHS else ()
    return TrendForecast(result, chosen, why, tested, found, spikes, tuple(warnings), acc)


def chosen_by(tested: Backtest | None) -> str:
    return tested.best if tested is not None and tested.best else "ets"
