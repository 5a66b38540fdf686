"""The generated window: its days and billing months, and the exact running sums of one month's charges."""

from __future__ import annotations

import datetime

import numpy as np

from finops_xl.sample.spec import SampleSpec
from finops_xl.sample.values import _add_months, _isums_by


class _Calendar:
    def __init__(self, spec: SampleSpec):
        self.start = spec.start.replace(day=1)
        self.months = spec.months
        self.month_starts = [_add_months(self.start, m) for m in range(spec.months + 1)]
        self.month_first_day = [(ms - self.start).days for ms in self.month_starts]
        self.total_days = self.month_first_day[-1]
        self.month_days = [self.month_first_day[m + 1] - self.month_first_day[m] for m in range(spec.months)]
        self.weekend = np.array([(self.start + datetime.timedelta(days=d)).weekday() >= 5
                                 for d in range(self.total_days)])
        self.month_of_day = np.repeat(np.arange(spec.months), self.month_days)

    def dt(self, day: int) -> datetime.datetime:
        d = self.start + datetime.timedelta(days=day)
        return datetime.datetime(d.year, d.month, d.day)

    def day_of(self, d: datetime.date) -> int:
        return (d - self.start).days


class _MonthAcc:
    """Exact per-sub-account sums of the month's charges (Python ints of 1e-12 USD)."""

    def __init__(self, n_acct: int):
        self.bill = [0] * n_acct
        self.eff = [0] * n_acct
        self.lst = [0] * n_acct
        self.con = [0] * n_acct

    def add(self, acct, bill, eff, lst, con, n):
        for tgt, vals in ((self.bill, bill), (self.eff, eff), (self.lst, lst), (self.con, con)):
            for i, v in enumerate(_isums_by(acct, vals, n)):
                tgt[i] += v

    def add_py(self, a: int, bill: int, eff: int, lst: int, con: int) -> None:
        self.bill[a] += bill
        self.eff[a] += eff
        self.lst[a] += lst
        self.con[a] += con
