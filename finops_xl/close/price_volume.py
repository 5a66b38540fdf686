"""Price and volume effects of a variance (GLOSSARY "Variance"), exact; no DuckDB, so the Excel
function FINOPS.VARIANCE runs in xlwings Lite too."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction

#: Amounts are exact to the store's 12 decimals, computed in a context wide enough for any of them.
QUANTUM = Decimal("1e-12")
EXACT = Context(prec=100)


def price_volume(actual: Decimal, actual_volume: Decimal, budget: Decimal,
                 budget_volume: Decimal) -> tuple[Decimal, Decimal] | None:
    """(price effect, volume effect) of ``actual − budget`` (GLOSSARY "Variance").

    Parameters:
      actual, actual_volume: actual cost and volume.  budget, budget_volume: budgeted ones.

    Returns:
      None when the budget volume is 0 (no budget unit price). Otherwise the two effects, which add
      up to ``actual − budget`` exactly.

    Notes:
      With unit prices pa = actual ÷ actual volume and pb = budget ÷ budget volume,
      price effect = (pa − pb) × actual volume and volume effect = (actual volume − budget volume)
      × pb. The volume effect is computed exactly (as a fraction) and rounded half-even to 1e-12;
      the price effect is the variance less it, i.e. (pa − pb) × actual volume = actual − pb ×
      actual volume to within 1e-12. With no actual volume, the whole actual cost is a price effect
      (spend at no volume) and the volume effect is − budget.

    Examples:
      >>> price_volume(Decimal("1200"), Decimal("100"), Decimal("1000"), Decimal("125"))
      (Decimal('400.000000000000'), Decimal('-200.000000000000'))
    """
    if budget_volume == 0:
        return None
    pb = Fraction(budget) / Fraction(budget_volume)
    exact = (Fraction(actual_volume) - Fraction(budget_volume)) * pb
    with localcontext(EXACT):
        volume = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(QUANTUM, ROUND_HALF_EVEN)
        price = (actual - budget) - volume
    return price, volume


# ---- budget vs actual ------------------------------------------------------------------------------
