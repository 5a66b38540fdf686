"""Penny-exact splits: the largest-remainder method, over Decimals (``largest_remainder``) and as a SQL
query over a table of items (``split_sql``).

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


#: Weights are scaled to this many bits (relative to the group's largest) before the exact split.
_WEIGHT_BITS = 50
_MONEY = "DECIMAL(38,12)"


def split_sql(source: str, *, group: Sequence[str], order: Sequence[str], total: str, weight: str) -> str:
    """A query splitting a total among items by weight, exactly, with the largest-remainder method.

    Parameters
    ----------
    source : str
        A relation (name or parenthesised query) with one row per item.
    group : sequence of str
        Columns naming the whole that is split (one split per distinct value).
    order : sequence of str
        Columns that break ties between equal remainders (ascending): deterministic.
    total : str
        Expression of the whole, DECIMAL(38,12), the same on every row of a group; |total| < 1e11.
    weight : str
        Expression of the item's weight, ≥ 0 (negative counts as 0).

    Returns
    -------
    str
        ``SELECT`` of every column of ``source`` plus ``amount DECIMAL(38,12)``, with Σ amount =
        total per group exactly. ``amount`` is NULL when a non-zero total has only zero weights.

    Notes
    -----
    In units of 1e-12: weights are scaled to integers of ``_WEIGHT_BITS`` bits relative to the
    group's largest (the split is exact for those integer weights, which differ from the given
    ones by at most 2⁻⁵⁰ relative); each part is ⌊|total| × wᵢ / Σw⌋ units; the units left over go
    one each to the largest remainders (ties by ``order``); a negative total is split as its
    absolute value and negated, so credits split like costs. All integer arithmetic is HUGEINT:
    |total| < 1e23 units and weights ≤ 2⁵⁰ keep every product below 2¹²⁷.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> items = "(SELECT * FROM (VALUES ('x', 'a', 1), ('x', 'b', 1), ('x', 'c', 1)) v(pool, name, w))"
    >>> sql = split_sql(items, group=["pool"], order=["name"], total="100", weight="w")
    >>> con.execute(f"SELECT name, amount FROM ({sql}) ORDER BY name").fetchall()  # doctest: +NORMALIZE_WHITESPACE
    [('a', Decimal('33.333333333334')), ('b', Decimal('33.333333333333')),
     ('c', Decimal('33.333333333333'))]
    """
    g = ", ".join(group)
    o = ", ".join(order)
    scale = float(2 ** _WEIGHT_BITS)
    return f"""
        WITH lr_in AS (
            SELECT *, CAST(CAST({total} AS {_MONEY}) * 1000000000000 AS HUGEINT) AS lr_total,
                   greatest(CAST({weight} AS DOUBLE), 0) AS lr_w
            FROM {source}
        ), lr_q AS (
            SELECT *, CASE WHEN lr_w > 0
                           THEN CAST(round(lr_w / max(lr_w) OVER lr_g * {scale}) AS HUGEINT)
                           ELSE CAST(0 AS HUGEINT) END AS lr_wq
            FROM lr_in WINDOW lr_g AS (PARTITION BY {g})
        ), lr_f AS (
            SELECT *, (abs(lr_total) * lr_wq) // nullif(sum(lr_wq) OVER lr_g, 0) AS lr_floor,
                      (abs(lr_total) * lr_wq) % nullif(sum(lr_wq) OVER lr_g, 0) AS lr_rem
            FROM lr_q WINDOW lr_g AS (PARTITION BY {g})
        ), lr_r AS (
            SELECT *, abs(lr_total) - sum(lr_floor) OVER (PARTITION BY {g}) AS lr_left,
                   row_number() OVER (PARTITION BY {g} ORDER BY lr_rem DESC, {o}) AS lr_rank
            FROM lr_f
        )
        SELECT * EXCLUDE (lr_total, lr_w, lr_wq, lr_floor, lr_rem, lr_left, lr_rank),
               CASE WHEN lr_total = 0 THEN CAST(0 AS {_MONEY})
                    ELSE CAST(CAST(sign(lr_total) * (lr_floor + CASE WHEN lr_rank <= lr_left THEN 1 ELSE 0 END)
                                   AS DECIMAL(38,0)) * 0.000000000001 AS {_MONEY}) END AS amount
        FROM lr_r"""
