"""Pricing a design model: each alternative's monthly cost, its NPV against the baseline, the
break-even month and a tornado of the main assumptions.

Conventions (the same as :mod:`finops_xl.commitments.valuation`):

- **Dates.** Period 0 is the first day of ``start`` (one-off migration costs of month 0); month
  ``k`` (1 … ``months``) is dated at its end, ``EDATE(start, k)``: cloud bills are paid in arrears.
- **Flows** of an alternative against the baseline: ``baseline cost − alternative cost −
  migration`` per period, so savings are positive and migration costs negative.
- **NPV** is :func:`~finops_xl.commitments.valuation.xnpv` of those dated flows at the model's
  annual ``discount_rate`` (Excel's XNPV: days ÷ 365). Positive: the alternative is worth doing.
- **Break-even month** (GLOSSARY): the first month ``k ≥ 1`` in which the cumulative flows,
  migration included, turn non-negative — undiscounted; ``None`` if never within the horizon.
- **Tornado**: each assumption, stated price, bill price and driver growth moved by ``±
  sensitivity`` (× (1 − s) and × (1 + s)) alone, the NPV of each alternative recomputed; sorted by
  the swing.

Money is Decimal with 34 significant digits, not rounded: round only to present.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal, localcontext

from finops_xl.commitments.valuation import xnpv
from finops_xl.design.model import Alternative, Component, DesignModel, Quantity
from finops_xl.design.prices import Price, PriceBookRow, assumed, find
from finops_xl.months import edate

__all__ = ["AlternativeResult", "ComponentLine", "DesignResult", "TornadoBar", "evaluate",
           "resolve_prices", "tornado"]

ZERO, ONE = Decimal(0), Decimal(1)
_PRECISION = 34


@dataclasses.dataclass(frozen=True)
class ComponentLine:
    """One component of an alternative: its quantity and cost per month (1 … months)."""

    component: Component
    price: Price
    commitment_factor: Decimal
    quantities: tuple[Decimal, ...]
    costs: tuple[Decimal, ...]


@dataclasses.dataclass(frozen=True)
class AlternativeResult:
    name: str
    lines: tuple[ComponentLine, ...]
    monthly: tuple[Decimal, ...]          # operating cost, months 1 … n
    migration: tuple[Decimal, ...]        # one-off costs, periods 0 … n
    flows: tuple[Decimal, ...] | None     # against the baseline, periods 0 … n (None: baseline)
    npv: Decimal | None
    breakeven_month: int | None

    @property
    def total(self) -> Decimal:
        return sum(self.monthly, ZERO) + sum(self.migration, ZERO)


@dataclasses.dataclass(frozen=True)
class TornadoBar:
    alternative: str
    parameter: str
    base_value: Decimal
    low_value: Decimal
    high_value: Decimal
    npv_low: Decimal
    npv_high: Decimal

    @property
    def swing(self) -> Decimal:
        return abs(self.npv_high - self.npv_low)


@dataclasses.dataclass(frozen=True)
class DesignResult:
    model: DesignModel
    prices: dict[str, Price]
    dates: tuple            # periods 0 … n
    drivers: dict[str, tuple[Decimal, ...]]   # value per month 1 … n
    alternatives: tuple[AlternativeResult, ...]

    def alternative(self, name: str) -> AlternativeResult:
        return next(a for a in self.alternatives if a.name == name)


def resolve_prices(model: DesignModel, book: tuple[PriceBookRow, ...] | None) -> dict[str, Price]:
    """Each named price of ``model``: from ``book`` when it has the key, else the stated price
    (an assumption). Raises ValueError (one line) when neither exists."""
    out = {}
    for spec in model.prices:
        found, why = None, "stated in the model"
        if spec.key is not None and book:
            try:
                found = find(book, spec.key, spec.region, spec.pricing, spec.kind, spec.unit)
            except ValueError as exc:
                if spec.price is None:
                    raise ValueError(f"{model.source}: prices.{spec.name}: {exc}") from None
                why = ("stated in the model: the bill has no such price" if "has no price" in str(exc)
                       else f"stated in the model: the bill's price is ambiguous ({str(exc).split(': give')[0]})")
            if found is not None and found.currency != model.currency:
                raise ValueError(f"{model.source}: prices.{spec.name}: the bill prices {spec.key!r} in "
                                 f"{found.currency}, the model is in {model.currency}; set currency: "
                                 f"{found.currency} in the model, or state the price without sku/service")
        elif spec.key is not None:
            why = "stated in the model (no store given)"
        if found is None:
            if spec.price is None:
                raise ValueError(f"{model.source}: prices.{spec.name}: no store given to look up "
                                 f"{spec.key!r}; pass --store, or add price: a number (an assumption)")
            found = dataclasses.replace(assumed(spec.key or spec.name, spec.price, spec.unit, why),
                                        region=spec.region, pricing=spec.pricing)
        out[spec.name] = found
    return out


def _value(q: Quantity, assumptions: dict[str, Decimal]) -> Decimal:
    v = ONE
    for op, term in q.terms:
        x = assumptions[term] if isinstance(term, str) else term
        v = v * x if op == "*" else v / x
    return v


def driver_values(model: DesignModel, growth: dict[str, Decimal] | None = None) -> dict[str, tuple]:
    out = {}
    for d in model.drivers:
        g = d.monthly_growth if growth is None or d.name not in growth else growth[d.name]
        events = {e.month: e.change for e in d.events}
        values, v = [], d.start
        for m in range(1, model.months + 1):
            if m > 1:
                v = v * (ONE + g) * (ONE + events.get(m, ZERO))
            values.append(v)
        out[d.name] = tuple(values)
    return out


def _quantities(c: Component, model: DesignModel, assumptions, drivers) -> tuple[Decimal, ...]:
    try:
        return _quantities_of(c, model, assumptions, drivers)
    except (ArithmeticError, ZeroDivisionError):
        raise ValueError(f"{model.source}: component {c.name!r} ({c.kind}): its quantity divides by 0; "
                         "give the divisor (per, node_vcpu, bin_packing or a / term) a value above 0") from None


def _quantities_of(c: Component, model: DesignModel, assumptions, drivers) -> tuple[Decimal, ...]:
    f = {name: _value(q, assumptions) for name, q in c.fields}
    extra = ONE
    for name in ("replicas", "zones", "regions"):
        extra *= f.get(name, ONE)
    per = f.get("per", ONE)
    out = []
    for m in range(1, model.months + 1):
        if not c.first <= m <= c.last:
            out.append(ZERO)
            continue
        index = ONE if c.scales_with is None else drivers[c.scales_with][m - 1] / drivers[c.scales_with][0]
        if c.kind == "kubernetes":
            nodes = Decimal(math.ceil(f["vcpu"] * index / (f["node_vcpu"] * f["bin_packing"])))
            q = nodes * f["hours"]
            out.append(q * extra / per)
        else:
            q = ONE
            for name, _ in c.fields:
                if name not in ("replicas", "zones", "regions", "per"):
                    q *= f[name]
            out.append(q * index * extra / per)
    return tuple(out)


def _alternative(alt: Alternative, model: DesignModel, prices, assumptions, drivers) -> tuple:
    option = model.commitment(alt.commitment)
    lines = []
    for c in alt.components:
        factor = ONE - option.coverage * option.discount if option and c.kind in option.applies_to else ONE
        qs = _quantities(c, model, assumptions, drivers)
        price = prices[c.price].unit_price
        lines.append(ComponentLine(c, prices[c.price], factor, qs, tuple(q * price * factor for q in qs)))
    monthly = tuple(sum((ln.costs[m] for ln in lines), ZERO) for m in range(model.months))
    migration = [ZERO] * (model.months + 1)
    for mg in alt.migration:
        migration[mg.month] += mg.amount
    return tuple(lines), monthly, tuple(migration)


def evaluate(model: DesignModel, prices: dict[str, Price], *, assumptions: dict[str, Decimal] | None = None,
             growth: dict[str, Decimal] | None = None) -> DesignResult:
    """Price every alternative of ``model`` with ``prices`` (from :func:`resolve_prices`);
    ``assumptions`` / ``growth`` override the model's values (the tornado uses them)."""
    values = {name: v for name, v, _ in model.assumptions}
    values.update(assumptions or {})
    dates = tuple(edate(model.start, k) for k in range(model.months + 1))
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        drivers = driver_values(model, growth)
        priced = {a.name: _alternative(a, model, prices, values, drivers) for a in model.alternatives}
        base_monthly, base_migration = priced[model.baseline][1], priced[model.baseline][2]
        base_costs = (base_migration[0], *(m + x for m, x in zip(base_monthly, base_migration[1:])))
        results = []
        for a in model.alternatives:
            lines, monthly, migration = priced[a.name]
            flows = npv = breakeven = None
            if a.name != model.baseline:
                costs = (migration[0], *(m + x for m, x in zip(monthly, migration[1:])))
                flows = tuple(b - c for b, c in zip(base_costs, costs))
                npv = xnpv(model.discount_rate, flows, dates)
                cumulative = ZERO
                for k, f in enumerate(flows):
                    cumulative += f
                    if k >= 1 and cumulative >= 0:
                        breakeven = k
                        break
            results.append(AlternativeResult(a.name, lines, monthly, migration, flows, npv, breakeven))
    return DesignResult(model, prices, dates, drivers, tuple(results))


def tornado(model: DesignModel, prices: dict[str, Price]) -> tuple[TornadoBar, ...]:
    """Each main assumption moved by ± ``model.sensitivity`` alone: the NPV of each alternative
    against the baseline at the low and the high value, widest swing first."""
    s = model.sensitivity
    lo, hi = ONE - s, ONE + s
    base = evaluate(model, prices)
    cases = []  # (parameter, base value, evaluate kwargs for a factor)
    for name, v, _ in model.assumptions:
        cases.append((f"assumption {name}", v, lambda f, n=name, v=v: evaluate(model, prices, assumptions={n: v * f})))
    for pname, p in prices.items():
        cases.append((f"price {pname}", p.unit_price,
                      lambda f, n=pname, p=p: evaluate(model, {**prices, n: dataclasses.replace(p, unit_price=p.unit_price * f)})))
    for d in model.drivers:
        cases.append((f"growth {d.name}", d.monthly_growth,
                      lambda f, n=d.name, g=d.monthly_growth: evaluate(model, prices, growth={n: g * f})))
    bars = []
    for label, value, run in cases:
        low, high = run(lo), run(hi)
        for a in base.alternatives:
            if a.npv is None:
                continue
            bars.append(TornadoBar(a.name, label, value, value * lo, value * hi,
                                   low.alternative(a.name).npv, high.alternative(a.name).npv))
    return tuple(sorted(bars, key=lambda b: (b.alternative, -b.swing, b.parameter)))
