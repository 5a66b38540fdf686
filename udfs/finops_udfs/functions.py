"""The ``FINOPS.*`` worksheet functions: convert Excel values, ask ``finops_xl``, convert back.

No finance logic lives here. Names, argument help and descriptions come from ``registry``.
The store is imported only by the functions that read it, so that the pure ones (FINOPS.ALLOCATE)
also run where DuckDB cannot be installed (xlwings Lite in the browser).
"""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_EVEN, Decimal

import xlwings as xw

from finops_udfs import convert
from finops_udfs.convert import ArgumentError
from finops_udfs.errors import excel_errors
from finops_udfs.registry import NAMESPACE, Function, function
from finops_xl.allocation.split import largest_remainder

_IN_BROWSER = sys.platform == "emscripten"  # xlwings Lite (Pyodide)


def excel_function(spec: Function):
    """Decorator: register a Python function for every xlwings runtime from its registry entry."""

    def deco(f):
        f = excel_errors(spec.officejs_name)(f)
        f.__doc__ = spec.summary
        for a in reversed(spec.args):
            f = xw.arg(a.name, doc=a.doc, **({"ndim": a.ndim} if a.ndim else {}))(f)
        return xw.func(name=spec.name, namespace=NAMESPACE)(f)

    return deco


def _queries(store):
    if _IN_BROWSER:
        raise ArgumentError("the cost store is on your computer, which xlwings Lite (in the "
                            "browser) cannot open: use the classic add-in or xlwings Server")
    from finops_xl.query.costs import queries_for

    path = convert.to_text(store, "store", optional=True)
    return queries_for(path)


def _split_filters(args) -> tuple[dict[str, list[str]], object, object]:
    """Filters, the store and the metric from repeating dimension/value arguments."""
    found, leftover = convert.pairs(args)
    filters: dict[str, list[str]] = {}
    store = metric = None
    for dim, value in found:
        key = convert.to_text(dim, "a filter dimension", optional=True)
        if key is None:
            continue
        if key.lower() == "store":
            store = value
        elif key.lower() == "metric":
            metric = value
        else:
            values = convert.to_values(value)
            if not values:
                raise ArgumentError(f"the filter {key!r} has no value")
            filters.setdefault(key, []).extend(values)
    if leftover is not None:
        from finops_xl.query.dimensions import METRICS, is_metric

        text = convert.to_text(leftover, "metric")
        if metric is not None or not is_metric(text):
            raise ArgumentError(
                f"the filter {text!r} has no value (filters come as dimension, value pairs; "
                f"a single last value is read as the metric: {', '.join(METRICS)})")
        metric = text
    return filters, store, metric


@excel_function(function("COST"))
def FINOPS_COST(start, end, *filters):
    filters_, store, metric = _split_filters(filters)
    amount = _queries(store).cost(
        convert.to_date(start, "start"), convert.to_date(end, "end"), filters_,
        convert.to_text(metric, "metric", optional=True),
    )
    return convert.number(amount)


@excel_function(function("COSTTABLE"))
def FINOPS_COSTTABLE(start, end, rows, *options):
    options = list(options)
    columns = convert.to_text(options[0], "columns", optional=True) if options else None
    metric = convert.to_text(options[1], "metric", optional=True) if len(options) > 1 else None
    filters_, store, metric_pair = _split_filters(options[2:])
    result = _queries(store).cost_table(
        convert.to_date(start, "start"), convert.to_date(end, "end"),
        convert.to_text(rows, "rows"), columns,
        metric or convert.to_text(metric_pair, "metric", optional=True), filters_,
    )
    return convert.table(result.header, result.rows)


@excel_function(function("DIMENSIONS"))
def FINOPS_DIMENSIONS(store=None):
    return convert.table(("dimension", "description"), _queries(store).dimensions())


@excel_function(function("VALUES"))
def FINOPS_VALUES(dimension, store=None):
    values = _queries(store).values(convert.to_text(dimension, "dimension"))
    if not values:
        raise ArgumentError(f"the store has no values of {dimension!r}")
    return [[v] for v in values]


@excel_function(function("ALLOCATE"))
def FINOPS_ALLOCATE(amount, weights, decimals=None):
    places = 2 if convert.is_empty(decimals) and decimals != 0 else convert.to_integer(decimals, "decimals")
    if not 0 <= places <= 12:
        raise ArgumentError("decimals must be between 0 and 12")
    quantum = Decimal(1).scaleb(-places)
    total = convert.to_decimal(amount, "amount").quantize(quantum, rounding=ROUND_HALF_EVEN)
    values = convert.to_decimals(weights, "weights")
    if any(w < 0 for w in values):
        raise ArgumentError("weights cannot be negative")
    if sum(values, Decimal(0)) == 0:
        raise ArgumentError("the weights add up to 0: give at least one positive weight")
    parts = [convert.number(p) for p in largest_remainder(total, values, quantum)]
    return convert.like(weights, parts)


@excel_function(function("ALLOCATION_COVERAGE"))
def FINOPS_ALLOCATION_COVERAGE(month, store=None):
    from finops_xl.allocation.showback import monthly_coverage

    day = convert.to_date(month, "month")
    cov = monthly_coverage(_queries(store).store, day)
    return [["measure", "value"], ["direct", float(cov.direct)], ["shared", float(cov.shared)],
            ["unallocated", float(cov.unallocated)], ["allocated", float(cov.allocated)],
            ["maturity", cov.maturity]]
