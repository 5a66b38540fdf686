"""GPU / LLM unit economics: reference vectors (GMI Cloud, R. Kashyap, DeepSeek-V3, hand), bad input,
properties (hypothesis). Sources: tests/data/gpu/README.md."""

from __future__ import annotations

import csv
import doctest
import json
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finops_xl.planning import gpu
from finops_xl.planning.gpu import (
    compare_architectures,
    self_hosted_breakeven_tokens,
    token_cost_per_million,
    training_run_cost,
)

D = Decimal
VECTORS = Path(__file__).parent / "data" / "gpu" / "vectors.csv"
QUANTUM = D("1e-12")


# --------------------------------------------------------------------------------------------------
# Reference vectors (tests/data/gpu/README.md cites each source)
# --------------------------------------------------------------------------------------------------


def _vectors():
    with VECTORS.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_vectors_cite_a_known_source():
    readme = (VECTORS.parent / "README.md").read_text(encoding="utf-8")
    rows = _vectors()
    assert len({v["id"] for v in rows}) == len(rows)
    for v in rows:
        assert f"**{v['source']}**" in readme, v["id"]


@pytest.mark.parametrize("v", _vectors(), ids=lambda v: v["id"])
def test_reference_vector(v):
    name, _, field = v["function"].partition(".")
    result = getattr(gpu, name)(**json.loads(v["args"]))
    if field:
        result = getattr(result, field)
    compare, _, arg = v["compare"].partition(":")
    if compare == "exact":
        assert isinstance(result, Decimal)
        assert result == D(v["expected"])
        assert result.as_tuple().exponent == -12  # quantized to 1e-12
    elif compare == "decimals":
        assert result.quantize(D(1).scaleb(-int(arg)), rounding=ROUND_HALF_EVEN) == D(
            v["expected"]
        )
    elif compare == "bool":
        assert result is (v["expected"] == "True")
    else:  # pragma: no cover - a typo in vectors.csv
        pytest.fail(f"unknown compare {v['compare']!r}")


def test_doctests():
    failures, tried = doctest.testmod(gpu)
    assert tried >= 10 and failures == 0


def test_float_arguments_are_read_through_repr():
    # 1.29 as a binary float is 1.2900000000000000355...; read as Decimal("1.29") it matches the vector.
    assert token_cost_per_million(1.29, 2400.0) == D("0.149305555556")


# --------------------------------------------------------------------------------------------------
# Bad input: ValueError naming the argument
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [0, -1, "-0.5", "abc", float("nan"), float("inf"), None, True, [1]]
)
@pytest.mark.parametrize("arg", ["gpu_hourly", "tokens_per_second"])
def test_token_cost_rejects_bad_input(arg, bad):
    kwargs = {"gpu_hourly": "2", "tokens_per_second": "85", arg: bad}
    with pytest.raises(ValueError, match=arg):
        token_cost_per_million(**kwargs)


@pytest.mark.parametrize("bad", [0, -0.1, "1.01", 2, "70"])
def test_utilization_must_be_a_fraction(bad):
    for call in (
        lambda: token_cost_per_million(2, 85, utilization=bad),
        lambda: training_run_cost(8, 100, 2, utilization=bad),
        lambda: self_hosted_breakeven_tokens(2, 85, 10, utilization=bad),
    ):
        with pytest.raises(
            ValueError, match=r"utilization must be a fraction in \(0, 1\]"
        ):
            call()


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"gpu_count": 0}, "gpu_count"),
        ({"gpu_count": -8}, "gpu_count"),
        ({"gpu_count": "2.5"}, "gpu_count"),
        ({"hours": 0}, "hours"),
        ({"hours": "-1"}, "hours"),
        ({"gpu_hourly": 0}, "gpu_hourly"),
        ({"gpu_hourly": -2}, "gpu_hourly"),
        ({"failed_run_overhead": "-0.1"}, "failed_run_overhead"),
        ({"failed_run_overhead": "x"}, "failed_run_overhead"),
    ],
)
def test_training_run_rejects_bad_input(kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        training_run_cost(**{"gpu_count": 8, "hours": 100, "gpu_hourly": 2, **kwargs})


@pytest.mark.parametrize(
    "arg",
    ["gpu_hourly", "tokens_per_second", "api_price_per_million", "hours_per_month"],
)
@pytest.mark.parametrize("bad", [0, "-1"])
def test_breakeven_rejects_bad_input(arg, bad):
    kwargs = {
        "gpu_hourly": 2,
        "tokens_per_second": 85,
        "api_price_per_million": 10,
        arg: bad,
    }
    with pytest.raises(ValueError, match=arg):
        self_hosted_breakeven_tokens(**kwargs)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([("gpu", (1, 2))], {}, "a must be a mapping"),
        ({}, {"gpu": (1,)}, r"b\['gpu'\] must be a \(unit_price, volume\) pair"),
        ({}, {"gpu": "12"}, r"b\['gpu'\] must be a \(unit_price, volume\) pair"),
        ({"gpu": ("-1", 2)}, {}, r"a\['gpu'\] unit_price must be 0 or more"),
        ({}, {"gpu": (1, "-2")}, r"b\['gpu'\] volume must be 0 or more"),
        ({}, {"gpu": (1, "lots")}, r"b\['gpu'\] volume must be a number"),
    ],
)
def test_compare_architectures_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        compare_architectures(a, b)


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

prices = st.decimals(min_value="0.01", max_value="1000", places=4)
rates = st.decimals(min_value="0.1", max_value="100000", places=2)
fractions = st.decimals(min_value="0.01", max_value="1", places=2)


@given(prices, rates, fractions, fractions)
def test_token_cost_falls_as_utilization_rises(p, r, u1, u2):
    lo, hi = sorted((u1, u2))
    assert token_cost_per_million(p, r, lo) >= token_cost_per_million(p, r, hi)


@given(prices, rates, fractions)
def test_token_cost_is_inversely_proportional_to_utilization(p, r, u):
    # cost(u) x u = cost(1), up to the two half-quantum roundings
    full = token_cost_per_million(p, r)
    assert abs(token_cost_per_million(p, r, u) * u - full) <= QUANTUM


@given(prices, rates, st.integers(min_value=2, max_value=64))
def test_token_cost_is_inversely_proportional_to_throughput(p, r, k):
    # k times the throughput costs 1/k as much
    assert (
        abs(token_cost_per_million(p, r * k) * k - token_cost_per_million(p, r))
        <= k * QUANTUM
    )
    assert token_cost_per_million(p, r * k) < token_cost_per_million(p, r)


@given(prices, rates, st.integers(min_value=2, max_value=10))
def test_token_cost_is_proportional_to_price(p, r, k):
    assert (
        abs(token_cost_per_million(p * k, r) - k * token_cost_per_million(p, r))
        <= k * QUANTUM
    )


@given(
    st.integers(1, 4096),
    st.decimals("0.5", "10000", places=2),
    prices,
    fractions,
    st.decimals("0", "1", places=2),
)
def test_training_cost_scales_inversely_with_utilization(n, h, p, u, o):
    full = training_run_cost(n, h, p, failed_run_overhead=o)
    assert full == n * h * p * (1 + o)  # exact at full utilization: no division
    assert abs(training_run_cost(n, h, p, u, o) * u - full) <= QUANTUM
    assert training_run_cost(n, h, p, u, o) >= full


@given(prices, rates, st.decimals("0.01", "100", places=2), fractions)
def test_breakeven_feasible_iff_self_hosting_is_cheaper_per_token(p, r, a, u):
    b = self_hosted_breakeven_tokens(p, r, a, utilization=u)
    assert b.self_hosted_cost_per_million == token_cost_per_million(p, r, u)
    # At the break-even volume the API bill equals the GPU bill.
    assert abs(b.tokens_per_month * a / 1_000_000 - b.monthly_gpu_cost) <= QUANTUM
    assert b.feasible is (
        p * 1_000_000 <= a * r * 3600 * u
    )  # exact form of cost-per-M <= API price


components = st.dictionaries(
    st.sampled_from(
        ["gpu hours", "api tokens (M)", "egress GB", "storage GB", "cpu hours"]
    ),
    st.tuples(st.decimals("0", "100", places=4), st.decimals("0", "1000000", places=2)),
    max_size=5,
)


@given(components, components)
def test_compare_architectures_ties_out_and_is_antisymmetric(a, b):
    c = compare_architectures(a, b)
    assert c.cost_a == sum((x.cost_a for x in c.components), D(0))
    assert c.cost_b == sum((x.cost_b for x in c.components), D(0))
    assert (
        c.difference
        == c.cost_b - c.cost_a
        == sum((x.difference for x in c.components), D(0))
    )
    assert {x.component for x in c.components} == set(a) | set(b)
    swapped = compare_architectures(b, a)
    assert (swapped.cost_a, swapped.cost_b, swapped.difference) == (
        c.cost_b,
        c.cost_a,
        -c.difference,
    )


def test_compare_architectures_missing_component_costs_zero():
    c = compare_architectures({"gpu hours": ("2", "730")}, {})
    assert c.components == (
        gpu.ComponentCost(
            "gpu hours", D("1460.000000000000"), D("0E-12"), D("-1460.000000000000")
        ),
    )
