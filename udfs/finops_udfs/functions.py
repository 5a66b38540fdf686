"""The ``FINOPS.*`` worksheet functions: convert Excel values, ask ``finops_xl``, convert back.

No finance logic lives here. Names, argument help and descriptions come from ``registry``.
"""

from __future__ import annotations

import sys

import xlwings as xw

from finops_udfs import convert
from finops_udfs.convert import ArgumentError
from finops_udfs.errors import excel_errors
from finops_udfs.registry import NAMESPACE, Function, function
from finops_xl.query.costs import CostQueries, queries_for
from finops_xl.query.dimensions import METRICS, is_metric

_IN_BROWSER = sys.platform == "emscripten"  # xlwings Lite (Pyodide)


def excel_function(spec: Function):
    """Decorator: register a Python function for every xlwings runtime from its registry entry."""

    def deco(f):
        f = excel_errors(spec.officejs_name)(f)
        f.__doc__ = spec.summary
        for a in reversed(spec.args):
            f = xw.arg(a.name, doc=a.doc)(f)
        return xw.func(name=spec.name, namespace=NAMESPACE)(f)

    return deco


def _queries(store) -> CostQueries:
    if _IN_BROWSER:
        raise ArgumentError("the cost store is on your computer, which xlwings Lite (in the "
                            "browser) cannot open: use the classic add-in or xlwings Server")
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
