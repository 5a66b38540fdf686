"""Excel-parity finance functions: ``xnpv``, ``xirr``, ``irr`` and ``mirr`` behave exactly like the Excel
built-ins of the same name; NPV has two conventions, so it has two names: ``npv_excel`` (Excel's ``NPV``: the
first value is one period out) and ``npv_t0`` (numpy-financial's ``npv``: the first value is at time 0).
There is deliberately no bare ``npv``.

The conventions (signs, rates as fractions, Decimal money, 365-day years) are stated once, in
``valuation.py``, which uses these functions to value commitment purchases and re-exports them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, localcontext

from finops_xl.money import to_decimal as _dec

try:  # a compiled wheel; xlwings Lite (Pyodide) has none, so a pure-Python solver stands in
    import pyxirr
except ImportError:  # pragma: no cover - exercised by the no-pyxirr test in a subprocess
    pyxirr = None

__all__ = ["irr", "mirr", "npv_excel", "npv_t0", "xirr", "xnpv"]

ZERO = Decimal(0)
ONE = Decimal(1)
_PRECISION = 34  # significant digits for the Decimal discounting arithmetic


# --------------------------------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------------------------------


def _values(values: Iterable[object], name: str = "values") -> list[Decimal]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a sequence of numbers, got {type(values).__name__}")  # noqa: TRY004 - bad input is a ValueError here
    out = [_dec(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if not out:
        raise ValueError(f"{name} is empty: at least one cash flow is required")
    return out


def _rate(rate: object, name: str = "rate") -> Decimal:
    r = _dec(rate, name)
    if r <= -1:
        raise ValueError(f"{name} must be greater than -1 (-100%), got {rate!r}")
    return r


def _date(x: object, name: str) -> date:
    if isinstance(x, datetime):
        return x.date()
    if isinstance(x, date):
        return x
    raise ValueError(f"{name} must be a date, got {type(x).__name__} {x!r}")


def _dates(dates: Iterable[object], n: int) -> list[date]:
    if isinstance(dates, (str, bytes)) or not isinstance(dates, Iterable):
        raise ValueError(f"dates must be a sequence of dates, got {type(dates).__name__}")  # noqa: TRY004 - bad input is a ValueError here
    ds = [_date(d, f"dates[{i}]") for i, d in enumerate(dates)]
    if len(ds) != n:
        raise ValueError(f"values and dates differ in length: {n} values, {len(ds)} dates")
    for i, d in enumerate(ds[1:], start=1):
        if d < ds[0]:
            raise ValueError(
                f"dates out of order: dates[{i}] = {d.isoformat()} precedes the first date "
                f"dates[0] = {ds[0].isoformat()} (Excel returns #NUM!); the first date must be the earliest"
            )
    return ds


def _finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


# --------------------------------------------------------------------------------------------------
# Excel-parity functions
# --------------------------------------------------------------------------------------------------


def xnpv(rate: object, values: Sequence[object], dates: Sequence[object]) -> Decimal:
    """Net present value of dated cash flows, exactly like Excel's ``XNPV``.

    Parameters
    ----------
    rate : Decimal, int, str or float
        Annual discount rate as a fraction (``0.09`` for 9%); must be greater than -1.
    values : sequence of numbers
        Cash flows, outflows negative. Zeros count (they anchor a date).
    dates : sequence of datetime.date
        One date per value. ``dates[0]`` is the valuation date: every other date must be on or after it
        (the rest may be in any order, as in Excel).

    Returns
    -------
    Decimal
        The present value at ``dates[0]``.

    Raises
    ------
    ValueError
        Empty ``values``; lengths differ; a date precedes ``dates[0]`` (Excel: ``#NUM!``);
        ``rate <= -1``; a value that is not a finite number.

    Notes
    -----
    .. math:: XNPV = \\sum_{i} \\frac{v_i}{(1 + rate)^{(d_i - d_0)/365}}

    with :math:`d_i - d_0` in whole days. Computed in Decimal arithmetic (34 significant digits), so it
    agrees with Excel's double-precision result to Excel's 15 significant digits.

    References
    ----------
    Microsoft, "XNPV function", https://support.microsoft.com/en-us/office/xnpv-function-1b42bbf6-370f-4532-a0eb-d67c16b664b7

    Examples
    --------
    Microsoft's example: 9%, -10,000 on 2008-01-01, then 2,750 / 4,250 / 3,250 / 2,750
    (Excel: 2086.647602031535).

    >>> from datetime import date
    >>> d = [date(2008, 1, 1), date(2008, 3, 1), date(2008, 10, 30), date(2009, 2, 15), date(2009, 4, 1)]
    >>> round(xnpv("0.09", [-10000, 2750, 4250, 3250, 2750], d), 9)
    Decimal('2086.647602032')
    >>> xnpv(0, [-100, 60, 60], [date(2024, 1, 1), date(2024, 6, 1), date(2025, 1, 1)])
    Decimal('20')
    """
    r = _rate(rate)
    vs = _values(values)
    ds = _dates(dates, len(vs))
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        base = ONE + r
        total = ZERO
        for v, d in zip(vs, ds):
            days = (d - ds[0]).days
            total += v if days == 0 else v / base ** (Decimal(days) / 365)
    return +total


def npv_excel(rate: object, values: Sequence[object]) -> Decimal:
    """Net present value with the first value one period out, exactly like Excel's ``NPV``.

    Parameters
    ----------
    rate : Decimal, int, str or float
        Discount rate per period, as a fraction; must be greater than -1.
    values : sequence of numbers
        Cash flows at the end of periods 1, 2, …, n; outflows negative.

    Returns
    -------
    Decimal

    Notes
    -----
    .. math:: NPV = \\sum_{i=1}^{n} \\frac{v_i}{(1 + rate)^{i}}

    Excel's convention: an investment made *now* is not part of ``values``; add it outside
    (``v0 + npv_excel(rate, rest)``). ``npv_excel(r, v) == npv_t0(r, v) / (1 + r)``. pyxirr calls this
    ``npv(..., start_from_zero=False)``.

    References
    ----------
    Microsoft, "NPV function", https://support.microsoft.com/en-us/office/npv-function-8672cb67-2576-4d07-b67b-ac28acf2a568

    Examples
    --------
    numpy's historical doctest: ``np.npv(0.05, [-15000, 1500, 2500, 3500, 4500, 6000])`` rounded to
    117.04 (numpy ≤ 1.16, Excel convention).

    >>> round(npv_excel("0.05", [-15000, 1500, 2500, 3500, 4500, 6000]), 2)
    Decimal('117.04')
    """
    return _discounted_sum(rate, values, first_period=1)


def npv_t0(rate: object, values: Sequence[object]) -> Decimal:
    """Net present value with the first value at time 0, like numpy-financial's ``npv``.

    Parameters
    ----------
    rate : Decimal, int, str or float
        Discount rate per period, as a fraction; must be greater than -1.
    values : sequence of numbers
        Cash flows at the *start* of periods 0, 1, …, n-1 (``values[0]`` is not discounted);
        outflows negative.

    Returns
    -------
    Decimal

    Notes
    -----
    .. math:: NPV_0 = \\sum_{i=0}^{n-1} \\frac{v_i}{(1 + rate)^{i}}

    Not Excel's ``NPV`` (see :func:`npv_excel`): ``npv_t0(r, v) == (1 + r) * npv_excel(r, v)``.

    References
    ----------
    numpy-financial, ``numpy_financial.npv``, https://numpy.org/numpy-financial/latest/npv.html

    Examples
    --------
    numpy-financial's test value (``tests/test_financial.py::TestNpv::test_npv``: 122.89):

    >>> round(npv_t0("0.05", [-15000, 1500, 2500, 3500, 4500, 6000]), 6)
    Decimal('122.894855')
    """
    return _discounted_sum(rate, values, first_period=0)


def _discounted_sum(rate: object, values: Sequence[object], *, first_period: int) -> Decimal:
    """Σ values[i] / (1 + rate)^(first_period + i), computed at ``_PRECISION`` digits."""
    r = _rate(rate)
    vs = _values(values)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        base = ONE + r
        total = sum((v / base**i for i, v in enumerate(vs, start=first_period)), ZERO)
    return +total


def _has_both_signs(vs: Sequence[Decimal]) -> bool:
    return any(v > 0 for v in vs) and any(v < 0 for v in vs)


def irr(values: Sequence[object]) -> float | None:
    """Internal rate of return of periodic cash flows, like Excel's ``IRR``.

    Parameters
    ----------
    values : sequence of numbers
        Cash flows at periods 0, 1, …, n-1, outflows negative; needs at least one negative and one
        positive value.

    Returns
    -------
    float or None
        The rate per period at which ``npv_t0(rate, values) == 0``; ``None`` where Excel shows
        ``#NUM!`` (no sign change, or the solver does not converge).

    Notes
    -----
    A root finder, so it runs in float64 (pyxirr, which follows Excel's algorithm and results);
    ``values`` are converted from Decimal to float for the solve. With several sign changes a cash flow
    can have several IRRs; like Excel, this returns the one the solver finds first (prefer
    :func:`mirr` or an NPV then).

    References
    ----------
    Microsoft, "IRR function", https://support.microsoft.com/en-us/office/irr-function-64925eaa-9988-495b-b290-3ad0c163c1bc

    Examples
    --------
    numpy-financial's test value (``TestIrr::test_basic_values``: 0.0524):

    >>> round(irr([-150000, 15000, 25000, 35000, 45000, 60000]), 4)
    0.0524
    >>> irr([100, 200]) is None
    True
    """
    vs = _values(values)
    if not _has_both_signs(vs):
        return None
    flows = [float(v) for v in vs]
    if pyxirr is None:
        return _solve(lambda r: sum(v / (1 + r) ** i for i, v in enumerate(flows)))
    try:
        return _finite_or_none(pyxirr.irr(flows))
    except pyxirr.InvalidPaymentsError:
        return None


def xirr(values: Sequence[object], dates: Sequence[object]) -> float | None:
    """Annual internal rate of return of dated cash flows, like Excel's ``XIRR``.

    Parameters
    ----------
    values : sequence of numbers
        Cash flows, outflows negative; needs at least one negative and one positive value.
    dates : sequence of datetime.date
        One per value; ``dates[0]`` must be the earliest (others in any order), as in Excel.

    Returns
    -------
    float or None
        The annual rate at which ``xnpv(rate, values, dates) == 0``; ``None`` where Excel shows
        ``#NUM!`` (no sign change, or no convergence).

    Raises
    ------
    ValueError
        Empty ``values``, lengths differ, or a date precedes ``dates[0]``.

    Notes
    -----
    Solves :math:`0 = \\sum_i v_i / (1 + r)^{(d_i - d_0)/365}` in float64 (pyxirr). Excel iterates
    "until the result is accurate within 0.000001 percent", so Excel's displayed digits can differ from
    the exact root in the 9th decimal.

    References
    ----------
    Microsoft, "XIRR function", https://support.microsoft.com/en-us/office/xirr-function-de1242ec-6477-445b-b11b-a303ad9adc9d

    Examples
    --------
    Microsoft's example (Excel: 0.373362535):

    >>> from datetime import date
    >>> d = [date(2008, 1, 1), date(2008, 3, 1), date(2008, 10, 30), date(2009, 2, 15), date(2009, 4, 1)]
    >>> round(xirr([-10000, 2750, 4250, 3250, 2750], d), 8)
    0.37336253
    """
    vs = _values(values)
    ds = _dates(dates, len(vs))
    if not _has_both_signs(vs):
        return None
    flows = [float(v) for v in vs]
    if pyxirr is None:
        years = [(d - ds[0]).days / 365 for d in ds]
        return _solve(lambda r: sum(v / (1 + r) ** t for v, t in zip(flows, years)))
    try:
        return _finite_or_none(pyxirr.xirr(ds, flows))
    except pyxirr.InvalidPaymentsError:
        return None


def _solve(f, low: float = -0.999999, high: float = 1e6, tol: float = 1e-12) -> float | None:
    """A root of the NPV function ``f`` in (low, high) by bisection (used where pyxirr is missing):
    slower than pyxirr's Newton steps but certain, and accurate far beyond Excel's 1e-8."""
    f_low, f_high = f(low), f(high)
    if f_low == 0:
        return low
    if f_low * f_high > 0:
        return None
    for _ in range(400):
        mid = (low + high) / 2
        f_mid = f(mid)
        if f_mid == 0 or high - low < tol * max(1.0, abs(mid)):
            return mid
        if (f_mid > 0) == (f_low > 0):
            low, f_low = mid, f_mid
        else:
            high = mid
    return (low + high) / 2


def mirr(values: Sequence[object], finance_rate: object, reinvest_rate: object) -> float | None:
    """Modified internal rate of return of periodic cash flows, like Excel's ``MIRR``.

    Parameters
    ----------
    values : sequence of numbers
        Cash flows at periods 0, 1, …, n-1, outflows negative.
    finance_rate : number
        Rate paid on the money used (applied to the negative flows), per period.
    reinvest_rate : number
        Rate earned on the positive flows when reinvested, per period.

    Returns
    -------
    float or None
        The rate per period; ``None`` where Excel shows ``#DIV/0!`` (no positive or no negative value).

    Notes
    -----
    .. math:: MIRR = \\left(\\frac{\\sum_{v_i>0} v_i (1+r_r)^{n-1-i}}
                                 {-\\sum_{v_i<0} v_i (1+r_f)^{-i}}\\right)^{1/(n-1)} - 1

    (future value of the inflows over present value of the outflows), computed in Decimal (34 digits)
    and returned as a float, like :func:`irr`.

    References
    ----------
    Microsoft, "MIRR function", https://support.microsoft.com/en-us/office/mirr-function-b020f038-7492-4fb4-93c1-35c345b53524

    Examples
    --------
    numpy-financial's test values (``TestMirr::test_mirr``: 0.0666 and 0.126094):

    >>> round(mirr([-4500, -800, 800, 800, 600, 600, 800, 800, 700, 3000], "0.08", "0.055"), 4)
    0.0666
    >>> round(mirr([-120000, 39000, 30000, 21000, 37000, 46000], "0.10", "0.12"), 6)
    0.126094
    """
    vs = _values(values)
    fr = _rate(finance_rate, "finance_rate")
    rr = _rate(reinvest_rate, "reinvest_rate")
    if not _has_both_signs(vs):
        return None
    n = len(vs)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        fv_in = sum((v * (ONE + rr) ** (n - 1 - i) for i, v in enumerate(vs) if v > 0), ZERO)
        pv_out = sum((v / (ONE + fr) ** i for i, v in enumerate(vs) if v < 0), ZERO)
        result = (fv_in / -pv_out) ** (ONE / (n - 1)) - ONE
    return float(result)
