"""One provider's generator state: its price and SKU tables, row targets, and (through its parts) its resource
pool, commitments, daily usage rows and other charges."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa

from finops_xl.sample.catalog import _KIND, _ProviderDef
from finops_xl.sample.charge_rows import _ChargeRows
from finops_xl.sample.commitments import _CommitmentBook
from finops_xl.sample.pool import _ResourcePool
from finops_xl.sample.spec import _P8, SampleSpec
from finops_xl.sample.usage_rows import _UsageRows
from finops_xl.sample.values import _hex_np, _json, _p8, _price_str
from finops_xl.sample.window import _Calendar

_GROWTH = 1.04
_SHARES = (0.5, 0.3, 0.2)


class _Provider(_ResourcePool, _CommitmentBook, _UsageRows, _ChargeRows):
    """One provider of the run, seeded by (seed, provider index): its parts share this state."""

    def __init__(self, pidx: int, pd: _ProviderDef, spec: SampleSpec, cal: _Calendar):
        self.pidx, self.pd, self.spec, self.cal = pidx, pd, spec, cal
        self.rng = np.random.default_rng([spec.seed % 2**63, 7919, pidx])
        self.T = len(pd.templates)
        self.G = len(pd.regions)
        self.A = len(pd.accounts)
        self.tkey = {t.key: i for i, t in enumerate(pd.templates)}
        self.acct_by_name = {a.name: i for i, a in enumerate(pd.accounts)}
        self.mgmt = next(i for i, a in enumerate(pd.accounts) if a.role == "mgmt")
        self._catalog()
        self._targets()
        self._pool_numeric()

    # ---- catalog tables -------------------------------------------------------------------------
    def _catalog(self) -> None:
        pd, T, G = self.pd, self.T, self.G
        rng = np.random.default_rng([self.spec.seed % 2**63, 104729, self.pidx])
        lup = np.zeros((T, G), np.int64)
        cup = np.zeros((T, G), np.int64)
        for i, t in enumerate(pd.templates):
            for g, r in enumerate(pd.regions):
                lp = _p8(Decimal(t.price) * Decimal(r.mult))
                lup[i, g] = lp
                cup[i, g] = _p8(Decimal(lp) * (1 - Decimal(str(t.disc))) / _P8)
        self.lup8, self.cup8 = lup, cup
        self.kind = np.array([_KIND[t.kind] for t in pd.templates], np.int8)
        self.pq_div = np.array([t.pq_div for t in pd.templates], np.int64)
        self.tpcat = np.array([t.pcat for t in pd.templates], np.int8)
        self.tnorm = np.array([t.norm for t in pd.templates], np.int64)
        tstr = lambda f: pa.array([f(t) for t in pd.templates], pa.string())  # noqa: E731
        self.s_service = tstr(lambda t: t.service)
        self.s_category = tstr(lambda t: t.category)
        self.s_subcategory = tstr(lambda t: t.subcategory)
        self.s_meter = tstr(lambda t: t.meter)
        self.s_punit = tstr(lambda t: t.punit)
        self.s_cunit = tstr(lambda t: t.cunit)
        self.s_rtype = tstr(lambda t: t.rtype)
        self.s_details = tstr(lambda t: _json(dict(t.details)) if t.details else None)
        sku_ids, price_ids, descs = [], [], []
        for i, t in enumerate(pd.templates):
            for g, r in enumerate(pd.regions):
                sku = self._sku_id(rng)
                sku_ids.append(sku)
                desc = t.desc.replace("{price}", _price_str(int(lup[i, g])))
                od = self._price_id(rng, sku, "OnDemand" if t.pcat == 0 else "Spot")
                cm = self._price_id(rng, sku, "Committed")
                price_ids += [od, cm]
                descs += [desc, desc + " (commitment discount applied)"]
        self.s_sku = pa.array(sku_ids, pa.string())
        self.s_price_id = pa.array(price_ids, pa.string())
        self.s_desc = pa.array(descs, pa.string())
        self.s_region_id = pa.array([r.id for r in pd.regions], pa.string())
        self.s_region_name = pa.array([r.name for r in pd.regions], pa.string())
        self.s_acct_id = pa.array([a.id for a in pd.accounts], pa.string())
        self.s_acct_name = pa.array([a.name for a in pd.accounts], pa.string())
        self.zones = [z for r in pd.regions for z in r.zones]
        self.zone_offset = np.cumsum([0] + [len(r.zones) for r in pd.regions])[:-1]
        self.s_zones = pa.array(self.zones, pa.string())

    def _sku_id(self, rng) -> str:
        style = self.pd.sku_style
        if style == "aws":
            return _hex_np(rng, 1, 16, upper=True)[0].decode().translate(str.maketrans("0123456789", "GHJKMNPQRS"))
        if style == "azure":
            return "DZH318Z0" + _hex_np(rng, 1, 4, upper=True)[0].decode()
        h = _hex_np(rng, 1, 12, upper=True)[0].decode()
        return f"{h[:4]}-{h[4:8]}-{h[8:]}"

    def _price_id(self, rng, sku: str, term: str) -> str:
        style = self.pd.sku_style
        if style == "aws":
            code = {"OnDemand": "JRTCKXETXF", "Spot": "SPOTXETXF0", "Committed": "4NA7Y494T4"}[term]
            return f"{sku}.{code}.6YS6EN2CT7"
        if style == "azure":
            return f"{sku}/{_hex_np(rng, 1, 4, upper=True)[0].decode()}/{term}"
        return f"{sku}/{term.lower()}"

    # ---- row targets ----------------------------------------------------------------------------
    def _targets(self) -> None:
        cal, spec = self.cal, self.spec
        w = np.array([_GROWTH**m for m in range(cal.months)])
        total = spec.rows * _SHARES[self.pidx]
        self.target = [int(round(total * wm / w.sum())) for wm in w]
        self.est_daily = [max(1.0, self.target[m] / cal.month_days[m] - len(self.pd.commits))
                          for m in range(cal.months)]

    # ---- month-end row count (known before the month is generated) ------------------------------
    def month_end_count(self, m: int) -> int:
        n = len(self._purchase_rows(m, dry=True))
        n += 1  # support
        n += 1  # credit
        n += 1 if m == min(1, self.cal.months - 1) else 0  # correction
        n += self.A  # tax rows (one per sub-account with charges)
        return n

    def invoice_id(self, m: int) -> str:
        ms = self.cal.month_starts[m]
        n = (self.spec.seed * 7919 + self.pidx * 104729 + ms.year * 13 + ms.month) % 10**8
        return self.pd.invoice_fmt.format(yy=ms.year % 100, mm=f"{ms.month:02d}", n=n * 37 % 10**8)
