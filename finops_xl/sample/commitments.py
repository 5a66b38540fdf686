"""The sample's commitments (reservations, savings plans, CUDs): when each is bought, how big it is, its
amortised, upfront and recurring rates and its ids, and the exact ledger it must tie out to."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pyarrow as pa

from finops_xl.sample.catalog import _CommitDef
from finops_xl.sample.spec import _DAY_Q4, _P8
from finops_xl.sample.values import _add_years, _hex_np, _uuid


@dataclasses.dataclass
class _Commit:
    d: _CommitDef
    index: int
    cid: str
    name: str
    start: int  # window day index [start, end)
    end: int
    acct: int
    elig_tmpl: np.ndarray  # bool per template
    norm: np.ndarray  # int64 per template
    units: int = 0  # usage: normalized units per hour; spend: 1
    rate8: int = 0  # usage: amortised USD per unit-hour; spend: commitment USD per hour (1e-8)
    up8: int = 0
    rec8: int = 0
    sp8: np.ndarray | None = None  # spend: per (template, region) commitment rate (1e-8)
    sku_id: str = ""
    sku_price_id: str = ""
    used_total: int = 0  # ledger self-check (1e-12 USD)
    unused_total: int = 0
    purchased_total: int = 0

    @property
    def spend(self) -> bool:
        return self.d.category == "Spend"

    def cap_daily(self) -> int:
        """Daily capacity: usage -> unit-hours in q4; spend -> USD in 1e-12."""
        return self.units * _DAY_Q4 if not self.spend else self.rate8 * _DAY_Q4


class _CommitmentBook:
    """A provider's commitments, sized on the resources live on their first day in the window."""

    def _commitments(self) -> None:
        pd, cal, pool = self.pd, self.cal, self.pool
        rng = np.random.default_rng([self.spec.seed % 2**63, 49979687, self.pidx])
        fam = np.array([t.family for t in pd.templates])
        self.commits: list[_Commit] = []
        covered_sp = np.zeros(len(pool["tmpl"]), float)  # RI-covered share (for savings-plan sizing)
        for ci, d in enumerate(pd.commits):
            if d.start_month >= 0:
                m = min(d.start_month, cal.months - 1)
                start = cal.month_first_day[m] + min(d.start_offset, cal.month_days[m] - 1)
            else:
                start = d.start_offset
            start_date = cal.start + datetime.timedelta(days=start)
            end = cal.day_of(_add_years(start_date, d.term_years))
            elig = np.isin(fam, list(d.families)) & (self.tpcat == 0)
            uid = d.id_pattern.replace("{uuid}", _uuid(rng)).replace("{uuid2}", _uuid(rng)).replace(
                "{hex8}", _hex_np(rng, 1, 8)[0].decode())
            name = f"{d.name} ({start_date.isoformat()})"
            c = _Commit(d=d, index=ci, cid=uid, name=name, start=start, end=end, acct=self.mgmt,
                        elig_tmpl=elig, norm=self.tnorm.copy() if d.category == "Usage" else np.ones(self.T, np.int64))
            if d.unit == "Hours":
                c.norm = np.ones(self.T, np.int64)
            # sizing from the resources expected to be live on the first in-window day
            s = max(start, 0)
            m = int(cal.month_of_day[min(s, cal.total_days - 1)])
            n_live = int(self.est_daily[m])
            alive = (pool["start"] <= s) & (pool["end"] > s) & ~pool["spike"]
            alive_idx = np.flatnonzero(alive)[:n_live]
            t = pool["tmpl"][alive_idx]
            g = pool["region"][alive_idx]
            e = elig[t] & ((g == d.region) if d.region >= 0 else True)
            hours = pool["exp_hours"][alive_idx]
            if float(d.upfront_share) > 0 and start < 0:
                raise AssertionError("upfront commitments must be bought inside the window")
            if d.category == "Usage":
                nu_hours = float((hours * c.norm[t] * e).sum())
                c.units = max(1, int(round(d.frac * nu_hours / 24)))
                home = int(np.flatnonzero(elig)[0])  # list price per normalized unit-hour
                rate = Decimal(int(self.lup8[home, max(d.region, 0)])) / int(c.norm[home])
                c.rate8 = max(1, int((rate * (1 - Decimal(str(d.disc)))).to_integral_value(ROUND_HALF_EVEN)))
                covered_sp[alive_idx[e]] = min(1.0, d.frac)
            else:
                sp8 = np.rint(self.lup8.astype(float) * (1 - d.disc)).astype(np.int64)
                c.sp8 = sp8.reshape(-1)
                per_hour = float((sp8[t, g] / _P8 * hours / 24 * e * (1 - covered_sp[alive_idx])).sum())
                c.rate8 = max(_P8 // 100, int(round(d.frac * per_hour * 100)) * (_P8 // 100))
                c.units = 1
            c.up8 = int((Decimal(c.rate8) * Decimal(d.upfront_share)).to_integral_value(ROUND_HALF_EVEN))
            c.rec8 = c.rate8 - c.up8
            c.sku_id = self._sku_id(rng)
            c.sku_price_id = self._price_id(rng, c.sku_id, "Committed")
            self.commits.append(c)
        self.commit_active = np.zeros(cal.total_days, np.int64)
        for c in self.commits:
            a, b = max(c.start, 0), min(c.end, cal.total_days)
            if b > a:
                self.commit_active[a:b] += 1
        C = len(self.commits)
        self.s_cd_id = pa.array([c.cid for c in self.commits], pa.string())
        self.s_cd_name = pa.array([c.name for c in self.commits], pa.string())
        self.s_cd_type = pa.array([c.d.ctype for c in self.commits], pa.string())
        self.s_cd_cat = pa.array([c.d.category for c in self.commits], pa.string())
        self.s_cd_unit = pa.array([c.d.unit for c in self.commits], pa.string())
        self.s_cd_status = pa.array(["Used"] * C, pa.string())
        self.commit_spend = np.array([c.spend for c in self.commits], bool)
