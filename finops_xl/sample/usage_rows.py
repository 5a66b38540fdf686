"""One provider-day of usage rows: live resources chosen to hit the month's row target, their quantities and
costs, and the day's commitment coverage (FOCUS usage scenario 4 splits, Unused rows)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from finops_xl.sample.catalog import _PCAT
from finops_xl.sample.spec import FOCUS_COLUMNS, SCHEMA, TIMESTAMP_TYPE, _Q4
from finops_xl.sample.values import _dec, _take
from finops_xl.sample.window import _MonthAcc


class _UsageRows:
    """The daily usage rows of a provider, as Arrow tables."""

    def select(self, d: int, n: int) -> np.ndarray:
        nb = self.n_base
        if n <= 0:
            return np.zeros(0, np.int64)
        alive = (self.pool["start"][:nb] <= d) & (self.pool["end"][:nb] > d)
        cs = np.cumsum(alive)
        if n >= cs[-1]:
            return np.flatnonzero(alive)
        cut = int(np.searchsorted(cs, n, "left"))
        return np.flatnonzero(alive[: cut + 1])

    def spike_rows(self, d: int) -> np.ndarray:
        nb = self.n_base
        s = self.pool["start"][nb:]
        e = self.pool["end"][nb:]
        return nb + np.flatnonzero((s <= d) & (e > d))

    def day(self, d: int, r: np.ndarray, acc: _MonthAcc) -> tuple[pa.Table, list[dict]]:
        pool, cal = self.pool, self.cal
        rng = np.random.default_rng([self.spec.seed % 2**63, self.pidx, d])
        n = len(r)
        m = int(cal.month_of_day[d])
        dim = cal.month_days[m]
        weekend = bool(cal.weekend[d])
        wk = 0.7 if weekend else 1.0
        t = pool["tmpl"][r]
        kind = self.kind[t]
        base = pool["base"][r]
        # quantities (q4 = 1e-4 units)
        hours = np.where(pool["dev"][r], 2.0 if weekend else 12.0, 24.0)
        asg_h = rng.integers(16, 97, size=n) / 4.0
        hours = np.where(pool["asg"][r], asg_h, hours)
        hours_q4 = np.rint(hours * _Q4).astype(np.int64)
        stor_q4 = np.rint(base * (1 + 0.003 * d) * _Q4 / dim).astype(np.int64)
        vol_q4 = np.maximum(1, np.rint(base * rng.lognormal(0.0, 0.35, n) * wk * _Q4)).astype(np.int64)
        cnt = np.maximum(1, np.rint(base * rng.lognormal(0.0, 0.4, n) * wk)).astype(np.int64)
        pqd = self.pq_div[t]  # divides 10**4, so cnt * 10**4 // pqd is exact
        cnt_c4 = cnt * _Q4
        c4 = np.select([kind == 0, kind == 1, kind == 2], [hours_q4, stor_q4, vol_q4], cnt_c4)
        q4 = np.select([kind == 0, kind == 1, kind == 2], [hours_q4, stor_q4, vol_q4], cnt_c4 // pqd)
        lup = self.lup_r[r]
        cup = self.cup_r[r]
        if n and float((lup.astype(np.float64) * q4).max()) >= 9.0e18:
            raise OverflowError("sample row cost out of int64 range")
        list12 = lup * q4
        con12 = cup * q4
        eff12 = con12.copy()
        bill12 = con12.copy()
        pcat = self.tpcat[t].astype(np.int64)
        commit = np.full(n, -1, np.int64)
        cdq = np.zeros(n, np.int64)
        tg = self.tg_r[r]
        g = pool["region"][r]
        extra: list[dict] = []
        splits: list[tuple[int, int, int, int, int]] = []
        for c in self.commits:
            if not (c.start <= d < c.end):
                continue
            e = c.elig_tmpl[t] & (commit < 0) & (pcat == 0)
            if c.d.region >= 0:
                e &= g == c.d.region
            idx = np.flatnonzero(e)
            cap = c.cap_daily()
            if c.spend:
                w = c.sp8[tg[idx]] * q4[idx]
            else:
                w = q4[idx] * c.norm[t[idx]]
            order = np.argsort(w, kind="stable")  # smallest rows first: one big row can't block the rest
            idx, w = idx[order], w[order]
            cs = np.cumsum(w)
            fit = cs <= cap
            sel = idx[fit]
            n_fit = int(fit.sum())
            used = int(cs[n_fit - 1]) if n_fit else 0
            if c.spend:
                eff12[sel] = w[fit]
                cdq[sel] = w[fit]
            else:
                eff12[sel] = c.rate8 * w[fit]
                cdq[sel] = w[fit] * 10**8
            bill12[sel] = 0
            commit[sel] = c.index
            pcat[sel] = 2
            if n_fit < len(idx):
                # FOCUS usage scenario 4: the first row that does not fit is split into a covered part
                # (new row, Committed) and the on-demand remainder (this row, quantities reduced).
                j = int(idx[n_fit])
                unit = int(c.sp8[tg[j]]) if c.spend else int(c.norm[t[j]])
                rem = cap - used  # capacity left; less than this row needs
                q_cov = rem // unit
                if q_cov > 0:
                    # the covered part also absorbs the sub-unit rounding remainder (no dust "Unused" rows)
                    splits.append((j, q_cov, c.index, rem if c.spend else c.rate8 * rem,
                                   rem if c.spend else rem * 10**8))
                    used = cap
                    q4[j] -= q_cov
                    c4[j] = q4[j] * pqd[j]
                    list12[j] = lup[j] * q4[j]
                    con12[j] = cup[j] * q4[j]
                    eff12[j] = con12[j]
                    bill12[j] = con12[j]
                elif n_fit > 0:  # less than one unit left: fold it into the last covered row
                    k = int(idx[n_fit - 1])
                    eff12[k] += rem if c.spend else c.rate8 * rem
                    cdq[k] += rem if c.spend else rem * 10**8
                    used = cap
            if c.spend:
                unused_raw = cap - used
                unused_q = unused_raw
                c.used_total += used
            else:
                unused_raw = c.rate8 * (cap - used)
                unused_q = (cap - used) * 10**8
                c.used_total += c.rate8 * used
            if unused_raw > 0:
                c.unused_total += unused_raw
                extra.append(self._unused_row(c, d, unused_raw, unused_q))
        if splits:
            js, qs, ks, es, cq = (np.array(v, np.int64) for v in zip(*splits))
            r, t, g, tg = (np.concatenate([a, a[js]]) for a in (r, t, g, tg))
            lup, cup = np.concatenate([lup, lup[js]]), np.concatenate([cup, cup[js]])
            q4 = np.concatenate([q4, qs])
            c4 = np.concatenate([c4, qs * pqd[js]])
            list12 = np.concatenate([list12, lup[n:] * qs])
            con12 = np.concatenate([con12, cup[n:] * qs])
            eff12 = np.concatenate([eff12, es])
            bill12 = np.concatenate([bill12, np.zeros(len(js), np.int64)])
            pcat = np.concatenate([pcat, np.full(len(js), 2, np.int64)])
            commit = np.concatenate([commit, ks])
            cdq = np.concatenate([cdq, cq])
            n = len(r)
        acct = pool["acct"][r]
        acc.add(acct, bill12, eff12, list12, con12, self.A)
        committed = commit >= 0
        tg2 = tg * 2 + committed
        bp_s, bp_e = cal.dt(cal.month_first_day[m]), cal.dt(cal.month_first_day[m + 1])
        cp_s, cp_e = cal.dt(d), cal.dt(d + 1)
        rep = lambda v, typ=pa.string(): pa.repeat(pa.scalar(v, type=typ), n)  # noqa: E731
        eff_a = _dec(eff12)
        lup_a = _dec(lup, 8)
        cup_a = _dec(cup, 8)
        cols = {
            "AvailabilityZone": _take(self.s_zones, pool["az"][r]),
            "BilledCost": _dec(bill12),
            "BillingAccountId": rep(self.pd.billing_account_id),
            "BillingAccountName": rep(self.pd.billing_account_name),
            "BillingAccountType": rep(self.pd.billing_account_type),
            "BillingCurrency": rep("USD"),
            "BillingPeriodEnd": rep(bp_e, TIMESTAMP_TYPE),
            "BillingPeriodStart": rep(bp_s, TIMESTAMP_TYPE),
            "CapacityReservationId": _take(self.s_cr_id, self.cr_idx[r]),
            "CapacityReservationStatus": _take(self.s_cr_status, self.cr_idx[r]),
            "ChargeCategory": rep("Usage"),
            "ChargeClass": pa.nulls(n, pa.string()),
            "ChargeDescription": _take(self.s_desc, tg2),
            "ChargeFrequency": rep("Usage-Based"),
            "ChargePeriodEnd": rep(cp_e, TIMESTAMP_TYPE),
            "ChargePeriodStart": rep(cp_s, TIMESTAMP_TYPE),
            "CommitmentDiscountCategory": _take(self.s_cd_cat, commit),
            "CommitmentDiscountId": _take(self.s_cd_id, commit),
            "CommitmentDiscountName": _take(self.s_cd_name, commit),
            "CommitmentDiscountQuantity": _dec(cdq, 12, valid=committed),
            "CommitmentDiscountStatus": _take(self.s_cd_status, commit),
            "CommitmentDiscountType": _take(self.s_cd_type, commit),
            "CommitmentDiscountUnit": _take(self.s_cd_unit, commit),
            "ConsumedQuantity": _dec(c4, 4),
            "ConsumedUnit": _take(self.s_cunit, t),
            "ContractedCost": _dec(con12),
            "ContractedUnitPrice": cup_a,
            "EffectiveCost": eff_a,
            "InvoiceId": rep(self.invoice_id(m)),
            "InvoiceIssuerName": rep(self.pd.issuer),
            "ListCost": _dec(list12),
            "ListUnitPrice": lup_a,
            "PricingCategory": _take(pa.array(_PCAT), pcat),
            "PricingCurrency": rep("USD"),
            "PricingCurrencyContractedUnitPrice": cup_a,
            "PricingCurrencyEffectiveCost": eff_a,
            "PricingCurrencyListUnitPrice": lup_a,
            "PricingQuantity": _dec(q4, 4),
            "PricingUnit": _take(self.s_punit, t),
            "ProviderName": rep(self.pd.provider),
            "PublisherName": rep(self.pd.publisher),
            "RegionId": _take(self.s_region_id, g),
            "RegionName": _take(self.s_region_name, g),
            "ResourceId": _take(self.s_res_id, r),
            "ResourceName": _take(self.s_res_name, r),
            "ResourceType": _take(self.s_rtype, t),
            "ServiceCategory": _take(self.s_category, t),
            "ServiceName": _take(self.s_service, t),
            "ServiceSubcategory": _take(self.s_subcategory, t),
            "SkuId": _take(self.s_sku, tg),
            "SkuMeter": _take(self.s_meter, t),
            "SkuPriceDetails": _take(self.s_details, t),
            "SkuPriceId": _take(self.s_price_id, tg2),
            "SubAccountId": _take(self.s_acct_id, acct),
            "SubAccountName": _take(self.s_acct_name, acct),
            "SubAccountType": rep(self.pd.sub_account_type),
            "Tags": _take(self.s_tags, r),
        }
        return pa.Table.from_arrays([cols[c] for c in FOCUS_COLUMNS], schema=SCHEMA), extra
