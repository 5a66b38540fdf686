"""GPU and LLM unit economics: cost per million tokens, training runs, self-hosting break-even.

One function per concept:

1. :func:`token_cost_per_million` -- what one million generated tokens cost on a rented GPU.
2. :func:`training_run_cost` -- what a training run costs, with idle time and failed-run overhead.
3. :func:`self_hosted_breakeven_tokens` -- the monthly token volume at which a self-hosted GPU costs the
   same as a pay-per-token API, and whether the GPU can produce that many tokens.
4. :func:`compare_architectures` -- monthly cost of two bills of materials (unit price x volume per
   component), side by side.

Conventions, stated once:

- **Money is Decimal.** Arguments accept ``Decimal``, ``int``, ``str`` or ``float`` (a float is read
  through its shortest ``repr``, so ``1.29`` means ``Decimal("1.29")``). Results are ``Decimal``, computed
  with 34 significant digits and quantized half-even to ``1e-12`` (:data:`QUANTUM`, the store's
  ``DECIMAL(38,12)`` scale). Nothing is rounded to cents here: round with
  :func:`finops_xl.money.round_money` only to present or post.
- **Utilization** is a fraction in ``(0, 1]`` (``0.7`` for 70%), never a percent. It is the share of paid
  GPU time doing useful work, so every cost is divided by it.
- **Throughput** is sustained aggregate output tokens per second per GPU (all batched streams together),
  as measured on your own model -- not a marketing peak.
- **Bad input** raises ``ValueError`` naming the argument. Pure Python (no DuckDB, no compiled wheels), so
  it runs in xlwings Lite (Pyodide).

What this module does not do: it does not split input from output tokens, price host CPU, storage or
egress, or model batching; fold those into ``gpu_hourly`` and ``tokens_per_second`` yourself.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import NamedTuple

from finops_xl.money import to_decimal as _dec

__all__ = [
    "HOURS_PER_MONTH",
    "QUANTUM",
    "SECONDS_PER_HOUR",
    "TOKENS_PER_MILLION",
    "ArchitectureComparison",
    "Breakeven",
    "ComponentCost",
    "compare_architectures",
    "self_hosted_breakeven_tokens",
    "token_cost_per_million",
    "training_run_cost",
]

ZERO = Decimal(0)
ONE = Decimal(1)
#: Results are quantized (half-even) to this step: 12 decimals, the store's DECIMAL(38,12) scale.
QUANTUM = Decimal("1e-12")
SECONDS_PER_HOUR = Decimal(3600)
TOKENS_PER_MILLION = Decimal(1_000_000)
#: Average hours in a month: 8,760 h a year / 12 (the convention cloud price sheets use).
HOURS_PER_MONTH = Decimal(730)
_PRECISION = 34  # significant digits of the intermediate arithmetic


# --------------------------------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------------------------------


def _positive(x: object, name: str) -> Decimal:
    d = _dec(x, name)
    if d <= 0:
        raise ValueError(f"{name} must be greater than 0, got {x!r}")
    return d


def _non_negative(x: object, name: str) -> Decimal:
    d = _dec(x, name)
    if d < 0:
        raise ValueError(f"{name} must be 0 or more, got {x!r}")
    return d


def _utilization(x: object, name: str = "utilization") -> Decimal:
    d = _dec(x, name)
    if not ZERO < d <= ONE:
        raise ValueError(
            f"{name} must be a fraction in (0, 1] (0.7 for 70%), got {x!r}"
        )
    return d


def _q(x: Decimal) -> Decimal:
    return x.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


# --------------------------------------------------------------------------------------------------
# 1. inference: cost per million tokens
# --------------------------------------------------------------------------------------------------


def token_cost_per_million(gpu_hourly, tokens_per_second, utilization=1):
    """Cost of generating one million tokens on a GPU rented by the hour.

    Parameters
    ----------
    gpu_hourly : Decimal, int, str or float
        Price of one GPU for one hour (e.g. ``2.00`` $/GPU-hour). Must be greater than 0.
    tokens_per_second : Decimal, int, str or float
        Sustained aggregate throughput of that GPU while busy, in tokens per second. Must be greater
        than 0.
    utilization : Decimal, int, str or float, optional
        Fraction of paid hours the GPU is busy, in ``(0, 1]``. Default 1 (always busy).

    Returns
    -------
    Decimal
        Cost per 1,000,000 tokens, in the currency of ``gpu_hourly``, quantized half-even to ``1e-12``.

    Raises
    ------
    ValueError
        If an argument is not a finite number, ``gpu_hourly`` or ``tokens_per_second`` is not positive,
        or ``utilization`` is outside ``(0, 1]``. The message names the argument.

    Notes
    -----
    .. math:: c = \\frac{p}{r \\times 3600 \\times u} \\times 10^6

    where :math:`p` is ``gpu_hourly``, :math:`r` is ``tokens_per_second`` and :math:`u` is
    ``utilization``: :math:`r \\times 3600 \\times u` is the useful tokens generated per paid hour. The
    result is exact to 34 significant digits before quantizing, so it is not rounded to cents: published
    figures such as "$6.54" are this value rounded for display.

    Cost is inversely proportional to both throughput and utilization: halving either doubles it.

    References
    ----------
    .. [1] GMI Cloud, "Cost Per Million Tokens Explained: LLM Inference Cost on GPU Cloud",
       https://www.gmicloud.ai/en/blog/llm-inference-cost-per-million-tokens -- "Cost per 1M tokens =
       (GPU $/hour) / (TPS x 3,600) x 1,000,000"; $2.00/h at 85 TPS is $6.54.
    .. [2] R. Kashyap, "GPU cost per token",
       https://rahulkashyap.dev/learn/llm-serving-economics/03-gpu-cost-per-token -- $1.29/h at 2,400
       tokens/s is about $0.15 per 1M tokens at full utilization, about $0.21 at 70%.

    Examples
    --------
    >>> token_cost_per_million("2.00", 85)
    Decimal('6.535947712418')
    >>> token_cost_per_million("1.29", 2400)
    Decimal('0.149305555556')
    >>> token_cost_per_million("1.29", 2400, utilization="0.7")
    Decimal('0.213293650794')
    """
    p = _positive(gpu_hourly, "gpu_hourly")
    r = _positive(tokens_per_second, "tokens_per_second")
    u = _utilization(utilization)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return _q(p * TOKENS_PER_MILLION / (r * SECONDS_PER_HOUR * u))


# --------------------------------------------------------------------------------------------------
# 2. training: cost of a run
# --------------------------------------------------------------------------------------------------


def training_run_cost(
    gpu_count, hours, gpu_hourly, utilization=1, failed_run_overhead=0
):
    """Cost of a training run on ``gpu_count`` rented GPUs.

    Parameters
    ----------
    gpu_count : int or Decimal
        GPUs in the run; a whole number greater than 0.
    hours : Decimal, int, str or float
        Wall-clock hours the run needs if every paid GPU-hour does useful work. Must be greater than 0.
    gpu_hourly : Decimal, int, str or float
        Price of one GPU for one hour. Must be greater than 0.
    utilization : Decimal, int, str or float, optional
        Fraction of paid GPU-hours doing useful work, in ``(0, 1]`` (stalls, checkpointing, queue idle).
        Default 1.
    failed_run_overhead : Decimal, int, str or float, optional
        Extra spend on failed, crashed or restarted runs, as a fraction of the successful run's cost
        (``0.1`` for +10%). Must be 0 or more. Default 0.

    Returns
    -------
    Decimal
        Total cost, in the currency of ``gpu_hourly``, quantized half-even to ``1e-12``.

    Raises
    ------
    ValueError
        If an argument is not a finite number, ``gpu_count`` is not a whole number above 0, ``hours`` or
        ``gpu_hourly`` is not positive, ``utilization`` is outside ``(0, 1]`` or ``failed_run_overhead``
        is negative. The message names the argument.

    Notes
    -----
    .. math:: C = \\frac{n \\times h \\times p}{u} \\times (1 + o)

    :math:`n \\times h` is the productive GPU-hours; dividing by :math:`u` gives the paid GPU-hours
    (at 80% utilization, 100 productive hours take 125 paid hours); :math:`(1 + o)` adds the failed-run
    overhead on top of the whole successful run, idle time included. With the defaults the cost is just
    GPU-hours times the rate, the way published training budgets are stated ([1]_).

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, https://arxiv.org/abs/2412.19437
       -- 2.788M H800 GPU-hours on 2,048 GPUs: "Assuming the rental price of the H800 GPU is $2 per GPU
       hour, our total training costs amount to only $5.576M."

    Examples
    --------
    >>> training_run_cost(2048, "1361.328125", 2)  # 2,788,000 GPU-hours, DeepSeek-V3
    Decimal('5576000.000000000000')
    >>> training_run_cost(8, 100, "2.00", utilization="0.8", failed_run_overhead="0.1")
    Decimal('2200.000000000000')
    """
    n = _dec(gpu_count, "gpu_count")
    if n <= 0 or n != n.to_integral_value():
        raise ValueError(
            f"gpu_count must be a whole number greater than 0, got {gpu_count!r}"
        )
    h = _positive(hours, "hours")
    p = _positive(gpu_hourly, "gpu_hourly")
    u = _utilization(utilization)
    o = _non_negative(failed_run_overhead, "failed_run_overhead")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return _q(n * h * p / u * (ONE + o))


# --------------------------------------------------------------------------------------------------
# 3. self-hosting vs an API: break-even volume
# --------------------------------------------------------------------------------------------------


class Breakeven(NamedTuple):
    """Result of :func:`self_hosted_breakeven_tokens`. All amounts per month, quantized to ``1e-12``.

    Attributes
    ----------
    tokens_per_month : Decimal
        Monthly token volume at which the API bill equals the self-hosted GPU bill. Below it the API is
        cheaper; above it self-hosting is (if the GPU can keep up, see ``feasible``).
    monthly_gpu_cost : Decimal
        Fixed cost of the self-hosted GPU for the month: ``gpu_hourly x hours_per_month``.
    capacity_tokens_per_month : Decimal
        Tokens the GPU can produce in the month: ``tokens_per_second x 3600 x hours_per_month x
        utilization``.
    feasible : bool
        ``tokens_per_month <= capacity_tokens_per_month``: the GPU can produce the break-even volume. If
        False, one GPU never beats the API at this throughput and utilization.
    self_hosted_cost_per_million : Decimal
        Self-hosted cost per 1M tokens when running at capacity (:func:`token_cost_per_million`);
        ``feasible`` is equivalently ``self_hosted_cost_per_million <= api_price_per_million``.
    """

    tokens_per_month: Decimal
    monthly_gpu_cost: Decimal
    capacity_tokens_per_month: Decimal
    feasible: bool
    self_hosted_cost_per_million: Decimal


def self_hosted_breakeven_tokens(
    gpu_hourly,
    tokens_per_second,
    api_price_per_million,
    hours_per_month=HOURS_PER_MONTH,
    utilization=1,
):
    """Monthly tokens at which a self-hosted GPU costs the same as a pay-per-token API.

    Parameters
    ----------
    gpu_hourly : Decimal, int, str or float
        Price of the self-hosted GPU per hour, paid for every hour of the month whether busy or not.
        Must be greater than 0.
    tokens_per_second : Decimal, int, str or float
        Sustained aggregate throughput of the GPU while busy. Must be greater than 0.
    api_price_per_million : Decimal, int, str or float
        API price per 1M tokens (same currency). Must be greater than 0.
    hours_per_month : Decimal, int, str or float, optional
        Paid hours in the month. Default 730 (8,760 / 12). Must be greater than 0.
    utilization : Decimal, int, str or float, optional
        Fraction of the month the GPU can be busy, in ``(0, 1]``; it caps capacity only (the GPU is paid
        for all ``hours_per_month``). Default 1.

    Returns
    -------
    Breakeven
        Break-even volume, monthly GPU cost, monthly capacity, whether the capacity reaches the break-even
        volume, and the self-hosted cost per 1M tokens at capacity.

    Raises
    ------
    ValueError
        If an argument is not a finite number, is not positive, or ``utilization`` is outside ``(0, 1]``.
        The message names the argument.

    Notes
    -----
    Self-hosting is a fixed monthly cost :math:`F = p \\times H`; the API is variable,
    :math:`a \\times T / 10^6` for :math:`T` tokens at :math:`a` per million. They are equal at

    .. math:: T^* = \\frac{p \\times H}{a} \\times 10^6

    The GPU produces at most :math:`K = r \\times 3600 \\times H \\times u` tokens, so the break-even is
    reachable only if :math:`T^* \\le K`, which is the same as :math:`p / (r \\times 3600 \\times u)
    \\times 10^6 \\le a`: self-hosting at capacity must cost less per token than the API. Note that
    :math:`T^*` does not depend on throughput: throughput decides only feasibility.

    References
    ----------
    .. [1] GMI Cloud, "Cost Per Million Tokens Explained: LLM Inference Cost on GPU Cloud",
       https://www.gmicloud.ai/en/blog/llm-inference-cost-per-million-tokens (the cost-per-token
       formula compared against per-request API pricing).

    Examples
    --------
    $2/h GPU at 85 tokens/s against an API charging $10 per 1M tokens: $1,460 a month buys 146M API
    tokens; the GPU makes 223.38M, so self-hosting wins above 146M tokens a month.

    >>> b = self_hosted_breakeven_tokens(2, 85, 10)
    >>> b.tokens_per_month, b.monthly_gpu_cost, b.capacity_tokens_per_month, b.feasible
    (Decimal('146000000.000000000000'), Decimal('1460.000000000000'), Decimal('223380000.000000000000'), True)
    >>> self_hosted_breakeven_tokens(2, 85, 5).feasible  # $6.54/M at capacity > $5/M API
    False
    """
    p = _positive(gpu_hourly, "gpu_hourly")
    r = _positive(tokens_per_second, "tokens_per_second")
    a = _positive(api_price_per_million, "api_price_per_million")
    hm = _positive(hours_per_month, "hours_per_month")
    u = _utilization(utilization)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        fixed = p * hm
        tokens = fixed / a * TOKENS_PER_MILLION
        capacity = r * SECONDS_PER_HOUR * hm * u
        return Breakeven(
            tokens_per_month=_q(tokens),
            monthly_gpu_cost=_q(fixed),
            capacity_tokens_per_month=_q(capacity),
            feasible=tokens <= capacity,
            self_hosted_cost_per_million=token_cost_per_million(p, r, u),
        )


# --------------------------------------------------------------------------------------------------
# 4. comparing two architectures
# --------------------------------------------------------------------------------------------------


class ComponentCost(NamedTuple):
    """One component's monthly cost in each architecture (0 where an architecture lacks it).

    Attributes
    ----------
    component : str
        The component's name, as given in the mappings.
    cost_a, cost_b : Decimal
        ``unit_price x volume`` in architecture ``a`` and ``b``.
    difference : Decimal
        ``cost_b - cost_a``: positive when ``b`` spends more on this component.
    """

    component: str
    cost_a: Decimal
    cost_b: Decimal
    difference: Decimal


class ArchitectureComparison(NamedTuple):
    """Result of :func:`compare_architectures`.

    Attributes
    ----------
    cost_a, cost_b : Decimal
        Monthly cost of each architecture: the sum of its components' ``unit_price x volume``.
    difference : Decimal
        ``cost_b - cost_a``: positive when ``b`` costs more, negative when it saves.
    components : tuple of ComponentCost
        Per-component costs, components of ``a`` first in their order, then those only in ``b``.
        Their costs sum exactly to ``cost_a``, ``cost_b`` and ``difference``.
    """

    cost_a: Decimal
    cost_b: Decimal
    difference: Decimal
    components: tuple[ComponentCost, ...]


def _bill(arch: object, name: str) -> dict[str, Decimal]:
    if not isinstance(arch, Mapping):
        raise ValueError(  # noqa: TRY004 - bad input is a ValueError here
            f"{name} must be a mapping of component -> (unit_price, volume), got {type(arch).__name__}"
        )
    out: dict[str, Decimal] = {}
    for component, pair in arch.items():
        where = f"{name}[{component!r}]"
        if (
            isinstance(pair, (str, bytes))
            or not isinstance(pair, (tuple, list))
            or len(pair) != 2
        ):
            raise ValueError(
                f"{where} must be a (unit_price, volume) pair, got {pair!r}"
            )
        price = _non_negative(pair[0], f"{where} unit_price")
        volume = _non_negative(pair[1], f"{where} volume")
        out[str(component)] = price * volume
    return out


def compare_architectures(a, b):
    """Monthly cost of two architectures and the difference between them.

    Parameters
    ----------
    a, b : Mapping[str, tuple[unit_price, volume]]
        Each component (``"gpu hours"``, ``"api tokens (M)"``, ``"egress GB"``) mapped to its unit price
        and monthly volume in that unit. Prices and volumes are numbers of 0 or more. A component missing
        from one mapping costs 0 there.

    Returns
    -------
    ArchitectureComparison
        ``cost_a``, ``cost_b``, ``difference = cost_b - cost_a`` and the per-component breakdown, all
        quantized half-even to ``1e-12``.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not a mapping, a value is not a ``(unit_price, volume)`` pair, or a price or
        volume is negative or not a finite number. The message names the component, e.g.
        ``b['gpu hours'] volume``.

    Notes
    -----
    .. math:: C_a = \\sum_i p_{a,i} \\times v_{a,i}, \\quad C_b = \\sum_i p_{b,i} \\times v_{b,i},
              \\quad \\Delta = C_b - C_a

    Each component's product is computed exactly and quantized once; totals and differences are sums of
    those quantized amounts, so the breakdown ties out to the totals exactly.

    Examples
    --------
    API at $10 per 1M tokens for 200M tokens, against one $2/h GPU for 730 h plus 50 GB egress at $0.09:

    >>> c = compare_architectures({"api tokens (M)": ("10", 200)},
    ...                           {"gpu hours": ("2.00", 730), "egress GB": ("0.09", 50)})
    >>> c.cost_a, c.cost_b, c.difference
    (Decimal('2000.000000000000'), Decimal('1464.500000000000'), Decimal('-535.500000000000'))
    """
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        bill_a = _bill(a, "a")
        bill_b = _bill(b, "b")
        names = list(bill_a) + [k for k in bill_b if k not in bill_a]
        quantized = [
            (k, _q(bill_a.get(k, ZERO)), _q(bill_b.get(k, ZERO))) for k in names
        ]
        components = tuple(ComponentCost(k, ca, cb, cb - ca) for k, ca, cb in quantized)
        cost_a = sum((c.cost_a for c in components), ZERO)
        cost_b = sum((c.cost_b for c in components), ZERO)
        return ArchitectureComparison(
            cost_a=_q(cost_a),
            cost_b=_q(cost_b),
            difference=_q(cost_b - cost_a),
            components=components,
        )
