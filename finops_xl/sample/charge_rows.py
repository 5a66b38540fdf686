"""The rows that are not daily resource usage: commitment Unused and Purchase rows, the planted resources,
and the month-end support, credit, correction and tax rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

from finops_xl.sample.commitments import _Commit
from finops_xl.sample.spec import _Q4, _R12
from finops_xl.sample.values import _add_months, _cents, _dec_py, _json, _p8, _raw
from finops_xl.sample.window import _MonthAcc


class _ChargeRows:
    """A provider's rows built one by one (Python dicts), each on the common billing fields."""

    def _base_row(self, m: int, cp_s: int, cp_e: int, acct: int) -> dict:
        cal = self.cal
        return {
            "BillingAccountId": self.pd.billing_account_id,
            "BillingAccountName": self.pd.billing_account_name,
            "BillingAccountType": self.pd.billing_account_type,
            "BillingCurrency": "USD",
            "BillingPeriodStart": cal.dt(cal.month_first_day[m]),
            "BillingPeriodEnd": cal.dt(cal.month_first_day[m + 1]),
            "ChargePeriodStart": cal.dt(cp_s),
            "ChargePeriodEnd": cal.dt(cp_e),
            "InvoiceId": self.invoice_id(m),
            "InvoiceIssuerName": self.pd.issuer,
            "PricingCurrency": "USD",
            "ProviderName": self.pd.provider,
            "PublisherName": self.pd.publisher,
            "SubAccountId": self.pd.accounts[acct].id,
            "SubAccountName": self.pd.accounts[acct].name,
            "SubAccountType": self.pd.sub_account_type,
        }

    def _commit_common(self, c: _Commit) -> dict:
        reg = self.pd.regions[c.d.region].id if c.d.region >= 0 else None
        return {
            "CommitmentDiscountCategory": c.d.category,
            "CommitmentDiscountId": c.cid,
            "CommitmentDiscountName": c.name,
            "CommitmentDiscountType": c.d.ctype,
            "CommitmentDiscountUnit": c.d.unit,
            "RegionId": reg,
            "RegionName": self.pd.regions[c.d.region].name if reg else None,
            "ResourceId": c.cid,
            "ResourceName": c.name,
            "ResourceType": c.d.ctype,
            "ServiceCategory": c.d.category_svc,
            "ServiceName": c.d.service,
            "ServiceSubcategory": c.d.subcategory_svc,
            "SkuId": c.sku_id,
            "SkuMeter": "Commitment",
            "SkuPriceId": c.sku_price_id,
            "SkuPriceDetails": _json({"Term": f"{c.d.term_years} Year{'s' if c.d.term_years > 1 else ''}",
                                      "PaymentOption": c.d.payment}),
        }

    def _unused_row(self, c: _Commit, d: int, raw: int, qty_raw: int) -> dict:
        m = int(self.cal.month_of_day[d])
        row = self._base_row(m, d, d + 1, c.acct)
        row.update(self._commit_common(c))
        z = _dec_py(0)
        row.update({
            "BilledCost": z, "ContractedCost": z, "ListCost": z,
            "EffectiveCost": _dec_py(raw), "PricingCurrencyEffectiveCost": _dec_py(raw),
            "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "PricingCategory": "Committed",
            "ChargeDescription": f"Unused {c.d.ctype} commitment: {c.name}",
            "CommitmentDiscountStatus": "Unused", "CommitmentDiscountQuantity": _dec_py(qty_raw),
        })
        return row

    def _purchase_rows(self, m: int, dry: bool = False) -> list[dict]:
        cal = self.cal
        rows: list[dict] = []
        ms, me = cal.month_first_day[m], cal.month_first_day[m + 1]
        for c in self.commits:
            a, b = max(c.start, ms), min(c.end, me)
            if c.up8 > 0 and ms <= c.start < me:
                w_hours = (min(c.end, cal.total_days) - c.start) * 24
                rows.append(self._purchase_row(c, m, c.start, c.start + 1, c.up8, w_hours, "One-Time", dry))
            if c.rec8 > 0 and b > a:
                rows.append(self._purchase_row(c, m, a, b, c.rec8, (b - a) * 24, "Recurring", dry))
        return rows

    def _purchase_row(self, c: _Commit, m: int, s: int, e: int, price8: int, hours: int, freq: str,
                      dry: bool) -> dict:
        if dry:
            return {}
        qty_q4 = c.units * hours * _Q4
        amount = price8 * qty_q4
        c.purchased_total += amount
        row = self._base_row(m, s, e, c.acct)
        row.update(self._commit_common(c))
        term_days = c.end - c.start
        if freq == "One-Time":
            in_window = min(c.end, self.cal.total_days) - c.start
            desc = (f"{c.d.payment} fee for {c.name}: share of the upfront payment amortised inside this "
                    f"dataset's window ({in_window} of {term_days} days of the term)")
        else:
            desc = f"Monthly recurring fee for {c.name}"
        p = _dec_py(price8 * 10**4)
        amt = _dec_py(amount)
        row.update({
            "BilledCost": amt, "ContractedCost": amt, "ListCost": amt, "EffectiveCost": _dec_py(0),
            "PricingCurrencyEffectiveCost": _dec_py(0),
            "ListUnitPrice": p, "ContractedUnitPrice": p, "PricingCurrencyListUnitPrice": p,
            "PricingCurrencyContractedUnitPrice": p,
            "PricingQuantity": _dec_py(qty_q4 * 10**8), "PricingUnit": "Hours",
            "ChargeCategory": "Purchase", "ChargeFrequency": freq, "PricingCategory": "Standard",
            "ChargeDescription": desc,
            "CommitmentDiscountQuantity": _dec_py(amount if c.spend else qty_q4 * 10**8),
        })
        return row

    def planted_rows(self, m: int, acc: _MonthAcc) -> list[dict]:
        """The month's rows of the planted resources (``planted.py``), one per stream per day."""
        from finops_xl.sample import planted

        cal = self.cal
        first, end = cal.month_first_day[m], cal.month_first_day[m + 1]
        change = planted.change_day(cal.month_days, cal.month_first_day)
        rows = []
        for s in planted.planted_streams(self.pd.code):
            a = self.acct_by_name[s.account[1]]
            price8 = _p8(s.price)
            details = _json(s.details) if s.details else None
            tags = planted.tags_json(s)
            for d in planted.stream_days(s, first, end, change):
                q = planted.daily_quantity(s, (cal.start + datetime.timedelta(days=d)), cal.month_days[m], m)
                q4 = int(q * _Q4)
                amount = price8 * q4
                row = self._base_row(m, d, d + 1, a)
                money = _dec_py(amount)
                price = _dec_py(price8 * 10**4)
                row.update({
                    "AvailabilityZone": s.zone, "BilledCost": money, "EffectiveCost": money, "ListCost": money,
                    "ContractedCost": money, "PricingCurrencyEffectiveCost": money,
                    "ListUnitPrice": price, "ContractedUnitPrice": price, "PricingCurrencyListUnitPrice": price,
                    "PricingCurrencyContractedUnitPrice": price,
                    "PricingQuantity": _dec_py(q4 * 10**8), "ConsumedQuantity": _dec_py(q4 * 10**8),
                    "PricingUnit": s.unit, "ConsumedUnit": s.unit, "ChargeCategory": "Usage",
                    "ChargeFrequency": "Usage-Based", "PricingCategory": "Standard",
                    "ChargeDescription": f"${s.price} per {s.unit[:-1] if s.unit.endswith('s') else s.unit} "
                                         f"- {s.meter}",
                    "ServiceName": s.service, "ServiceCategory": s.category, "ServiceSubcategory": s.subcategory,
                    "SkuId": f"PLANTED-{s.meter.upper().replace(' ', '-')}", "SkuMeter": s.meter,
                    "SkuPriceId": f"PLANTED-{s.meter.upper().replace(' ', '-')}-{s.price}",
                    "SkuPriceDetails": details, "RegionId": s.region[0], "RegionName": s.region[1],
                    "ResourceId": s.resource_id, "ResourceName": s.resource_name, "ResourceType": s.resource_type,
                    "Tags": tags,
                })
                rows.append(row)
                acc.add_py(a, amount, amount, amount, amount)
        return rows

    def month_end_rows(self, m: int, acc: _MonthAcc) -> list[dict]:
        cal, pd = self.cal, self.pd
        ms, me = cal.month_first_day[m], cal.month_first_day[m + 1]
        rows = self._purchase_rows(m)
        for row in rows:
            a = self.acct_by_name[row["SubAccountName"]]
            acc.add_py(a, _raw(row["BilledCost"]), 0, _raw(row["ListCost"]), _raw(row["ContractedCost"]))
        usage_total = sum(acc.con)
        # support (Purchase, Recurring, not amortised: EffectiveCost = BilledCost)
        if pd.code == "aws":
            tiers = ((10_000, "0.10"), (80_000, "0.07"), (250_000, "0.05"), (None, "0.03"))
            left, prev, fee = Decimal(usage_total).scaleb(-12), 0, Decimal(0)
            for cap, rate in tiers:
                span = left if cap is None else min(left, Decimal(cap - prev))
                if span <= 0:
                    break
                fee += span * Decimal(rate)
                left -= span
                prev = cap if cap is not None else prev
            fee = max(fee, Decimal(100))
        elif pd.code == "azure":
            fee = max(Decimal(100), Decimal(usage_total).scaleb(-12) * Decimal("0.03"))
        else:
            fee = max(Decimal(29), Decimal(usage_total).scaleb(-12) * Decimal("0.03"))
        fee_raw = _cents(fee.scaleb(12))
        row = self._base_row(m, ms, me, self.mgmt)
        f = _dec_py(fee_raw)
        row.update({
            "BilledCost": f, "EffectiveCost": f, "ListCost": f, "ContractedCost": f,
            "PricingCurrencyEffectiveCost": f, "ListUnitPrice": f, "ContractedUnitPrice": f,
            "PricingCurrencyListUnitPrice": f, "PricingCurrencyContractedUnitPrice": f,
            "PricingQuantity": _dec_py(_R12), "PricingUnit": "Months", "ConsumedQuantity": _dec_py(_R12),
            "ConsumedUnit": "Months", "ChargeCategory": "Purchase", "ChargeFrequency": "Recurring",
            "PricingCategory": "Standard", "ChargeDescription": f"{pd.support_service} - monthly support fee",
            "ServiceName": pd.support_service, "ServiceCategory": "Management and Governance",
            "ServiceSubcategory": "Support", "SkuId": f"{pd.code.upper()}-SUPPORT", "SkuMeter": "Support",
            "SkuPriceId": f"{pd.code.upper()}-SUPPORT-MONTHLY",
        })
        rows.append(row)
        acc.add_py(self.mgmt, fee_raw, fee_raw, fee_raw, fee_raw)
        # credit (negative, on one sub-account)
        ca = self.acct_by_name[pd.credit_account]
        amount = -_cents(Decimal(acc.eff[ca]) * Decimal(pd.credit_share))
        row = self._base_row(m, ms, me, ca)
        a = _dec_py(amount)
        svc, cat, sub = pd.credit_service
        row.update({
            "BilledCost": a, "EffectiveCost": a, "ListCost": a, "ContractedCost": a,
            "PricingCurrencyEffectiveCost": a, "ChargeCategory": "Credit", "ChargeFrequency": "One-Time",
            "ChargeDescription": pd.credit_desc, "ServiceName": svc, "ServiceCategory": cat,
            "ServiceSubcategory": sub,
        })
        rows.append(row)
        acc.add_py(ca, amount, amount, amount, amount)
        # correction of the previous month (negative re-rate of data transfer)
        if m == min(1, cal.months - 1):
            ti = self.tkey[pd.correction_template]
            big = max(range(self.A), key=lambda i: acc.con[i])
            lup, cup = int(self.lup8[ti, 0]), int(self.cup8[ti, 0])
            q4 = -max(_Q4, int(round(sum(acc.con) * 0.004 / max(cup, 1))) // _Q4 * _Q4)
            prev = cal.month_starts[m - 1] if m >= 1 else _add_months(cal.start, -1)
            t = pd.templates[ti]
            row = self._base_row(m, ms, ms + 1, big)
            row.update({
                "BilledCost": _dec_py(cup * q4), "EffectiveCost": _dec_py(cup * q4),
                "PricingCurrencyEffectiveCost": _dec_py(cup * q4), "ListCost": _dec_py(lup * q4),
                "ContractedCost": _dec_py(cup * q4), "ListUnitPrice": _dec_py(lup * 10**4),
                "PricingCurrencyListUnitPrice": _dec_py(lup * 10**4), "ContractedUnitPrice": _dec_py(cup * 10**4),
                "PricingCurrencyContractedUnitPrice": _dec_py(cup * 10**4), "PricingQuantity": _dec_py(q4 * 10**8),
                "ConsumedQuantity": _dec_py(q4 * 10**8), "PricingUnit": t.punit, "ConsumedUnit": t.cunit,
                "ChargeCategory": "Usage", "ChargeClass": "Correction", "ChargeFrequency": "Usage-Based",
                "PricingCategory": "Standard",
                "ChargeDescription": f"Correction for {prev:%Y-%m}: {t.meter} over-billed (re-rated)",
                "ServiceName": t.service, "ServiceCategory": t.category, "ServiceSubcategory": t.subcategory,
                "SkuId": self.s_sku[ti * self.G].as_py(), "SkuMeter": t.meter,
                "SkuPriceId": self.s_price_id[(ti * self.G) * 2].as_py(),
                "RegionId": pd.regions[0].id, "RegionName": pd.regions[0].name,
            })
            rows.append(row)
            acc.add_py(big, cup * q4, cup * q4, lup * q4, cup * q4)
        # tax per sub-account on that account's charges of the month
        rate = Decimal(pd.tax_rate)
        for ai in range(self.A):
            if acc.bill[ai] == 0 and acc.eff[ai] == 0:
                continue
            row = self._base_row(m, ms, me, ai)
            vals = {k: _dec_py(_cents(Decimal(v) * rate)) for k, v in
                    (("BilledCost", acc.bill[ai]), ("EffectiveCost", acc.eff[ai]), ("ListCost", acc.lst[ai]),
                     ("ContractedCost", acc.con[ai]))}
            row.update(vals)
            row.update({
                "PricingCurrencyEffectiveCost": vals["EffectiveCost"], "ChargeCategory": "Tax",
                "ChargeFrequency": "Recurring", "ChargeDescription": f"Sales tax ({rate * 100:.2f}%)",
                "ServiceName": "Tax", "ServiceCategory": "Other", "ServiceSubcategory": "Other (Other)",
            })
            rows.append(row)
        return rows
