"""Money is exact: Decimal in Python, DECIMAL(38,12) in the store, rounded only to present or post.

Rounding is half-even (banker's rounding) to the currency's minor unit, as accounting systems do.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

ZERO = Decimal(0)
CENT = Decimal("0.01")

#: ISO 4217 currencies whose minor unit is not 2 decimals (others: 2).
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4, "UYW": 4,
}


def minor_unit(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit (2 unless ISO 4217 says otherwise)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def round_money(amount: Decimal, currency: str = "USD") -> Decimal:
    """``amount`` rounded half-even to the currency's minor unit.

    >>> round_money(Decimal("2.345")), round_money(Decimal("2.355")), round_money(Decimal("7.5"), "JPY")
    (Decimal('2.34'), Decimal('2.36'), Decimal('8'))
    """
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal, currency: str = "USD") -> str:
    """``amount`` rounded for display with thousands separators, e.g. ``1,234.50``.

    >>> format_money(Decimal("-1234.505"))
    '-1,234.50'
    """
    places = minor_unit(currency)
    return f"{round_money(amount, currency):,.{places}f}"


def to_decimal(x: object, name: str) -> Decimal:
    """``x`` (Decimal, int, float by its shortest repr, or numeric text) as a finite Decimal, or a
    ValueError naming the argument ``name``.

    >>> to_decimal(1.29, "rate"), to_decimal("2", "n")
    (Decimal('1.29'), Decimal('2'))
    """
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a number, got a bool ({x!r})")  # noqa: TRY004 - bad input is a ValueError here
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, int):
        d = Decimal(x)
    elif isinstance(x, float):
        d = Decimal(repr(x)) if math.isfinite(x) else Decimal("NaN")
    elif isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except InvalidOperation:
            raise ValueError(f"{name} must be a number, got {x!r}") from None
    else:
        raise ValueError(f"{name} must be a number, got {type(x).__name__} {x!r}")  # noqa: TRY004 - bad input is a ValueError here
    if not d.is_finite():
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return d
