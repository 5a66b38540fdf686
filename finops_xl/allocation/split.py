"""Penny-exact splits: the largest-remainder method.

Parameters/Returns/Notes/Examples follow numpy-financial's docstring order.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal, localcontext


def largest_remainder(total: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` into parts that are multiples of ``quantum`` and
    add up to ``total`` exactly.

    Parameters
    ----------
    total : Decimal
        The amount to split; a multiple of ``quantum`` (negative for credits).
    weights : sequence of Decimal
        Non-negative weights, not all zero.
    quantum : Decimal
        The smallest unit, e.g. ``Decimal("0.01")``.

    Returns
    -------
    list of Decimal
        One part per weight; ``sum(parts) == total``.

    Notes
    -----
    Each exact share ``total × wᵢ / Σw`` is rounded toward zero to ``quantum``; the units left over
    go one each to the shares with the largest remainders (ties: the earlier weight first).
    A negative total is split as its absolute value, then negated, so credits split the same way.

    Examples
    --------
    >>> largest_remainder(Decimal("100.00"), [Decimal(1)] * 3, Decimal("0.01"))
    [Decimal('33.34'), Decimal('33.33'), Decimal('33.33')]
    >>> largest_remainder(Decimal("-10.00"), [Decimal(1), Decimal(3)], Decimal("0.01"))
    [Decimal('-2.50'), Decimal('-7.50')]
    """
    weights = [Decimal(w) for w in weights]
    if not weights:
        raise ValueError("no weights to split by")
    if any(w < 0 for w in weights):
        raise ValueError("weights cannot be negative")
    total_w = sum(weights, Decimal(0))
    if total_w == 0:
        raise ValueError("weights sum to zero")
    sign = -1 if total < 0 else 1
    units = int((abs(total) / quantum).to_integral_value(rounding=ROUND_FLOOR))
    if Decimal(units) * quantum != abs(total):
        raise ValueError(f"total {total} is not a multiple of {quantum}")
    with localcontext() as ctx:
        ctx.prec = 100  # exact enough for 1e-12 units of any realistic amount
        exact = [Decimal(units) * w / total_w for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * Decimal(f) * quantum for f in floors]
