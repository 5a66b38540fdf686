"""A commitment's term, from what its FOCUS rows state — and, when nothing states it, an assumed term
that is never silent.

Where the term is read, in this order (the first that states one wins):

1. ``SkuPriceDetails`` keys naming a term: ``x_Term`` (the converters write the provider's term
   there: AWS ``pricing/LeaseContractLength`` / ``savingsPlan/PurchaseTerm`` as ``1yr`` / ``3yr``),
   then any other key containing "term" (``Term``). A bare number is months (Azure's ``Term``
   column counts months); text may say ``1 Year``, ``3 Years``, ``3yr``, ``36 Months``, ``P3Y``.
2. Term text elsewhere in ``SkuPriceDetails``, then in a ``ChargeDescription``.
3. A One-Time purchase row whose charge period spans whole months (FOCUS purchase scenario 1).
4. The commitment's own start and end dates (``x_CommitmentDiscountStart`` /
   ``x_CommitmentDiscountEnd``, which the AWS converter carries from ``reservation/StartTime`` …
   ``EndTime``) when they lie within two days of a whole number of months.

When none does, the caller's default term is used and the commitment's ``term_source`` is
``"assumed"``: :func:`assumed_term_warnings` words the warning the close and the CLI print, because an
auditor must see every amortization that rests on an assumption (a 3-year reservation amortized over
12 months triples the monthly expense and ends two years early).
"""

from __future__ import annotations

import datetime as dt
import json
import re

from finops_xl.months import edate as add_months

#: ``term_source`` of a term no row states.
ASSUMED = "assumed"

_TERM_RE = re.compile(r"\b(\d+)\s*-?\s*(years?|yrs?|months?|mos?)\b|\bP(\d+)([YM])\b", re.IGNORECASE)


def _months_in(text: str) -> int | None:
    hit = _TERM_RE.search(text)
    if not hit:
        return None
    n, unit = (hit.group(1), hit.group(2)) if hit.group(1) else (hit.group(3), hit.group(4))
    return int(n) * (12 if unit[0].lower() == "y" else 1)


def _from_details(details: str | None) -> tuple[int, str] | None:
    if not details:
        return None
    try:
        obj = json.loads(details)
    except (ValueError, TypeError):
        obj = None
    if isinstance(obj, dict):
        keys = sorted((k for k in obj if "term" in k.lower()), key=lambda k: (k != "x_Term", k))
        for key in keys:
            value = obj[key]
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 1:
                return int(value), key
            text = str(value).strip()
            if text.isdigit() and int(text) >= 1:
                return int(text), key
            months = _months_in(text)
            if months:
                return months, key
    months = _months_in(details)
    return (months, "SkuPriceDetails") if months else None


def whole_months(a: dt.datetime | None, b: dt.datetime | None) -> int | None:
    """``b − a`` in whole calendar months, if it is exactly that (a One-Time row spanning the term)."""
    if a is None or b is None:
        return None
    n = (b.year - a.year) * 12 + b.month - a.month
    return n if n >= 1 and add_months(a.date(), n) == b.date() and a.time() == b.time() else None


def _date(text) -> dt.date | None:
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    try:
        return dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def months_between(start, end, *, slack_days: int = 2) -> int | None:
    """Whole months from ``start`` to ``end`` (dates or ISO text) when ``end`` lies within
    ``slack_days`` of that many months after ``start`` (AWS ends a term a second before its
    anniversary); else None."""
    a, b = _date(start), _date(end)
    if a is None or b is None or b <= a:
        return None
    n = round(((b.year - a.year) * 12 + b.month - a.month) + (b.day - a.day) / 30)
    if n >= 1 and abs((add_months(a, n) - b).days) <= slack_days:
        return n
    return None


def term_of(*, details: str | None, descriptions: tuple[str | None, ...] = (),
            one_time_period: tuple[dt.datetime | None, dt.datetime | None] = (None, None),
            dates: tuple = (None, None)) -> tuple[int, str] | None:
    """(term in months, where it was read) from a commitment's rows, or None when nothing states it
    (see the module docstring for the order)."""
    found = _from_details(details)
    if found:
        return found
    for text in descriptions:
        months = _months_in(text or "")
        if months:
            return months, "ChargeDescription"
    months = whole_months(*one_time_period)
    if months:
        return months, "One-Time charge period"
    months = months_between(*dates)
    if months:
        return months, "commitment dates"
    return None


def assumed_term_warnings(commitments) -> list[str]:
    """One line per commitment whose term no row states (``term_source == "assumed"``), naming the
    commitment, the months assumed and what would state it."""
    return [
        f"warning: commitment {c.id} ({c.provider} {c.type}): no row states its term; "
        f"{c.term_months} months assumed. Load an export that carries the term (AWS "
        f"pricing/LeaseContractLength or savingsPlan/PurchaseTerm, Azure Term) or check it "
        f"against the purchase contract"
        for c in commitments if getattr(c, "term_source", "") == ASSUMED
    ]
