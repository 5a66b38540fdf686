"""Rolling-origin backtests of monthly cost forecasts, scored as the FinOps Framework scores them.

Steps of :func:`backtest`:

1. For each origin ``t`` from ``min_train`` to ``n − 1``: fit on the first ``t`` months and forecast
   ``horizon`` months ahead with :func:`finops_xl.planning.forecast.forecast` (so short-history
   fallbacks are exercised exactly as users meet them).
2. Score every forecast month that has an actual (months past the end of history are skipped), for
   every method on the same origins, so methods are compared like for like.
3. Per method: MAPE = mean of ``|forecast − actual| ÷ actual``; bias = mean of
   ``(forecast − actual) ÷ actual`` (positive = over-forecast). Months whose actual is 0 have no
   percentage error and are counted in ``skipped_zero``. Both are fractions (0.12 = 12%).
4. Band (FinOps Framework forecast-variance targets, see GLOSSARY "Forecasting"): MAPE ≤ 12% ``run``,
   ≤ 15% ``walk``, ≤ 20% ``crawl``, else ``above crawl``.

Errors are computed in Decimal on the cent-rounded forecasts that :func:`forecast` returns.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from finops_xl.money import ZERO
from finops_xl.planning.forecast import forecast

#: (upper MAPE bound, band) — FinOps Framework forecast-variance targets.
BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal("0.12"), "run"), (Decimal("0.15"), "walk"), (Decimal("0.20"), "crawl"))
ABOVE_CRAWL = "above crawl"


def finops_band(mape: Decimal | None) -> str:
    """The FinOps maturity band of a forecast MAPE (a fraction).

    >>> finops_band(Decimal("0.12")), finops_band(Decimal("0.13")), finops_band(Decimal("0.2001"))
    ('run', 'walk', 'above crawl')
    """
    if mape is None:
        return ""
    for bound, band in BANDS:
        if mape <= bound:
            return band
    return ABOVE_CRAWL


@dataclass(frozen=True)
class MethodScore:
    """One method's backtest result.

    Attributes:
      method: the method requested.
      mape: mean absolute percentage error, a fraction; ``None`` if no month could be scored.
      bias: mean signed percentage error, a fraction (positive = over-forecast); ``None`` likewise.
      band: ``run`` / ``walk`` / ``crawl`` / ``above crawl`` from ``mape``.
      scored: forecast months scored.
      skipped_zero: forecast months skipped because the actual was 0.
      methods_used: how often each method actually ran (fallbacks on short training windows), as
        sorted ``(method_used, count)`` pairs.
    """

    method: str
    mape: Decimal | None
    bias: Decimal | None
    band: str
    scored: int
    skipped_zero: int
    methods_used: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Backtest:
    """Scores of several methods on the same rolling origins.

    Attributes:
      scores: one :class:`MethodScore` per method, in the order asked.
      horizon: months forecast from each origin.
      origins: number of training windows (first has ``min_train`` months).
      best: the method with the lowest MAPE (first on ties), or ``""``.
    """

    scores: tuple[MethodScore, ...]
    horizon: int
    origins: int
    best: str


def backtest(history: Sequence[tuple[datetime.date, Decimal]],
             methods: Sequence[str] = ("ets", "seasonal_naive"), horizon: int = 1, min_train: int = 12,
             seasonality: int | None = 12) -> Backtest:
    """Rolling-origin backtest of ``methods`` on ``history`` (see the module docstring).

    Parameters:
      history: ``(month, cost)`` pairs as for :func:`forecast`.
      methods: methods to compare.
      horizon: months forecast from each origin; every step 1..horizon with an actual is scored.
      min_train: months in the first training window (≥ 1).
      seasonality: passed to :func:`forecast`.

    Returns:
      A :class:`Backtest`. Raises ValueError if history is not longer than ``min_train``.
    """
    if min_train < 1:
        raise ValueError(f"min_train must be ≥ 1; got {min_train!r}")
    if horizon < 1:
        raise ValueError(f"horizon must be ≥ 1; got {horizon!r}")
    history = list(history)
    n = len(history)
    if n <= min_train:
        raise ValueError(f"history has {n} months: a backtest needs more than min_train={min_train} "
                         "(some months to train on and some to test against)")
    actual = {m: Decimal(v) for m, v in history}
    scores = []
    for method in methods:
        ape: list[Decimal] = []
        spe: list[Decimal] = []
        used: Counter[str] = Counter()
        skipped = 0
        for t in range(min_train, n):
            fc = forecast(history[:t], horizon, method, seasonality)
            used[fc.method_used] += 1
            for row in fc.rows:
                a = actual.get(row.month)
                if a is None:
                    continue
                if a == ZERO:
                    skipped += 1
                    continue
                err = (row.forecast - a) / a
                spe.append(err)
                ape.append(abs(err))
        mape = sum(ape, ZERO) / len(ape) if ape else None
        bias = sum(spe, ZERO) / len(spe) if spe else None
        scores.append(MethodScore(method, mape, bias, finops_band(mape), len(ape), skipped,
                                  tuple(sorted(used.items()))))
    ranked = [s for s in scores if s.mape is not None]
    best = min(ranked, key=lambda s: s.mape).method if ranked else ""
    return Backtest(tuple(scores), horizon, n - min_train, best)
